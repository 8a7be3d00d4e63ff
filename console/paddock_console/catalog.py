"""The catalog's pages: its entries, an entry's questions as a form, and an app launched, upgraded
or removed as ``playbooks/catalog.yml`` does it.

The answers are checked and the app rendered by the collection's own code (its module_utils,
copied into this image with Paddock's catalog), so a form gets the playbook's messages word for
word. Three differences are forced by where the console runs, and each is said on the page:

- The running swarm stands in for the inventory: a host port that a running service publishes
  is taken, as the playbook finds it taken by a stack of the inventory.
- A load balancer's run script and haproxy.cfg are Swarm configs, not files on the load-balancer
  hosts (the console has no SSH to them). A load balancer that serves the inventory's
  certificates is refused here: only the playbooks hold them.
- An image the registry lacks is not built here (an ``on_demand`` image of ``paddock_images`` is
  built by the playbook, on the controller where its context is): the launch is refused, naming it.

The app is deployed with ``docker stack deploy`` over a manager's TLS API, with the identity of
the logged-in user's role, so paddock-authz decides as for the CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile

import docker
import yaml

from ansible_collections.paddock.platform.plugins.module_utils import _catalog, _catalog_upgrade, _stack_entries
from ansible_collections.paddock.platform.plugins.module_utils._stack import STACK_NAME  # noqa: F401 - app.py
from paddock_console import model
from paddock_console.model import STACK_LABEL

# The collection's root in this image: messages name files relative to it, as the playbook,
# run from a checkout's top, names them (catalog/wordpress/1).
ROOT = os.path.realpath(os.path.join(os.path.dirname(_catalog.__file__), "..", ".."))
LB_RUN_SCRIPT = os.path.join(ROOT, "roles", "stack", "files", "paddock-lb-run")
ICONS = (".svg", ".png", ".jpg", ".jpeg", ".gif")


def answers_from_form(questions, form):
    """The answers a form gives, as an answers file would: each question's field as typed (an
    empty field is no answer, so the question's default or its "required" applies), a checkbox
    as true or false. Fields that are not questions are not answers."""
    answers = {}
    for question in questions:
        variable = question.get("variable")
        if not isinstance(variable, str):
            continue
        if question.get("type") == "boolean":
            answers[variable] = "true" if form.get(f"q_{variable}") in ("true", "on") else "false"
            continue
        value = form.get(f"q_{variable}")
        if value is not None and str(value) != "":
            answers[variable] = str(value).replace("\r\n", "\n")
    return answers


def published_ports(services, stack):
    """Host ports that running services outside ``stack`` publish, as the renderer takes them:
    ``[port, protocol, stack, service, shared]`` (``shared``: the ingress mesh, or a global service)."""
    out = []
    for service in services:
        spec = service.get("Spec") or {}
        owner = (spec.get("Labels") or {}).get(STACK_LABEL) or ""
        if owner == stack:
            continue
        name = spec.get("Name", "")
        short = name[len(owner) + 1:] if owner and name.startswith(owner + "_") else name
        is_global = "Global" in (spec.get("Mode") or {})
        for port in ((service.get("Endpoint") or {}).get("Spec") or spec.get("EndpointSpec") or {}).get("Ports") or []:
            if port.get("PublishedPort"):
                out.append([port["PublishedPort"], port.get("Protocol", "tcp"), owner or "-", short,
                            port.get("PublishMode", "ingress") != "host" or is_global])
    return out


def running_labels(services, stack):
    """The labels of a running stack's first service (its catalog entry and version), or None."""
    for service in services:
        labels = (service.get("Spec") or {}).get("Labels") or {}
        if labels.get(STACK_LABEL) == stack:
            return labels
    return None


def apps(services):
    """{entry: {stack: version}} of the running stacks launched from the catalog, in one pass."""
    found = {}
    for service in services:
        labels = (service.get("Spec") or {}).get("Labels") or {}
        entry = labels.get(_catalog_upgrade.LABELS["entry"])
        if entry and labels.get(STACK_LABEL):
            found.setdefault(entry, {})[labels[STACK_LABEL]] = labels.get(_catalog_upgrade.LABELS["version"], "")
    return found


def gitops_entry(name, entry, folder):
    """The ``paddock_stacks`` entry that keeps a launched app in Git (its answers in a vaulted file)."""
    return yaml.safe_dump([{"name": name, "catalog": entry, "version": int(folder) if str(folder).isdigit() else folder,
                            "answers_file": f"answers/{name}.yml"}], sort_keys=False).rstrip()


class Catalog:
    """Paddock's catalog (in the image) and the render context the playbook's stack role uses
    (``PADDOCK_RENDER``). Messages name files relative to the working directory, which the
    console sets to ``ROOT`` when it starts."""

    def __init__(self, context):
        self.catalogs = _catalog.search_path([], ROOT)
        with open(LB_RUN_SCRIPT, encoding="utf-8") as handle:
            run_script = handle.read()
        self.context = {**context, "lb_run_script": run_script, "certificates": []}
        self._entries = None

    def entries(self):
        """Every entry as the listing shows it (read once: the catalog is the image's)."""
        if self._entries is None:
            listed = []
            for name, directory, catalog in _catalog.entry_dirs(self.catalogs):
                described = _catalog.describe(_catalog.Entry(name, directory, catalog))
                described["icon"] = self._icon(directory) is not None
                listed.append(described)
            self._entries = listed
        return self._entries

    def entry(self, name):
        """The Entry called ``name``, or None."""
        found, _problem = _catalog.find_entry(self.catalogs, name)
        return found

    def icon(self, name):
        """(path, content type) of an entry's icon (Rancher's ``catalogIcon-*``), or None."""
        found = self.entry(name)
        path = self._icon(found.directory) if found else None
        if path is None:
            return None
        kind = os.path.splitext(path)[1].lower()
        return path, {".svg": "image/svg+xml", ".png": "image/png", ".gif": "image/gif"}.get(kind, "image/jpeg")

    @staticmethod
    def _icon(directory):
        for name in sorted(os.listdir(directory)):
            if name.startswith("catalogIcon") and name.lower().endswith(ICONS):
                return os.path.join(directory, name)
        return None

    def questions(self, entry, folder):
        """(folder, version, questions with password defaults hidden, problem)."""
        chosen, problem = entry.find(folder or None)
        if problem:
            return None, None, [], problem
        version = entry.versions[chosen].load()
        return chosen, version, _catalog.questions_of(version), None

    def render(self, stack, entry, folder, answers, services):
        """Check the answers and render the app as the playbook does. Returns ``(rendered, errors,
        warnings)``; ``rendered`` has the Stack, its catalog document and the upgrade it makes."""
        reader = _stack_entries.Reader(ROOT, self.catalogs, launch_answers=answers, certificates=[],
                                       launch_source="answers")
        context = {**self.context, "published": published_ports(services, stack)}
        checked = _stack_entries.check([], [{"name": stack, "catalog": entry, "version": folder}], reader, context)
        if checked["errors"]:
            return None, checked["errors"], checked["warnings"]
        document, rendered = checked["documents"][0], checked["stacks"][0]
        problem, upgrade = _catalog_upgrade.check(stack, running_labels(services, stack), document["catalog"])
        if problem:
            return None, [problem], checked["warnings"]
        return {"stack": rendered, "document": document, "upgrade": upgrade}, [], checked["warnings"]


def images_missing(api, compose):
    """The images of a rendered stack that their registry does not serve (as the engine asks it)."""
    missing = []
    for image in sorted({s.get("image") for s in compose["services"].values() if s.get("image")}):
        try:
            api.inspect_distribution(image)
        except Exception as exc:  # noqa: BLE001 - docker-py raises several kinds for "not there"
            missing.append(f"{image} ({getattr(exc, 'explanation', None) or exc})")
    return missing


class Cli:
    """``docker stack deploy`` and ``docker stack rm`` over a manager's TLS API with a role's
    identity (its client certificate, issued by the environment's CA)."""

    def __init__(self, config):
        self.config = config

    def _run(self, role, args, cwd, user):
        """Run the CLI as ``role``; every call it makes says which console ``user`` it is for
        (recorded in the engines' audit trail)."""
        os.makedirs(os.path.join(cwd, ".docker"), mode=0o700, exist_ok=True)
        with open(os.path.join(cwd, ".docker", "config.json"), "w", encoding="utf-8") as handle:
            json.dump({"HttpHeaders": {model.ON_BEHALF: user}}, handle)
        last = "no manager is configured"
        for engine in self.config.engines:
            command = ["docker", "--host", f"tcp://{engine}", "--tlsverify",
                       "--tlscacert", self.config.secret("ca"), "--tlscert", self.config.secret(f"{role}-cert"),
                       "--tlskey", self.config.secret(f"{role}-key"), *args]
            done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=180, check=False,
                                  env={"PATH": "/usr/bin:/bin", "DOCKER_CONFIG": os.path.join(cwd, ".docker"),
                                       "HOME": cwd})
            if done.returncode == 0:
                return None
            last = (done.stderr or done.stdout).strip()
            if "Cannot connect" not in last and "connection refused" not in last and "no route" not in last:
                return last
        return last

    def deploy(self, role, rendered, user):
        """None, or what the engine (or the CLI) said when it refused. The passwords' files live
        only for the deploy, in a directory of this container's memory (its /tmp)."""
        stack = rendered["stack"]
        work = tempfile.mkdtemp(prefix="paddock-launch-")
        try:
            os.chmod(work, 0o700)
            for kind, files in (("secrets", stack.secret_files), ("configs", stack.config_files)):
                if files:
                    os.mkdir(os.path.join(work, f"{stack.name}.{kind}"), 0o700)
                for key, text in files.items():
                    path = os.path.join(work, f"{stack.name}.{kind}", key)
                    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w",
                              encoding="utf-8") as handle:
                        handle.write(text)
            with open(os.path.join(work, "compose.yml"), "w", encoding="utf-8") as handle:
                json.dump(stack.compose, handle)  # JSON is YAML: nothing is re-read as a number or a date
            return self._run(role, ["stack", "deploy", "--prune", "-c", "compose.yml", "--", stack.name], work, user)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def remove(self, role, name, user):
        work = tempfile.mkdtemp(prefix="paddock-remove-")
        try:
            return self._run(role, ["stack", "rm", "--", name], work, user)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def remove_unused(api, stack):
    """Remove the secrets and configs of a stack that its new files no longer name (an upgrade's
    old passwords and load-balancer files), once no task uses them: Swarm refuses to remove one
    in use, and the next launch tries again."""
    compose = stack.compose
    wanted = {"secrets": {f"{stack.name}_{key}" for key in compose.get("secrets") or {}},
              "configs": {c.get("name") or f"{stack.name}_{key}" for key, c in (compose.get("configs") or {}).items()}}
    for kind, listed, remove in (("secrets", api.secrets, api.remove_secret),
                                 ("configs", api.configs, api.remove_config)):
        for item in listed(filters={"label": f"{STACK_LABEL}={stack.name}"}):
            if item["Spec"]["Name"] not in wanted[kind]:
                with contextlib.suppress(docker.errors.APIError):  # still in use
                    remove(item["ID"])
