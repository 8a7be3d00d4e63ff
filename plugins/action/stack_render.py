# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate and render the inventory's stacks on the controller, never touching a host."""

from __future__ import annotations

import os

import yaml
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.paddock.platform.plugins.module_utils._stack import render_all

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
RANCHER_NAMES = ("rancher-compose.yml", "rancher-compose.yaml")
CONTEXT_KEYS = ("ipvs", "image_map", "lb_image", "lb_constraint", "lb_dir", "lb_max_servers",
                "lb_check_interval_ms")


def _load(path, shown):
    """(document, problem) for one YAML file."""
    try:
        with open(path) as handle:
            return yaml.safe_load(handle), None
    except FileNotFoundError:
        return None, f"{shown}: file not found"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        return None, f"{shown}: {where}not valid YAML: {to_native(getattr(exc, 'problem', exc))}"


def _first(directory, names):
    for name in names:
        if os.path.isfile(os.path.join(directory, name)):
            return os.path.join(directory, name)
    return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("stacks", "base_dir", "only", "only_state") + CONTEXT_KEYS)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        base_dir = args.get("base_dir") or task_vars.get("inventory_dir") or "."
        entries = args.get("stacks") or []
        errors, documents = [], []
        if not isinstance(entries, list):
            raise AnsibleActionFail("inventory: paddock_stacks: must be a list of stacks")
        only, only_state = args.get("only"), args.get("only_state")
        if only_state not in (None, "present", "absent"):
            raise AnsibleActionFail(f"state must be present or absent, got {only_state!r}")
        for index, entry in enumerate(entries):
            if only_state and isinstance(entry, dict) and entry.get("name") == only:
                entry = {**entry, "state": only_state}
            doc, problems = self._read(index, entry, base_dir)
            errors += problems
            if doc:
                documents.append(doc)
        ctx = {key: args[key] for key in CONTEXT_KEYS if args.get(key) is not None}
        absent = [d for d in documents if d["state"] == "absent"]
        documents = [d for d in documents if d["state"] == "present"]
        stacks = render_all(documents, ctx) if not errors else []
        for stack in stacks:
            errors += [f"stack {stack.name}: {e}" for e in stack.errors]
        if only and only not in [d["name"] for d in documents + absent]:
            errors.append(f"inventory: paddock_stacks: no stack named '{only}'")
        if errors:
            raise AnsibleActionFail(
                f"Invalid stacks ({len(errors)} problem{'s' if len(errors) > 1 else ''}):\n"
                + "\n".join(f"  {e}" for e in errors), result={"errors": errors})
        out = []
        for doc, stack in zip(documents, stacks, strict=True):
            for warning in stack.warnings:
                self._display.warning(f"stack {stack.name}: {warning}")
            if only and doc["name"] != only:
                continue
            out.append({"name": stack.name, "state": doc["state"], "prune": doc["prune"],
                        "compose": stack.compose, "hash": stack.hash, "lbs": stack.lbs,
                        "warnings": stack.warnings, "services": sorted(stack.compose["services"])})
        out += [{"name": d["name"], "state": "absent"} for d in absent if not only or d["name"] == only]
        result.update(changed=False, stacks=out)
        return result

    def _read(self, index, entry, base_dir):
        where = f"inventory: paddock_stacks[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            return None, [f"{where}: must be a mapping with a name and a path"]
        unknown = sorted(set(entry) - {"name", "path", "state", "prune", "compose_file", "rancher_file"})
        problems = [f"{where}.{key}: unknown key" for key in unknown]
        state = entry.get("state", "present")
        if state not in ("present", "absent"):
            problems.append(f"{where}.state: must be present or absent, got {state!r}")
        if state == "absent":
            return ({"name": entry["name"], "state": state} if not problems else None), problems
        if not isinstance(entry.get("prune", True), bool):
            problems.append(f"{where}.prune: must be a boolean")
        path = entry.get("path")
        if not isinstance(path, str):
            return None, problems + [f"{where}.path: must be the directory of docker-compose.yml"]
        directory = path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))
        compose_path = (os.path.join(directory, entry["compose_file"]) if entry.get("compose_file")
                        else _first(directory, COMPOSE_NAMES))
        rancher_path = (os.path.join(directory, entry["rancher_file"]) if entry.get("rancher_file")
                        else _first(directory, RANCHER_NAMES))
        if compose_path is None:
            return None, problems + [f"{where}.path: no docker-compose.yml in {os.path.relpath(directory)}"]
        compose, problem = _load(compose_path, os.path.relpath(compose_path))
        rancher = None
        if problem is None and rancher_path:
            rancher, problem = _load(rancher_path, os.path.relpath(rancher_path))
        if problem:
            return None, problems + [f"stack {entry['name']}: {problem}"]
        if problems:
            return None, problems
        return {"name": entry["name"], "state": state, "prune": entry.get("prune", True),
                "compose": compose, "rancher": rancher, "compose_file": os.path.relpath(compose_path),
                "rancher_file": os.path.relpath(rancher_path) if rancher_path else "rancher-compose.yml"}, []
