"""The console's Docker clients: one per role, each with that role's engine identity, and every
request carrying the console user it is made for."""

from __future__ import annotations

import threading

import docker

from paddock_console import model

# The console user a request is handled for, on the thread that handles it: every engine call
# made there carries it (model.ON_BEHALF), so the engines' trail names the person, not only
# the console's identity.
ACTING = threading.local()


def tls_client(config, role, engine):
    """A client of ``engine``'s TLS API with ``role``'s identity (its certificate from /run/secrets)."""
    tls = docker.tls.TLSConfig(client_cert=(config.secret(f"{role}-cert"), config.secret(f"{role}-key")),
                               ca_cert=config.secret("ca"), verify=True)
    return docker.DockerClient(base_url=f"tcp://{engine}", tls=tls, timeout=10, version="1.41")


class Engines:
    """One Docker client per role, to the first manager that answers; a manager that stops
    answering is replaced by the next on the following request. ``client(config, role,
    engine)`` makes a client (``tls_client``; a test gives its own)."""

    def __init__(self, config, client=tls_client):
        self.config, self.clients, self.lock, self.client = config, {}, threading.Lock(), client

    def _connect(self, role):
        last = None
        for engine in self.config.engines:
            client = self.client(self.config, role, engine)
            _acting(client.api)
            try:
                client.ping()
                return client
            except (docker.errors.DockerException, OSError) as exc:
                last = exc
        raise RuntimeError(f"no manager's engine answers ({', '.join(self.config.engines)}): {last}")

    def api(self, role):
        with self.lock:
            client = self.clients.get(role)
        if client is not None:
            try:
                client.ping()
                return client.api
            except (docker.errors.DockerException, OSError):
                pass
        client = self._connect(role)
        with self.lock:
            self.clients[role] = client
        return client.api


def _acting(session):
    """Make every request of a Docker client's session carry the console user of the thread
    that makes it (ACTING), as a header the engines' plugin records."""
    send = session.request

    def request(method, url, *args, **kwargs):
        user = getattr(ACTING, "user", None)
        if user:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), model.ON_BEHALF: user}
        return send(method, url, *args, **kwargs)
    session.request = request
