# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of playbooks/backup.yml and restore.yml. Each is documented in the YAML file of its
name beside this one."""

from __future__ import annotations

from ansible_collections.paddock.platform.plugins.module_utils._backup import (
    expired,
    manifest_parts,
    part_files,
    restore_problems,
    source,
    volume_selection,
)


class FilterModule:
    def filters(self):
        return {"backup_source": source, "backup_expired": expired, "backup_restore_problems": restore_problems,
                "backup_volume_selection": volume_selection,
                "backup_manifest_parts": manifest_parts, "backup_part_files": part_files}
