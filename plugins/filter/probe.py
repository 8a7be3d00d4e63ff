# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What roles hand paddock.platform.host_probe and read from it. Each filter is documented in
the YAML file of its name beside this one."""

from __future__ import annotations

from ansible_collections.paddock.platform.plugins.module_utils._probe import (
    directories_differ,
    file_digests,
    files_differ,
    running_at_boot,
)


class FilterModule:
    def filters(self):
        return {"host_probe_files": file_digests, "host_files_differ": files_differ,
                "host_directories_differ": directories_differ,
                "host_unit_running": running_at_boot}
