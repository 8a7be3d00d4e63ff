# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a host's role settings from the inventory against the roles' argument specs, on the controller."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.paddock.platform.plugins.module_utils._inventory import role_specs, variable_errors

ROLES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "roles")
_SPECS = {}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("roles_dir",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        roles_dir = os.path.realpath(self._task.args.get("roles_dir") or ROLES_DIR)
        if roles_dir not in _SPECS:
            _SPECS[roles_dir] = role_specs(roles_dir)
        specs = _SPECS[roles_dir]
        raw = {name: task_vars[name] for name in specs if name in task_vars}
        values, errors = {}, []
        for name, value in raw.items():
            try:
                values[name] = self._templar.template(value)
            except AnsibleError as exc:
                errors.append(f"{name}: can not be templated: {exc.message}")
        errors += variable_errors(values, specs, raw)
        host = task_vars.get("inventory_hostname", "?")
        if errors:
            raise AnsibleActionFail(
                f"Invalid settings for host {host}:\n" + "\n".join(f"  {host}: {e}" for e in errors),
                result={"errors": [f"{host}: {e}" for e in errors]})
        result.update(changed=False, checked=sorted(raw))
        return result
