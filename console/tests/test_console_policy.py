"""The console and the engines' policy say the same: for each action a page takes and each role,
the console allows the action exactly when paddock-authz allows every engine call it makes.

The console runs whole (Starlette's test client, its real pages, guard and Docker client); its
engine is a small recording stand-in that answers the calls the pages make with one ordinary
service. Each call recorded is judged by the plugin's own policy (roles/docker/files/
paddock_authz.py) for the role the console acted as. The catalog's launch and a stack's removal
go through the docker CLI, whose calls molecule/stacks checks against real engines.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import sys
import threading
import urllib.parse

import docker
import pytest
from passlib.context import CryptContext

from paddock_console import model
from paddock_console.app import create_app
from paddock_console.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "roles", "docker", "files"))
from starlette.testclient import TestClient  # noqa: E402

import paddock_authz  # noqa: E402

SERVICE = {"ID": "web1", "Version": {"Index": 7},
           "Spec": {"Name": "shop_web", "Labels": {"com.docker.stack.namespace": "shop"},
                    "TaskTemplate": {"ContainerSpec": {"Image": "reg:5000/web:1"}},
                    "Mode": {"Replicated": {"Replicas": 2}}},
           "PreviousSpec": {"Name": "shop_web", "TaskTemplate": {"ContainerSpec": {"Image": "reg:5000/web:0"}},
                            "Mode": {"Replicated": {"Replicas": 2}}}}
AUDIT_SERVICE = {"ID": "audit1", "Spec": {"Name": "paddock-console_audit",
                                          "Labels": {"com.docker.stack.namespace": "paddock-console"}}}
NODE = {"ID": "n1", "Description": {"Hostname": "node1", "Resources": {}, "Engine": {"EngineVersion": "20.10.24"}},
        "Spec": {"Role": "manager", "Availability": "active", "Labels": {}}, "Status": {"State": "ready",
                                                                                      "Addr": "10.0.0.1"}}
# (action, method, page, form): what a user of the console does, and the action (model.CAN) it takes.
ACTIONS = [
    ("view", "GET", "/infrastructure", None),
    ("view", "GET", "/stacks", None),
    ("view", "GET", "/services/web1", None),
    ("view", "GET", "/events", None),
    ("logs", "GET", "/services/web1/logs", None),
    ("scale", "POST", "/services/web1/scale", {"delta": "+1"}),
    ("update", "POST", "/services/web1/upgrade", {"tag": "2"}),
    ("update", "POST", "/services/web1/rollback", {}),
    ("audit", "GET", "/audit", None),
]
USERS = {"alice": "admin", "carol": "member", "bob": "read-only"}
# The console identity's certificate, as dockerd hands it to the plugin (its fingerprint is bound).
PEM = b"-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b"console") + b"\n-----END CERTIFICATE-----\n"


class Engine(http.server.ThreadingHTTPServer):
    """The stand-in engine: records (method, target, body) of every call, answers with SERVICE."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.calls, self.lock = [], threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, payload, kind="application/json"):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        route = urllib.parse.urlsplit(self.path).path.removeprefix("/v1.41")
        if route == "/_ping":  # the client's own check of its connection, on no user's behalf
            return self.answer(200, b"OK", "text/plain")
        with self.server.lock:
            self.server.calls.append((self.command, self.path, body))
        if route.endswith("/logs"):
            return self.answer(200, b"", "application/vnd.docker.raw-stream")
        answers = {"/nodes": [NODE], "/services": [SERVICE], "/tasks": [], "/events": b"",
                   "/services/web1": SERVICE, "/services/paddock-console_audit": AUDIT_SERVICE}
        if route in answers:
            found = answers[route]
            return self.answer(200, found, "application/json")
        if route.endswith("/update"):
            return self.answer(200, {"Warnings": None})
        return self.answer(404, {"message": f"no such thing: {route}"})

    do_GET = do_POST = handle_one  # noqa: N815 (the http.server interface)


@pytest.fixture(scope="module")
def engine():
    server = Engine()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def console(engine, tmp_path_factory):
    secrets = tmp_path_factory.mktemp("secrets")
    hashes = CryptContext(schemes=["sha512_crypt"])
    users = {name: {"role": role, "hash": hashes.hash(name)} for name, role in USERS.items()}
    (secrets / "paddock-console-users").write_text(json.dumps(users))
    (secrets / "paddock-console-session").write_text("s" * 64)
    config = Config({"PADDOCK_CONSOLE_SECRETS": str(secrets), "PADDOCK_ENGINES": f"127.0.0.1:{engine.server_port}",
                     "PADDOCK_AGENT_PORT": "0"})
    app = create_app(config, client=lambda config, role, address: docker.DockerClient(
        base_url=f"tcp://{address}", version="1.41", timeout=10))
    return app


@pytest.fixture(scope="module")
def sessions(console):
    """Each role's user, logged in once: role -> (client, the session's form token)."""
    return {role: logged_in(console, user) for user, role in USERS.items()}


def logged_in(app, user):
    client = TestClient(app, base_url="https://testserver")
    page = client.get("/login")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    done = client.post("/login", data={"username": user, "password": user, "csrf": token, "next": "/stacks"},
                       follow_redirects=False)
    assert done.status_code == 303, done.text
    token = client.get("/stacks").text.split('name="csrf" value="')[1].split('"')[0]
    return client, token


def calls_of(engine, client, token, method, page, form):
    with engine.lock:
        engine.calls.clear()
    answer = client.get(page, follow_redirects=False) if method == "GET" else \
        client.post(page, data=dict(form, csrf=token), follow_redirects=False)
    with engine.lock:
        return answer.status_code, list(engine.calls)


def policy_refusal(role, calls):
    """Why the engines' policy refuses the console's identity for ``role`` one of ``calls``, or None."""
    fingerprint = hashlib.sha256(b"console").hexdigest()
    user = f"paddock-console-{role}"
    policy = type("Policy", (), {"roles": lambda self: {user: {"role": role, "fingerprints": [fingerprint]}},
                                 "read": lambda self: {"platform_stacks": ["paddock-console"], "member_allow": {}}})()
    objects = {("services", "web1"): SERVICE, ("services", "paddock-console_audit"): AUDIT_SERVICE}
    for method, target, body in calls:
        request = {"User": user, "RequestMethod": method, "RequestUri": target,
                   "RequestPeerCertificates": [base64.b64encode(PEM).decode()]}
        if body:
            request["RequestBody"] = base64.b64encode(body).decode()
        role_found, _rule, why = paddock_authz.refusal(policy, request, frozenset(),
                                                       lambda kind, ident: objects.get((kind, ident)))
        assert role_found == role
        if why:
            return why
    return None


@pytest.mark.parametrize(("action", "method", "page", "form"), ACTIONS, ids=[a[2] + " " + a[0] for a in ACTIONS])
def test_each_action_is_the_consoles_exactly_when_the_engines_policy_allows_its_calls(sessions, engine, action,
                                                                                       method, page, form):
    made = {}
    for role, (client, token) in sessions.items():
        status, calls = calls_of(engine, client, token, method, page, form)
        made[role] = (status, calls)
    admin_calls = made["admin"][1]
    assert admin_calls, f"{page}: the admin's {action} made no engine call"
    for role in USERS.values():
        status, calls = made[role]
        if model.can(role, action):
            assert status in (200, 303), (role, page, status)
            assert policy_refusal(role, calls) is None, (role, page, calls)
        else:
            # The console refuses before any engine call, and the engines would have refused the
            # calls it makes for a role that may.
            assert (status, calls) == (403, []), (role, page, status, calls)
            assert policy_refusal(role, admin_calls) is not None, (role, page, admin_calls)
