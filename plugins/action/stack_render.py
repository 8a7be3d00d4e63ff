# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate and render the inventory's stacks and catalog apps on the controller, never touching a host."""

from __future__ import annotations

import json
import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.paddock.platform.plugins.module_utils._stack_entries import Reader, check
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import load as load_yaml
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import parse as parse_yaml

CONTEXT_KEYS = ("ipvs", "image_map", "lb_image", "lb_constraint", "lb_dir", "lb_max_servers",
                "lb_check_interval_ms", "certificates", "console")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("stacks", "launch", "base_dir", "only", "only_state", "catalogs") + CONTEXT_KEYS)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        base_dir = args.get("base_dir") or task_vars.get("inventory_dir") or "."
        catalogs = args.get("catalogs") or []
        if not isinstance(catalogs, list):
            raise AnsibleActionFail("inventory: paddock_catalogs: must be a list of catalog directories")
        only, only_state = args.get("only"), args.get("only_state")
        if only_state not in (None, "present", "absent"):
            raise AnsibleActionFail(f"state must be present or absent, got {only_state!r}")
        launch = args.get("launch") or []
        launch_answers, problem = self._launch_answers() if launch else (None, None)
        if problem:
            raise AnsibleActionFail(f"-e answers: {problem}")
        reader = Reader(base_dir, catalogs, self._load_answers, launch_answers, args.get("certificates"))
        ctx = {key: args[key] for key in CONTEXT_KEYS if args.get(key) is not None}
        checked = check(args.get("stacks") or [], launch, reader, ctx, only, only_state)
        errors = checked["errors"]
        if errors:
            raise AnsibleActionFail(
                f"Invalid stacks ({len(errors)} problem{'s' if len(errors) > 1 else ''}):\n"
                + "\n".join(f"  {e}" for e in errors), result={"errors": errors})
        for warning in checked["warnings"]:
            self._display.warning(warning)
        out = []
        for doc, stack in zip(checked["documents"], checked["stacks"], strict=True):
            if only and doc["name"] != only:
                continue
            out.append({"name": stack.name, "state": doc["state"], "prune": doc["prune"],
                        "compose": stack.compose, "hash": stack.hash, "lbs": stack.lbs,
                        "warnings": stack.warnings, "services": sorted(stack.compose["services"]),
                        "catalog": doc.get("catalog"), "secrets": doc.get("secrets", []),
                        "secret_files": stack.secret_files})
        out += [{"name": d["name"], "state": "absent"} for d in checked["absent"] if not only or d["name"] == only]
        result.update(changed=False, stacks=out)
        if any(s.get("secrets") for s in out):
            result["_ansible_no_log"] = True  # the rendered files carry a catalog app's passwords
        return result

    def _load_answers(self, path):
        """An answers file: a vault-encrypted one through Ansible's loader, which decrypts it; any
        other through Paddock's, which every other user file goes through (a key written twice is
        an error there)."""
        with open(path, "rb") as handle:
            encrypted = handle.read(14) == b"$ANSIBLE_VAULT"
        if not encrypted:
            return load_yaml(path, os.path.relpath(path))
        try:
            return self._loader.load_from_file(path), None
        except AnsibleError as exc:
            return None, f"{os.path.relpath(path)}: not decrypted, or not valid YAML: {exc.message}"

    def _launch_answers(self):
        """(answers, problem): ``-e answers=...`` as the user typed it. Ansible templates extra vars
        when they are read, so that ``{{ lookup('pipe', ...) }}`` in an answer would run on the
        controller. Answers are data: they are read here, untemplated, and their text loses
        Ansible's template trust (a JSON round trip leaves plain strings)."""
        raw = self._task.get_variable_manager().extra_vars.get("answers")
        if raw is None:
            return None, None
        plain = json.loads(json.dumps(raw, default=str))
        if isinstance(plain, str):
            document, problem = parse_yaml(plain, "answers")
            return (None, problem[len("answers: "):]) if problem else (document, None)
        return plain, None
