# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate and merge a host's cloud-config on the controller, never touching the host."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.paddock.platform.plugins.module_utils._cloud_config import merge
from ansible_collections.paddock.platform.plugins.module_utils._cloud_config_schema import (
    key_path,
    schema_errors,
    semantic_errors,
    warnings,
)
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import load as load_yaml


def _sources(value):
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list) else [value]


def _has_path(document, parts):
    node = document
    for part in parts:
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_mapping or in_list:
            node = node[part]
        else:
            return False
    return True


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("config", "defaults", "base_dir", "variable"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        base_dir = args.get("base_dir") or task_vars.get("inventory_dir") or "."
        variable = args.get("variable", "cloud_config")
        loaded, errors = [], []
        sources = [(s, f"{variable}_defaults") for s in _sources(args.get("defaults"))]
        sources += [(s, variable) for s in _sources(args.get("config"))]
        for source, origin in sources:
            name, document, problem = self._load(source, origin, base_dir)
            if problem:
                errors.append(f"{name}: {problem}")
                continue
            errors += [f"{name}: {key_path(p)}: {msg}" for p, msg in sorted(
                schema_errors(document), key=lambda e: key_path(e[0]))]
            loaded.append((name, document))
        merged = {}
        for _name, document in loaded:
            merged = merge(merged, document)
        if not errors:
            errors = [f"{self._owner(loaded, p)}: {key_path(p)}: {msg}"
                      for p, msg in semantic_errors(merged)]
        host = task_vars.get("inventory_hostname", "?")
        if errors:
            raise AnsibleActionFail(
                f"Invalid cloud-config for host {host} ({len(errors)} problem"
                f"{'s' if len(errors) > 1 else ''}):\n" + "\n".join(f"  {host}: {e}" for e in errors),
                result={"errors": [f"{host}: {e}" for e in errors]})
        for parts, message in warnings(merged):
            self._display.warning(f"{host}: cloud-config {key_path(parts)} {message}")
        result.update(changed=False, cloud_config=merged,
                      sources=[name for name, _document in loaded])
        return result

    def _load(self, source, origin, base_dir):
        """Return (name for errors, document, problem)."""
        if isinstance(source, dict):
            return f"inline {origin}", source, None
        if not isinstance(source, str):
            return f"inventory variable {origin}", None, (
                "must be a file path, an inline mapping or a list of them, "
                f"got {type(source).__name__}")
        path = source if os.path.isabs(source) else os.path.join(base_dir, source)
        shown = os.path.relpath(path) if not os.path.isabs(source) else source
        document, problem = load_yaml(path, shown)
        if problem:
            problem = problem[len(shown) + 2:]
            return shown, None, (f"{problem} (from inventory variable {origin})"
                                 if problem == "file not found" else problem)
        if document is None:
            return shown, {}, None
        if not isinstance(document, dict):
            return shown, None, f"must be a mapping at the top level, got {type(document).__name__}"
        return shown, document, None

    @staticmethod
    def _owner(loaded, parts):
        """Name the last source that sets a key path: that is where the merged value came from."""
        owners = [name for name, document in loaded if _has_path(document, parts)]
        return owners[-1] if owners else " + ".join(name for name, _document in loaded)
