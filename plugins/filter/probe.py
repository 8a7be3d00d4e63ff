# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse a role's read-only probe of a host. Documented in host_probe_state.yml beside this file."""

from __future__ import annotations

from ansible_collections.paddock.platform.plugins.module_utils._probe import parse_probe, running_at_boot


class FilterModule:
    def filters(self):
        return {"host_probe_state": parse_probe, "host_unit_running": running_at_boot}
