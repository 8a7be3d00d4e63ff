#!/usr/bin/python
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_stack
short_description: Deploy, scale or remove a Swarm stack only when it differs, and wait for it
description:
  - Runs on a Swarm manager. Deploys a compose document (rendered on the controller by
    P(paddock.platform.stack_render#action)) with C(docker stack deploy), scales one of its
    services, or removes the stack.
  - Why a custom module - C(docker stack deploy) is not idempotent, and
    M(community.docker.docker_stack) runs it on every call and compares specs afterwards, so a
    check-mode run cannot say what would change and digests re-resolved from the registry can
    roll services nobody changed. This module compares the content hash recorded in each
    service's C(io.paddock.stack.hash) label with the wanted hash, deploys only on a difference
    (a new, removed or changed service), reports per-service differences in check and diff
    mode, and waits until every task of the changed services runs, failing with the tasks'
    errors when they do not.
  - A scale applied with O(state=scaled) (C(playbooks/scale.yml)) is kept until the stack's
    files change; the next deploy of changed files applies their scale.
version_added: "0.2.0"
author: Paddock contributors
options:
  name:
    description: The stack name.
    type: str
    required: true
  state:
    description: C(present) deploys O(compose); C(scaled) sets O(replicas) on O(service); C(absent) removes the stack.
    type: str
    choices: [present, absent, scaled]
    default: present
  compose:
    description: The compose document (format 3.x) whose services carry the hash label.
    type: dict
  hash:
    description: The content hash of O(compose).
    type: str
  prune:
    description: Remove services of the stack that O(compose) no longer defines.
    type: bool
    default: true
  service:
    description: With O(state=scaled), the service (without the stack prefix).
    type: str
  replicas:
    description: With O(state=scaled), the number of tasks.
    type: int
  directory:
    description: Where the deployed compose file is kept on the manager, for operators to read.
    type: path
    default: /etc/paddock/stacks
  wait_timeout:
    description: Seconds to wait for the tasks to run (0 does not wait).
    type: int
    default: 300
  catalog:
    description:
      - For a catalog app, its entry, version folder, version and C(upgrade_from) range. Before
        deploying over a running stack the module checks that the stack runs the same entry,
        that the change is not a downgrade, and that an upgrade is allowed by the new
        version's C(upgrade_from), which Rancher matched against the running version.
    type: dict
  secret_values:
    description: Values (a catalog app's passwords) never to show in the module's output.
    type: list
    elements: str
    default: []
  secret_files:
    description:
      - The contents of the secrets that O(compose) names as C(file - ./NAME.secrets/KEY) (a
        catalog app's passwords). They are written beside the compose file (mode 0600) only for
        the deploy, which makes them Swarm secrets, and removed after it. Secrets of the stack
        that the compose file no longer names are removed once no task uses them.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Deploy a rendered stack
  paddock.platform.swarm_stack:
    name: web
    compose: "{{ stack.compose }}"
    hash: "{{ stack.hash }}"
"""

RETURN = r"""
services:
  description: Per service, what the run did (created, updated, removed, scaled, unchanged).
  returned: always
  type: dict
"""

import json
import os
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.paddock.platform.plugins.module_utils import _catalog_upgrade as catalog_upgrade

HASH_LABEL = "io.paddock.stack.hash"
NAMESPACE = "com.docker.stack.namespace"


class Swarm:
    def __init__(self, module):
        self.module = module

    def run(self, *args, check=True):
        rc, out, err = self.module.run_command(["docker", *args])
        if check and rc != 0:
            self.module.fail_json(msg=f"docker {' '.join(args[:3])} failed: {err.strip() or out.strip()}")
        return rc, out, err

    def services(self, stack):
        """{short name: service inspect document} for the stack's services."""
        _rc, out, _err = self.run("service", "ls", "--quiet", "--filter", f"label={NAMESPACE}={stack}")
        ids = out.split()
        if not ids:
            return {}
        _rc, out, _err = self.run("service", "inspect", *ids)
        prefix = f"{stack}_"
        return {s["Spec"]["Name"][len(prefix):]: s for s in json.loads(out)}

    def remove_unused_secrets(self, stack, keys):
        """Remove the stack's secrets its compose file no longer names (an old password's); one
        a running task still uses stays until the next deploy."""
        _rc, out, _err = self.run("secret", "ls", "--format", "{{.Name}}", "--filter", f"label={NAMESPACE}={stack}")
        for secret in set(out.split()) - {f"{stack}_{key}" for key in keys}:
            self.run("secret", "rm", secret, check=False)

    def networks(self, stack):
        _rc, out, _err = self.run("network", "ls", "--quiet", "--filter", f"label={NAMESPACE}={stack}")
        return out.split()

    def wait(self, stack, names, timeout):
        """Wait until each named service runs all its tasks and no update is in progress."""
        deadline = time.time() + timeout
        while True:
            current = self.services(stack)
            pending = {}
            _rc, out, _err = self.run("service", "ls", "--format", "{{json .}}",
                                      "--filter", f"label={NAMESPACE}={stack}")
            listing = {json.loads(line)["Name"][len(stack) + 1:]: json.loads(line) for line in out.splitlines()}
            for name in names:
                update = (current.get(name, {}).get("UpdateStatus") or {}).get("State")
                if update in ("rollback_completed", "paused", "rollback_paused"):
                    self.module.fail_json(msg=f"service {stack}_{name}: update {update}: "
                                              f"{current[name]['UpdateStatus'].get('Message', '')}",
                                          tasks=self.task_errors(stack, name))
                running, _, desired = (listing.get(name, {}).get("Replicas") or "0/1").split(" ")[0].partition("/")
                if update in ("updating", "rollback_started") or running != desired:
                    pending[name] = listing.get(name, {}).get("Replicas")
            if not pending:
                return
            if time.time() > deadline:
                self.module.fail_json(msg=f"stack {stack}: tasks not running after {timeout}s: {pending}",
                                      tasks={n: self.task_errors(stack, n) for n in pending})
            time.sleep(1)

    def task_errors(self, stack, name):
        _rc, out, _err = self.run("service", "ps", "--no-trunc", "--format", "{{.Name}} {{.CurrentState}} {{.Error}}",
                                  f"{stack}_{name}", check=False)
        return out.splitlines()[:10]


def _replicas(service):
    mode = service["Spec"].get("Mode", {})
    return "global" if "Global" in mode else (mode.get("Replicated") or {}).get("Replicas", 1)


def _wanted_replicas(spec):
    deploy = spec.get("deploy") or {}
    return "global" if deploy.get("mode") == "global" else deploy.get("replicas", 1)


def check_catalog(module, name, current):
    """Refuse to replace a stack by another entry, to downgrade, or to upgrade against upgrade_from."""
    labels = (next(iter(current.values()))["Spec"].get("Labels") or {}) if current else None
    problem, upgrade = catalog_upgrade.check(name, labels, module.params["catalog"])
    if problem:
        module.fail_json(msg=problem)
    return upgrade


def present(module, swarm):
    name, compose, digest = module.params["name"], module.params["compose"], module.params["hash"]
    if not compose or not digest:
        module.fail_json(msg="state=present needs compose and hash")
    current = swarm.services(name)
    upgrade = check_catalog(module, name, current)
    wanted = compose.get("services") or {}
    actions = {}
    for svc, spec in wanted.items():
        if svc not in current:
            actions[svc] = "created"
        elif (current[svc]["Spec"].get("Labels") or {}).get(HASH_LABEL) != digest:
            actions[svc] = "updated"
        else:
            actions[svc] = "unchanged"
            live, want = _replicas(current[svc]), _wanted_replicas(spec)
            if live != want:
                module.warn(f"{name}/{svc} runs {live} replicas and its files say {want} (set by "
                                "scale.yml); kept until the stack's files change")
    for svc in current:
        if svc not in wanted:
            actions[svc] = "removed" if module.params["prune"] else "kept (prune is off)"
    changed = any(a in ("created", "updated", "removed") for a in actions.values())
    before = {svc: {"hash": (s["Spec"].get("Labels") or {}).get(HASH_LABEL), "replicas": _replicas(s)}
              for svc, s in current.items()}
    after = {svc: {"hash": digest, "replicas": _wanted_replicas(spec)} for svc, spec in wanted.items()}
    if not module.params["prune"]:
        after.update({svc: v for svc, v in before.items() if svc not in wanted})
    result = {"changed": changed, "services": actions}
    if upgrade:
        result["upgrade"] = upgrade
    if module._diff:
        result["diff"] = {"before": json.dumps(before, indent=2, sort_keys=True) + "\n",
                          "after": json.dumps(after if changed else before, indent=2, sort_keys=True) + "\n",
                          "before_header": f"stack {name}", "after_header": f"stack {name}"}
    if not changed or module.check_mode:
        module.exit_json(**result)
    directory = module.params["directory"]
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, f"{name}.yml")
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False) as handle:
        json.dump(compose, handle, indent=2, sort_keys=True)  # JSON is YAML
    os.chmod(handle.name, 0o600)
    os.replace(handle.name, path)
    args = ["stack", "deploy", "--compose-file", path, "--resolve-image", "always"]
    if module.params["prune"]:
        args.append("--prune")
    secrets_dir = os.path.join(directory, f"{name}.secrets")
    try:
        if module.params["secret_files"]:
            os.makedirs(secrets_dir, mode=0o700, exist_ok=True)
            for key, content in module.params["secret_files"].items():
                descriptor = os.open(os.path.join(secrets_dir, key), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "w") as handle:
                    handle.write(content)
        swarm.run(*args, name)
    finally:
        shutil.rmtree(secrets_dir, ignore_errors=True)
    if module.params["wait_timeout"]:
        swarm.wait(name, [s for s, a in actions.items() if a in ("created", "updated")],
                   module.params["wait_timeout"])
    swarm.remove_unused_secrets(name, compose.get("secrets") or {})
    module.exit_json(**result)


def scaled(module, swarm):
    name, svc, replicas = module.params["name"], module.params["service"], module.params["replicas"]
    if not svc or replicas is None or replicas < 0:
        module.fail_json(msg="state=scaled needs service and a replicas count of 0 or more")
    current = swarm.services(name)
    if svc not in current:
        module.fail_json(msg=f"stack {name} has no service {svc}; it has: {', '.join(sorted(current)) or 'none'}")
    live = _replicas(current[svc])
    if live == "global":
        module.fail_json(msg=f"{name}/{svc} is a global service: it runs one task per host and cannot be scaled")
    result = {"changed": live != replicas, "services": {svc: "scaled" if live != replicas else "unchanged"}}
    if module._diff:
        result["diff"] = {"before": f"{name}/{svc}: {live} replicas\n", "after": f"{name}/{svc}: {replicas} replicas\n"}
    if result["changed"] and not module.check_mode:
        swarm.run("service", "scale", "--detach", f"{name}_{svc}={replicas}")
        if module.params["wait_timeout"]:
            swarm.wait(name, [svc], module.params["wait_timeout"])
    module.exit_json(**result)


def absent(module, swarm):
    name = module.params["name"]
    current, networks = swarm.services(name), swarm.networks(name)
    result = {"changed": bool(current or networks), "services": {svc: "removed" for svc in current}}
    if module._diff:
        result["diff"] = {"before": "".join(f"{name}/{s}\n" for s in sorted(current)), "after": ""}
    if not result["changed"] or module.check_mode:
        module.exit_json(**result)
    # What another client removes meanwhile (a console's docker stack rm of the same stack) is
    # "not found" here: the loop below checks that nothing is left.
    rc, _out, err = swarm.run("stack", "rm", name, check=False)
    if rc != 0 and "not found" not in err:
        module.fail_json(msg=f"docker stack rm {name} failed: {err.strip()}")
    deadline = time.time() + max(module.params["wait_timeout"], 30)
    # stack rm removes networks once, while tasks may still hold them: remove what is left.
    while swarm.services(name) or swarm.networks(name):
        if time.time() > deadline:
            module.fail_json(msg=f"stack {name} is still being removed after {module.params['wait_timeout']}s")
        for network in swarm.networks(name):
            swarm.run("network", "rm", network, check=False)
        time.sleep(1)
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent", "scaled"]},
            "compose": {"type": "dict"},
            "hash": {"type": "str"},
            "prune": {"type": "bool", "default": True},
            "service": {"type": "str"},
            "replicas": {"type": "int"},
            "directory": {"type": "path", "default": "/etc/paddock/stacks"},
            "wait_timeout": {"type": "int", "default": 300},
            "catalog": {"type": "dict"},
            "secret_values": {"type": "list", "elements": "str", "default": [], "no_log": True},
            "secret_files": {"type": "dict", "default": {}, "no_log": True},
        },
        supports_check_mode=True,
    )
    swarm = Swarm(module)
    {"present": present, "absent": absent, "scaled": scaled}[module.params["state"]](module, swarm)


if __name__ == "__main__":
    main()
