"""The console's settings: the files of /run/secrets (Swarm secrets) and environment variables,
which the console role writes."""

from __future__ import annotations

import json
import os

from paddock_console import model


class Config:
    def __init__(self, environ=os.environ):
        self.secrets = environ.get("PADDOCK_CONSOLE_SECRETS", "/run/secrets")
        self.engines = [e for e in environ.get("PADDOCK_ENGINES", "").split(",") if e]
        self.managed = {s for s in environ.get("PADDOCK_MANAGED_STACKS", "").split(",") if s}
        self.environment = environ.get("PADDOCK_ENVIRONMENT", "paddock")
        self.session_seconds = int(environ.get("PADDOCK_SESSION_MINUTES", "480")) * 60
        self.port = int(environ.get("PADDOCK_CONSOLE_PORT", "8443"))
        # The host agent's exporter port on every node (0: no graphs), and how often it is read.
        self.agent_port = int(environ.get("PADDOCK_AGENT_PORT", "9100"))
        self.graph_seconds = max(1, int(environ.get("PADDOCK_GRAPH_SECONDS", "15")))
        # How often a directory user's groups are read again during a session, in seconds.
        self.directory_recheck = int(environ.get("PADDOCK_DIRECTORY_RECHECK", "300"))
        # Log streams one console replica serves at once (each holds a thread while it lasts).
        self.log_streams = int(environ.get("PADDOCK_LOG_STREAMS", "16"))
        # What the playbook's stack role renders with (roles/stack/tasks/context.yml): the images'
        # registry copies, the load balancers' image and placement, IPVS.
        self.render = json.loads(environ.get("PADDOCK_RENDER") or "{}")
        # The console's own audit trail on its host (roles/console mounts /var/log/paddock/console
        # there), and the service whose logs carry every host's trails (paddock_console/audit_tail.py).
        self.trail = environ.get("PADDOCK_CONSOLE_TRAIL", "")
        self.audit_service = environ.get("PADDOCK_AUDIT_SERVICE", "paddock-console_audit")

    def roles(self):
        """The roles the console holds an identity for, the least privileged first."""
        return [r for r in reversed(model.ROLES) if os.path.exists(self.secret(f"{r}-cert"))]

    def secret(self, name):
        return os.path.join(self.secrets, f"paddock-console-{name}")

    def read(self, name):
        with open(self.secret(name), encoding="utf-8") as handle:
            return handle.read()
