# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate and render the inventory's stacks and catalog apps on the controller, never touching a host."""

from __future__ import annotations

import json
import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.paddock.platform.plugins.module_utils import _catalog
from ansible_collections.paddock.platform.plugins.module_utils._stack import render_all
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import first_file
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import load as load_yaml
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import parse as parse_yaml

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
RANCHER_NAMES = ("rancher-compose.yml", "rancher-compose.yaml")
STACK_KEYS = {"name", "path", "state", "prune", "compose_file", "rancher_file"}
CATALOG_KEYS = {"name", "catalog", "version", "answers", "answers_file", "state", "prune", "answers_extra_var"}
CONTEXT_KEYS = ("ipvs", "image_map", "lb_image", "lb_constraint", "lb_dir", "lb_max_servers",
                "lb_check_interval_ms")


def _keys_and_state(where, entry, known):
    """(state, problems) of a paddock_stacks item: its unknown keys and a state that is neither."""
    problems = [f"{where}.{key}: unknown key" for key in sorted(set(entry) - known)]
    state = entry.get("state", "present")
    if state not in ("present", "absent"):
        problems.append(f"{where}.state: must be present or absent, got {state!r}")
    return state, problems


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("stacks", "base_dir", "only", "only_state", "catalogs") + CONTEXT_KEYS)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        base_dir = args.get("base_dir") or task_vars.get("inventory_dir") or "."
        entries = args.get("stacks") or []
        errors, documents = [], []
        if not isinstance(entries, list):
            raise AnsibleActionFail("inventory: paddock_stacks: must be a list of stacks")
        catalogs = args.get("catalogs") or []
        if not isinstance(catalogs, list):
            raise AnsibleActionFail("inventory: paddock_catalogs: must be a list of catalog directories")
        self._catalogs = _catalog.search_path(catalogs, base_dir)
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
        secrets = [v for d in documents for v in d.get("secrets", [])]
        for stack in stacks:
            errors += [_catalog.mask(f"stack {stack.name}: {e}", secrets) for e in stack.errors]
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
                        "warnings": stack.warnings, "services": sorted(stack.compose["services"]),
                        "catalog": doc.get("catalog"), "secrets": doc.get("secrets", []),
                        "secret_files": stack.secret_files})
        out += [{"name": d["name"], "state": "absent"} for d in absent if not only or d["name"] == only]
        result.update(changed=False, stacks=out)
        if any(s.get("secrets") for s in out):
            result["_ansible_no_log"] = True  # the rendered files carry a catalog app's passwords
        return result

    def _read(self, index, entry, base_dir):
        where = f"inventory: paddock_stacks[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            return None, [f"{where}: must be a mapping with a name and a path (or a catalog entry)"]
        if "catalog" in entry:
            return self._read_catalog(where, entry, base_dir)
        state, problems = _keys_and_state(where, entry, STACK_KEYS)
        if state == "absent":
            return ({"name": entry["name"], "state": state} if not problems else None), problems
        if not isinstance(entry.get("prune", True), bool):
            problems.append(f"{where}.prune: must be a boolean")
        path = entry.get("path")
        if not isinstance(path, str):
            return None, problems + [f"{where}.path: must be the directory of docker-compose.yml"]
        directory = path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))
        compose_path = (os.path.join(directory, entry["compose_file"]) if entry.get("compose_file")
                        else first_file(directory, COMPOSE_NAMES))
        rancher_path = (os.path.join(directory, entry["rancher_file"]) if entry.get("rancher_file")
                        else first_file(directory, RANCHER_NAMES))
        if compose_path is None:
            return None, problems + [f"{where}.path: no docker-compose.yml in {os.path.relpath(directory)}"]
        compose, problem = load_yaml(compose_path, os.path.relpath(compose_path))
        rancher = None
        if problem is None and rancher_path:
            rancher, problem = load_yaml(rancher_path, os.path.relpath(rancher_path))
        if problem:
            return None, problems + [f"stack {entry['name']}: {problem}"]
        if problems:
            return None, problems
        return {"name": entry["name"], "state": state, "prune": entry.get("prune", True),
                "compose": compose, "rancher": rancher, "compose_file": os.path.relpath(compose_path),
                "rancher_file": os.path.relpath(rancher_path) if rancher_path else "rancher-compose.yml"}, []

    def _extra_var_answers(self):
        """``-e answers=...`` as the user typed it: Ansible templates extra vars when they are read,
        so that ``{{ lookup('pipe', ...) }}`` in an answer would run on the controller. Answers are
        data: they are read here, untemplated, and their text loses Ansible's template trust.
        Returns the mapping, or a problem (a string)."""
        raw = self._task.get_variable_manager().extra_vars.get("answers")
        plain = json.loads(json.dumps(raw, default=str))
        if isinstance(plain, str):
            document, problem = parse_yaml(plain, "answers")
            return problem[len("answers: "):] if problem else document
        return plain

    def _read_catalog(self, where, entry, base_dir):
        """A catalog app: its entry's version, filled with the checked answers."""
        state, problems = _keys_and_state(where, entry, CATALOG_KEYS)
        if not isinstance(entry.get("prune", True), bool):
            problems.append(f"{where}.prune: must be a boolean")
        if state == "absent":
            return ({"name": entry["name"], "state": state} if not problems else None), problems
        app, problem = _catalog.find_entry(self._catalogs, entry["catalog"])
        if problem:
            return None, problems + [f"{where}.catalog: {problem}"]
        answers, source = entry.get("answers") or {}, f"{where}.answers"
        if entry.get("answers_extra_var"):
            answers, source = self._extra_var_answers(), "-e (extra vars on the command line): answers"
            if isinstance(answers, str):
                return None, problems + [f"{source}: {answers}"]
        if entry.get("answers_file"):
            path = entry["answers_file"]
            path = path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))
            shown = os.path.relpath(path)
            if not os.path.isfile(path):
                return None, problems + [f"{shown}: file not found"]
            try:  # through Ansible's loader, so that a vault-encrypted answers file is read too
                from_file = self._loader.load_from_file(path)
            except AnsibleError as exc:
                return None, problems + [f"{shown}: not valid YAML, or not decrypted: {exc.message}"]
            if from_file is not None and not isinstance(from_file, dict):
                return None, problems + [f"{os.path.relpath(path)}: must be a mapping of question variables to answers"]
            if isinstance(answers, dict):  # answers given beside the file win
                answers = {**(from_file or {}), **answers}
            source = os.path.relpath(path) + (f" + {where}.answers" if entry.get("answers") else "")
        prepared = _catalog.prepare(app, entry.get("version"), answers, source, entry["name"])
        for warning in prepared["warnings"]:
            self._display.warning(f"stack {entry['name']}: {warning}")
        problems += [f"stack {entry['name']}: {e}" for e in prepared["errors"]]
        if problems:
            return None, problems
        return {"name": entry["name"], "state": state, "prune": entry.get("prune", True),
                "compose": prepared["compose"], "rancher": prepared["rancher"],
                "compose_file": prepared["compose_file"], "rancher_file": prepared["rancher_file"],
                "labels": prepared["labels"], "secrets": prepared["secrets"], "passwords": prepared["passwords"],
                "catalog": {"entry": app.name, "folder": prepared["folder"], "version": prepared["version"],
                            "upgrade_from": prepared["upgrade_from"]}}, []
