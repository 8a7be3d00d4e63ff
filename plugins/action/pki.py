# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment's CA, engine certificates, user bundles and docker contexts, in one task on
the controller (documentation: plugins/modules/pki.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.paddock.platform.plugins.module_utils import _pki as pki

ARGS = {
    "dir": {"type": "path", "required": True},
    "environment": {"type": "str", "required": True},
    "ca_cert": {"type": "str", "no_log": True},
    "ca_key": {"type": "str", "no_log": True},
    "ca_days": {"type": "int", "default": 3650},
    "server_days": {"type": "int", "default": 825},
    "user_days": {"type": "int", "default": 365},
    "renew_days": {"type": "int", "default": 30},
    "hosts": {"type": "list", "elements": "dict", "default": []},
    "users": {"type": "list", "elements": "dict", "default": []},
    "services": {"type": "list", "elements": "dict", "default": []},
    "context_endpoint": {"type": "str"},
    "part": {"type": "str", "choices": ["all", "environment", "hosts", "join_tokens_rotated"], "default": "all"},
    "registry_clients": {"type": "bool", "default": False},
    "ike": {"type": "bool", "default": False},
}


class Environment:
    """Reads what is on disk, decides as of ``at`` (the run's one reading of the clock), and writes
    only when ``check`` is false."""

    def __init__(self, args, check, at):
        self.args, self.check, self.at = args, check, at
        self.root = args["dir"]
        self.changes, self.issued, self.expiry = [], {}, {}
        self.rotate_join_tokens = []

    def _put(self, path, content, mode, what):
        if not pki.file_differs(path, content, mode):
            return False
        self.changes.append(what)
        if not self.check:
            pki.write(path, content, mode)
        return True

    def _directory(self, path):
        if os.path.isdir(path) and os.stat(path).st_mode & 0o777 == 0o700:
            return
        self.changes.append(f"directory {path}")
        if not self.check:
            os.makedirs(path, mode=0o700, exist_ok=True)
            os.chmod(path, 0o700)

    def ca(self):
        """The CA's certificate and key: supplied (never written to disk), kept, or made."""
        args = self.args
        if args.get("ca_key"):
            key = pki.load_key(args["ca_key"].encode())
            cert = pki.load_cert(args["ca_cert"].encode() if args.get("ca_cert") else None)
            if key is None or cert is None:
                raise AnsibleActionFail("paddock_ca_cert and paddock_ca_key: must both be PEM (a certificate and "
                                        "its unencrypted private key)")
            if pki.ca_problem(cert, key, 0, self.at) == "CA certificate does not match its key":
                raise AnsibleActionFail("paddock_ca_cert does not match paddock_ca_key")
            if args["part"] != "hosts":
                self._put(os.path.join(self.root, "ca.pem"), pki.cert_pem(cert), 0o644, "CA certificate")
            return cert, key
        return self.own_ca(self.root, args["environment"], "CA")

    def own_ca(self, directory, name, label):
        """A CA kept in ``directory`` (ca.pem, ca-key.pem): kept while sound, else made."""
        args = self.args
        key_path, cert_path = os.path.join(directory, "ca-key.pem"), os.path.join(directory, "ca.pem")
        key_bytes = pki.read(key_path)
        key, cert = pki.load_key(key_bytes), pki.load_cert(pki.read(cert_path))
        # Made again on its own key within renew_days of its end, as the leaves are: what it
        # signed still verifies against the new one (same name, same key), so nothing else is
        # issued again, and the new certificate reaches the engines and bundles before the old ends.
        problem = pki.ca_problem(cert, key, args["renew_days"], self.at)
        if problem and args["part"] == "hosts" and not self.check:
            raise AnsibleActionFail(f"Can not issue the engines' certificates: {problem} in {directory} "
                                    "(the environment part runs first)")
        if problem and args["part"] == "hosts":  # check mode on a new environment: an unsaved CA
            return pki.make_ca(name, args["ca_days"], self.at)[::-1]
        if problem:
            key, cert = pki.make_ca(name, args["ca_days"], self.at, key)
            self.issued[label] = problem
        if args["part"] != "hosts":
            self._directory(directory)
            self._put(key_path, key_bytes if pki.load_key(key_bytes) else pki.key_pem(key), 0o600, f"{label} key")
            self._put(cert_path, pki.cert_pem(cert), 0o644, f"{label} certificate")
        return cert, key

    def leaf(self, path, want, days, ca):
        """One key and certificate in ``path``; True when the certificate is new."""
        self._directory(path)
        key_path, cert_path = os.path.join(path, "key.pem"), os.path.join(path, "cert.pem")
        key_bytes = pki.read(key_path)
        key, cert = pki.load_key(key_bytes), pki.load_cert(pki.read(cert_path))
        if key is None:
            key, cert = pki.ec.generate_private_key(pki.ec.SECP256R1()), None
            key_bytes = pki.key_pem(key)
        problem = pki.certificate_problem(cert, key, ca[0], want, self.args["renew_days"], self.at)
        if problem:
            cert = pki.issue(want, key, ca[0], ca[1], days, self.at)
            self.issued[want["subject"]] = problem
        self._put(key_path, key_bytes, 0o600, f"key of {want['subject']}")
        self._put(cert_path, pki.cert_pem(cert), 0o644, f"certificate of {want['subject']}")
        self.expiry[want["subject"]] = pki.expiry(cert)
        return problem is not None

    def host(self, host, ca, registry_ca, ike_ca):
        """An engine's server certificate; its registry client certificate; its IKE certificate for
        the managed network; and, on the registry's host, the registry's own certificate and key."""
        days, hosts = self.args["server_days"], os.path.join(self.root, "hosts", host["name"])
        want = {"subject": host["name"], "names": host.get("names") or [], "usage": "serverAuth"}
        self.leaf(hosts, want, days, ca)
        if registry_ca:
            self.leaf(os.path.join(hosts, "registry-client"),
                      {"subject": host["name"], "names": [], "usage": "clientAuth"}, days, registry_ca)
        if ike_ca:
            # Its identities are its addresses and name: a peer pins the address it expects.
            names = [n for n in host.get("names") or [] if n not in ("DNS:localhost", "IP:127.0.0.1")]
            self.leaf(os.path.join(hosts, "ike"), {"subject": host["name"], "names": names, "usage": "ike"},
                      days, ike_ca)
        if host.get("registry"):
            want = {"subject": f"registry {host['name']}", "names": host.get("names") or [], "usage": "serverAuth"}
            self.leaf(os.path.join(self.root, "registry"), want, days, ca)

    def services(self, ca, ca_pem):
        """The platform's own HTTPS services (the console): a server certificate each, in
        services/NAME/ with the CA; those no longer listed are removed."""
        services_dir, services = os.path.join(self.root, "services"), self.args.get("services") or []
        if services or os.path.isdir(services_dir):
            self._directory(services_dir)
        for service in services:
            path = os.path.join(services_dir, service["name"])
            want = {"subject": f"{self.args['environment']} {service['name']}", "names": service.get("names") or [],
                    "usage": "serverAuth"}
            self.leaf(path, want, self.args["server_days"], ca)
            self._put(os.path.join(path, "ca.pem"), ca_pem, 0o644, f"CA beside the certificate of {service['name']}")
        listed = set(os.listdir(services_dir)) if os.path.isdir(services_dir) else set()
        for name in sorted(listed - {s["name"] for s in services}):
            self.changes.append(f"certificate of {name} removed")
            if not self.check:
                shutil.rmtree(os.path.join(services_dir, name))

    def users_gone(self, users_dir, names):
        gone = sorted(set(os.listdir(users_dir)) - set(names)) if os.path.isdir(users_dir) else []
        for name in gone:
            self.changes.append(f"bundle of {name} removed")
            if not self.check:
                shutil.rmtree(os.path.join(users_dir, name))
        return gone

    def join_token_readers(self, first):
        """Who could read the swarm's join tokens (the admins), and why the tokens must be rotated:
        a user who could read them was removed or is no longer an admin. The reasons stay pending
        in join-tokens.json until the swarm playbook has rotated the tokens (part
        join_tokens_rotated), so a run that fails in between rotates them on the next."""
        path = os.path.join(self.root, "join-tokens.json")
        try:
            with open(path, encoding="utf-8") as handle:
                state = json.load(handle)
        except FileNotFoundError:
            # Before 0.6.0 every user of the TLS API could read the tokens.
            state = {"readers": [], "rotate": [] if first else ["every user could read them before Paddock 0.6.0"]}
        except (OSError, ValueError) as exc:
            raise AnsibleActionFail(f"Can not read {path}: {exc}") from exc
        if self.args["part"] == "join_tokens_rotated":
            state["rotate"] = []
        admins = sorted(u["name"] for u in self.args["users"] if u.get("role") == "admin")
        for name in sorted(set(state["readers"]) - set(admins)):
            state["rotate"].append(f"{name}, who could read them, is no longer an admin of this environment")
        state["readers"] = admins
        self._put(path, (json.dumps(state, indent=2, sort_keys=True) + "\n").encode(), 0o600, "join token readers")
        return state["rotate"]

    def run(self):
        """Everything (part all), the CA and the users (environment), or the engines' certificates
        (hosts: one task per host, so that each host's change is reported on that host)."""
        part = self.args["part"]
        if part == "join_tokens_rotated":
            self.join_token_readers(True)
            return set(), []
        if part != "hosts":
            users_dir = os.path.join(self.root, "users")
            first = not (os.path.isdir(users_dir) and os.listdir(users_dir))
            for path in (self.root, os.path.join(self.root, "hosts"), users_dir):
                self._directory(path)
        ca = self.ca()
        # The registry's clients (the engines, which pull) have a CA of their own, so that no
        # user's certificate opens the registry.
        registry_ca = (self.own_ca(os.path.join(self.root, "registry-clients"),
                                   f"{self.args['environment']} registry clients", "registry clients CA")
                       if self.args["registry_clients"] else None)
        # The managed network's hosts authenticate with certificates from a CA that signs nothing else.
        ike_ca = (self.own_ca(os.path.join(self.root, "managed-network"),
                              f"{self.args['environment']} managed network", "managed network CA")
                  if self.args["ike"] else None)
        for host in self.args["hosts"] if part != "environment" else []:
            self.host(host, ca, registry_ca, ike_ca)
        if part == "hosts":
            return set(), []
        ca_pem = pki.cert_pem(ca[0])
        renewed = set()
        for user in self.args["users"]:
            bundle = os.path.join(self.root, "users", user["name"])
            # The user's name as its alternative name too, as community.crypto made it before.
            want = {"subject": user["name"], "names": [f"DNS:{user['name']}"], "usage": "clientAuth"}
            new = self.leaf(bundle, want, self.args["user_days"], ca)
            new_ca = self._put(os.path.join(bundle, "ca.pem"), ca_pem, 0o644, f"CA in the bundle of {user['name']}")
            if new or new_ca:
                renewed.add(user["name"])
        gone = self.users_gone(users_dir, [u["name"] for u in self.args["users"]])
        self.services(ca, ca_pem)
        self.rotate_join_tokens = self.join_token_readers(first)
        return renewed, gone


class Contexts:
    """The users' docker contexts on the controller, each holding a copy of the user's bundle."""

    def __init__(self, environment, endpoint, check):
        self.prefix, self.endpoint, self.check = f"{environment}-", endpoint, check
        self.changes = []

    @staticmethod
    def _docker(*args):
        return subprocess.run(["docker", "context", *args], capture_output=True, text=True, check=False)

    def _listed(self):
        run = self._docker("ls", "--format", "{{json .}}")
        if run.returncode != 0:
            raise AnsibleActionFail(f"Can not list the docker contexts: {run.stderr.strip()}")
        listed = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
        return {c["Name"]: c for c in listed if c["Name"].startswith(self.prefix)}

    def _stored_tls_matches(self, name, bundle):
        run = self._docker("inspect", name)
        if run.returncode != 0:
            return False
        tls = os.path.join(json.loads(run.stdout)[0]["Storage"]["TLSPath"], "docker")
        return all(pki.read(os.path.join(tls, f)) == pki.read(os.path.join(bundle, f))
                   for f in ("ca.pem", "cert.pem", "key.pem"))

    def converge(self, users, bundles_dir, describe):
        listed = self._listed()
        for user in users:
            name, bundle = self.prefix + user["name"], os.path.join(bundles_dir, user["name"])
            current = listed.get(name)
            if current and current.get("DockerEndpoint") == self.endpoint \
                    and current.get("Description") == describe(user) and self._stored_tls_matches(name, bundle):
                continue
            self._apply("update" if current else "create", name, describe(user), bundle)
        wanted = {self.prefix + u["name"] for u in users}
        for name in sorted(set(listed) - wanted):
            self.changes.append(f"context {name} removed")
            if not self.check:
                self._docker("rm", "--force", name)

    def _apply(self, verb, name, description, bundle):
        self.changes.append(f"context {name} {verb}d")
        if self.check:
            return
        endpoint = (f"host={self.endpoint},ca={bundle}/ca.pem,cert={bundle}/cert.pem,key={bundle}/key.pem")
        run = self._docker(verb, name, "--description", description, "--docker", endpoint)
        if run.returncode != 0:
            raise AnsibleActionFail(f"Can not {verb} the docker context {name}: {run.stderr.strip()}")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGS)
        check = bool(self._task.check_mode)
        environment = Environment(args, check, pki.now())
        try:
            renewed, gone = environment.run()
        except ValueError as exc:
            raise AnsibleActionFail(f"Can not issue the environment's certificates: {exc}") from exc
        changes = environment.changes
        if args["part"] in ("hosts", "join_tokens_rotated"):
            pass
        elif args.get("context_endpoint") and shutil.which("docker"):
            contexts = Contexts(args["environment"], args["context_endpoint"], check)
            contexts.converge([u for u in args["users"] if u.get("context", True)], os.path.join(args["dir"], "users"),
                              lambda u: f"Paddock {args['environment']}, {u['name']} ({u['role']})")
            changes = changes + contexts.changes
        elif args.get("context_endpoint"):
            result["warnings"] = ["No docker CLI on the controller: the users' docker contexts are not made "
                                  "(their bundles are)."]
        result.update(changed=bool(changes), issued=environment.issued, expiry=environment.expiry,
                      users_renewed=sorted(renewed), users_removed=gone, changes=changes,
                      rotate_join_tokens=environment.rotate_join_tokens)
        if self._task.diff and changes:
            result["diff"] = [{"before_header": "pki", "after_header": "pki", "before": "",
                               "after": "\n".join(changes) + "\n"}]
        return result
