# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of playbooks/backup.yml and restore.yml. Each is documented in the YAML file of its
name beside this one."""

from __future__ import annotations

from ansible_collections.paddock.platform.plugins.module_utils._backup import expired, restore_problems, source


class FilterModule:
    def filters(self):
        return {"backup_source": source, "backup_expired": expired, "backup_restore_problems": restore_problems}
