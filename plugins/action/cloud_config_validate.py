# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate and merge a host's cloud-config on the controller, never touching the host."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.paddock.platform.plugins.module_utils._cloud_config_schema import check_sources


def _sources(value):
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list) else [value]


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("config", "defaults", "base_dir", "variable"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        base_dir = args.get("base_dir") or task_vars.get("inventory_dir") or "."
        variable = args.get("variable", "cloud_config")
        sources = [(s, f"{variable}_defaults") for s in _sources(args.get("defaults"))]
        sources += [(s, variable) for s in _sources(args.get("config"))]
        host = task_vars.get("inventory_hostname", "?")
        checked = check_sources(sources, base_dir)
        errors = checked["errors"]
        if errors:
            raise AnsibleActionFail(
                f"Invalid cloud-config for host {host} ({len(errors)} problem"
                f"{'s' if len(errors) > 1 else ''}):\n" + "\n".join(f"  {host}: {e}" for e in errors),
                result={"errors": [f"{host}: {e}" for e in errors]})
        for warning in checked["warnings"]:
            self._display.warning(f"{host}: {warning}")
        result.update(changed=False, cloud_config=checked["config"], sources=checked["sources"])
        return result
