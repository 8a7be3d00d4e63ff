# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The console's stack (roles/console). Documented in console_stack.yml beside this file."""

from __future__ import annotations

import hashlib
import hmac
import json

HASH_LABEL = "io.paddock.stack.hash"
STACK = "paddock-console"
UID = "10001"  # the console image's user
# The hosts' audit trails (roles/docker: the engines' API; the console's own in console/, on
# the managers, writable by the console's user alone).
TRAILS = "/var/log/paddock"
CONSOLE_TRAIL = "/var/log/paddock-console"


def console_stack(secrets, image, environment):
    """The compose document that runs the console as a global service on the managers, on the
    host's network, with each secret mounted readable by its user only; its content hash; and
    the secrets' contents for paddock.platform.swarm_stack.

    ``secrets``: ``[{name, data}]``; each becomes a Swarm secret whose name carries a digest of
    its content, keyed with the session secret's when there is one (Swarm secrets cannot change:
    new content is a new secret, and the service moves to it), mounted as /run/secrets/NAME."""
    files, mounts, declared = {}, [], {}
    # A secret's name is visible to every user who may list secrets (read-only too): its digest
    # is keyed with the session secret, random per environment, so that the name of the
    # directory's bind password cannot be used to try guesses of it offline.
    salt = next((str(s["data"]) for s in secrets if s["name"] == f"{STACK}-session"), "").encode()
    for secret in secrets:
        data = str(secret["data"])
        digest = hmac.new(salt, data.encode(), hashlib.sha256).hexdigest() if salt else \
            hashlib.sha256(data.encode()).hexdigest()
        key = f"{secret['name'].removeprefix(STACK + '-')}-{digest[:12]}"
        files[key] = data
        declared[key] = {"file": f"./{STACK}.secrets/{key}"}
        mounts.append({"source": key, "target": secret["name"], "uid": UID, "gid": UID, "mode": 0o400})
    service = {
        "image": image,
        "networks": ["hostnet"],
        "environment": {k: str(v) for k, v in sorted(environment.items())},
        "read_only": True,
        # The only writable places: the files of a catalog app's launch, for its deploy alone, and
        # the console's audit trail on its host.
        "volumes": [{"type": "tmpfs", "target": "/tmp", "tmpfs": {"size": 16 * 1024 * 1024}},
                    {"type": "bind", "source": f"{TRAILS}/console", "target": CONSOLE_TRAIL}],
        "cap_drop": ["ALL"],
        "secrets": mounts,
        "deploy": {
            "mode": "global",
            "placement": {"constraints": ["node.role == manager"]},
            "update_config": {"order": "stop-first", "parallelism": 1, "failure_action": "rollback"},
            "restart_policy": {"condition": "any", "delay": "2s"},
            # Its replicas read its logs back (other replicas' actions and logouts) with the
            # console's least privileged identity, which paddock-authz allows for this label alone.
            "labels": {"io.paddock.console": "true", "io.paddock.console.own-logs": "true"},
        },
    }
    service["environment"]["PADDOCK_CONSOLE_TRAIL"] = f"{CONSOLE_TRAIL}/console-audit.log"
    service["environment"]["PADDOCK_AUDIT_SERVICE"] = f"{STACK}_audit"
    # On every node, the host's trails as they are written, into this service's logs: how the
    # Audit page reads every host (paddock_console/audit_tail.py). Root, to read the trails'
    # files (0600), with no capability but reading them, on a read-only mount.
    audit = {
        "image": image,
        "entrypoint": ["python3", "-m", "paddock_console.audit_tail"],
        "user": "0",
        "read_only": True,
        "volumes": [{"type": "bind", "source": TRAILS, "target": "/trails", "read_only": True}],
        "environment": {"PADDOCK_TRAILS": "/trails", "PADDOCK_NODE": "{{.Node.Hostname}}"},
        "cap_drop": ["ALL"],
        "cap_add": ["DAC_READ_SEARCH"],
        "deploy": {"mode": "global", "restart_policy": {"condition": "any", "delay": "2s"},
                   "labels": {"io.paddock.console": "true"}},
    }
    compose = {"version": "3.8", "services": {"console": service, "audit": audit},
               "networks": {"hostnet": {"external": True, "name": "host"}}, "secrets": declared}
    digest = hashlib.sha256(json.dumps(compose, sort_keys=True).encode()).hexdigest()
    for each in (service, audit):  # every service of the stack carries it (swarm_stack compares each)
        each["deploy"]["labels"][HASH_LABEL] = digest
    return {"compose": compose, "hash": digest, "secret_files": files}


class FilterModule:
    def filters(self):
        return {"console_stack": console_stack}
