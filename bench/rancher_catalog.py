"""Rancher 1.x catalogs as they are: how many entries Paddock takes unchanged.

For each entry of a Rancher catalog checkout (``templates/<entry>``), its default version (the
one config.yml names, as Rancher offered it) goes through the user's path: the same code as
``playbooks/catalog.yml -e app=ENTRY -e answers=...`` (module_utils/_stack_entries), with each
question's default and a plausible answer where a required question has none. A stack that
renders then goes through Docker's own loader (``docker stack config``, the compose schema and
interpolation ``docker stack deploy`` applies) and the check ``docker stack deploy`` makes
before it calls the engine (a named volume must be declared).

    .venv/bin/python bench/rancher_catalog.py CHECKOUT [--json OUT] [--only ENTRY]
    .venv/bin/python bench/rancher_catalog.py --stacks DIR [--json OUT]
    .venv/bin/python bench/rancher_catalog.py CHECKOUT --console

With --console, each entry is rendered as the console's catalog page renders a launch: its load
balancers' files as Swarm configs, and no certificate of the inventory (the console holds none).

With --stacks, each subdirectory of DIR is a stack as Rancher 1.x's "Export Config" wrote it
(docker-compose.yml and rancher-compose.yml), listed in paddock_stacks with a plausible value
for each variable it names without a default (as rancher-compose up read the environment).

Prints one line per entry (accepted, refused with Paddock's first message, or refused by
Docker with its message), the warnings Paddock gave, and the ratio. The checkouts are not part
of the repository: fetch rancher/community-catalog or rancher/rancher-catalog and give its path.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from ansible_collections.paddock.platform.plugins.module_utils import _catalog  # noqa: E402
from ansible_collections.paddock.platform.plugins.module_utils._stack_entries import Reader, check  # noqa: E402

# The certificate a user would have in paddock_certificates, and name in a certificate question.
CERTIFICATE = "bench-cert"
CTX = {"ipvs": False, "lb_image": "paddock/haproxy:2.6", "lb_constraint": "node.labels.paddock.lb==true",
       "certificates": [CERTIFICATE]}


def plausible(question):
    """An answer a user could give to a required question without a default."""
    kind = question.get("type") or "string"
    about = " ".join(str(question.get(k, "")) for k in ("variable", "label", "description")).lower()
    if kind == "int":
        return int(question.get("min") or 1) if str(question.get("min", "")).lstrip("-").isdigit() else 1
    if kind == "boolean":
        return "false"
    if kind == "enum":
        return (question.get("options") or [""])[0]
    if kind == "password":
        return "Plausible-Secret-4-paddock"
    if kind == "service":
        return "other/service"
    if kind == "certificate":
        return CERTIFICATE
    if "restart" in about:
        return "always"
    if "port" in about.split() or about.split()[0].endswith("port"):
        return "8080"
    if any(word in about for word in ("path", "dir", "folder", "mount")):
        return "/srv/paddock-bench"
    if any(word in about for word in ("fqdn", "domain", "hostname", "host name")):
        return "app.example.com"
    if "mail" in about:
        return "ops@example.com"
    if "url" in about:
        return "https://app.example.com"
    return "plausible-value-1"


def answers_for(version):
    return {q["variable"]: plausible(q) for q in version.questions
            if isinstance(q, dict) and isinstance(q.get("variable"), str) and q.get("required")
            and q.get("default") in (None, "")}


def undeclared_volumes(compose):
    """What ``docker stack deploy`` refuses before it calls the engine: a named volume a service
    mounts that the file does not declare."""
    declared = set(compose.get("volumes") or {})
    problems = []
    for name, service in (compose.get("services") or {}).items():
        for volume in service.get("volumes") or []:
            if isinstance(volume, dict):
                source = volume.get("source") if volume.get("type", "volume") == "volume" else None
            else:
                parts = str(volume).split(":")
                source = parts[0] if len(parts) > 1 else None
            # docker/cli's rule: a source that is not a path (/, ., ~) is a volume's name.
            if source and not source.startswith(("/", ".", "~")) and source not in declared:
                problems.append(f"service {name} refers to undefined volume {source}")
    return problems


def docker_loader(compose):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(compose, handle)
    try:
        done = subprocess.run(["docker", "stack", "config", "--compose-file", handle.name], capture_output=True,
                              text=True, env={**os.environ, "DOCKER_HOST": "unix:///nonexistent"})
    finally:
        os.unlink(handle.name)
    return None if done.returncode == 0 else done.stderr.strip().splitlines()[-1]


def console_context():
    """What the console renders a launch with (images/console/paddock_console/catalog.py)."""
    with open(os.path.join(ROOT, "roles", "stack", "files", "paddock-lb-run")) as handle:
        return {**CTX, "certificates": [], "lb_run_script": handle.read()}


def one(checkout, name, ctx=CTX):
    entry, problem = _catalog.find_entry([checkout], name)
    if problem:
        return {"entry": name, "result": "refused", "message": problem, "warnings": []}
    folder = entry.default_folder()
    version = entry.versions[folder].load() if folder else None
    answers = answers_for(version) if version is not None else {}
    reader = Reader(checkout, [checkout], launch_answers=answers, certificates=ctx["certificates"])
    checked = check([], [{"name": name.lower(), "catalog": name}], reader, ctx)
    row = {"entry": name, "folder": folder, "warnings": checked["warnings"]}
    if checked["errors"]:
        return {**row, "result": "refused", "message": checked["errors"][0], "errors": checked["errors"]}
    compose = checked["stacks"][0].compose
    problem = docker_loader(compose) or next(iter(undeclared_volumes(compose)), None)
    if problem:
        return {**row, "result": "docker refused", "message": problem}
    return {**row, "result": "accepted"}


def stack_variables(directory):
    """A plausible value for each ${VAR} a stack's files use without a default."""
    names = set()
    for file in os.listdir(directory):
        with open(os.path.join(directory, file), errors="replace") as handle:
            names |= {m[0] or m[1] for m in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)",
                                                         handle.read())}
    return {name: plausible({"variable": name, "type": "string"}) for name in names}


def one_stack(root, name):
    directory = os.path.join(root, name)
    entry = {"name": re.sub(r"[^a-z0-9_-]", "-", name.lower()).strip("-"), "path": directory,
             "variables": stack_variables(directory)}
    checked = check([entry], [], Reader(root, [], certificates=CTX["certificates"]), CTX)
    row = {"entry": name, "folder": "-", "warnings": checked["warnings"]}
    if checked["errors"]:
        return {**row, "result": "refused", "message": checked["errors"][0], "errors": checked["errors"]}
    compose = checked["stacks"][0].compose
    problem = docker_loader(compose) or next(iter(undeclared_volumes(compose)), None)
    return {**row, "result": "docker refused", "message": problem} if problem else {**row, "result": "accepted"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", nargs="?")
    parser.add_argument("--json")
    parser.add_argument("--only")
    parser.add_argument("--stacks", help="a directory of exported stacks, one per subdirectory")
    parser.add_argument("--console", action="store_true", help="render each entry as the console launches it")
    args = parser.parse_args()
    output = os.path.abspath(args.json) if args.json else None
    if args.stacks:
        root = os.path.abspath(args.stacks)
        os.chdir(root)
        rows = [one_stack(root, name) for name in sorted(os.listdir(root))
                if os.path.isdir(os.path.join(root, name))]
    else:
        checkout = os.path.abspath(args.checkout)
        root = os.path.join(checkout, "templates")
        names = [args.only] if args.only else sorted(
            n for n in os.listdir(root) if os.path.isfile(os.path.join(root, n, "config.yml")))
        os.chdir(checkout)  # messages name files relative to the checkout, as a user's run would
        ctx = console_context() if args.console else CTX
        rows = [one(checkout, name, ctx) for name in names]
    for row in rows:
        line = f"{row['entry']:32} {row.get('folder') or '-':>3} {row['result']:15} {row.get('message', '')}"
        print(line[:300])
        for warning in row["warnings"]:
            print(f"{'':52}warning: {warning}"[:300])
    accepted = sum(r["result"] == "accepted" for r in rows)
    print(f"\n{accepted} of {len(rows)} entries accepted ({100 * accepted / max(len(rows), 1):.0f}%); "
          f"{sum(r['result'] == 'refused' for r in rows)} refused by Paddock, "
          f"{sum(r['result'] == 'docker refused' for r in rows)} by Docker; "
          f"{sum(len(r['warnings']) for r in rows)} warnings")
    if output:
        with open(output, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
