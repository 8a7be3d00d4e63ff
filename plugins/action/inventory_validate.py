# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the whole inventory on the controller, once, before any host is touched."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail, AnsibleError, AnsibleUndefinedVariable
from ansible.plugins.action import ActionBase

from ansible_collections.paddock.platform.plugins.module_utils._inventory import check, role_specs
from ansible_collections.paddock.platform.plugins.module_utils._pki import now

ROLES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "roles")
_SPECS = {}


class _Templated:
    """One host's variables, templated on access. A value whose template names something not
    known before any host is touched (a fact, say) is taken as not set here: the role checks it
    when it runs. A template that is broken in itself is that variable's problem."""

    _UNKNOWN = object()

    def __init__(self, variables, name, problems):
        self._variables, self._name, self._problems = variables, name, problems
        self._values = {}

    def _value(self, key):
        if key not in self._values:
            try:
                self._values[key] = self._variables[key]
            except AnsibleUndefinedVariable:
                self._values[key] = self._UNKNOWN
            except AnsibleError as exc:
                self._problems.append(f"host {self._name}: {key}: can not be templated: {exc.message}")
                self._values[key] = self._UNKNOWN
        return self._values[key]

    def __contains__(self, key):
        return key in self._variables and self._value(key) is not self._UNKNOWN

    def __getitem__(self, key):
        if key not in self:
            raise KeyError(key)
        return self._value(key)

    def get(self, key, default=None):
        if key not in self:
            return default
        return self._value(key)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("hosts", "roles_dir"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        roles_dir = os.path.realpath(self._task.args.get("roles_dir") or ROLES_DIR)
        if roles_dir not in _SPECS:
            _SPECS[roles_dir] = role_specs(roles_dir)
        groups = task_vars.get("groups", {})
        names = self._task.args.get("hosts") or groups.get("paddock", [])
        problems = []
        hostvars = {name: _Templated(task_vars["hostvars"][name], name, problems) for name in names}
        errors = check(names, hostvars, groups, task_vars.get("inventory_dir") or ".", _SPECS[roles_dir], now())
        errors = list(dict.fromkeys(problems)) + errors  # a value is read by several checks
        if errors:
            raise AnsibleActionFail("Invalid inventory:\n" + "\n".join(f"  {e}" for e in errors),
                                    result={"errors": errors})
        result.update(changed=False)
        return result
