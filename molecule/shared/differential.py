"""Sending authz_bodies' bodies to a real engine and reading back what it recorded.

One engine, over its TLS API with an admin's certificate (the plugin lets an admin through:
this compares readings, not the policy). Nothing runs: containers are only created, services
have no replica and a placement no node has, and every object is removed after its read.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import sys
import urllib.parse

import authz_bodies

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".collections"))
from ansible_collections.paddock.platform.plugins.module_utils._gojson import Unreadable, read  # noqa: E402

# What the engine answers when its own decoder failed on a body: the reader accepted something
# the engine could not read, a difference too.
DECODE_ERRORS = ("json: ", "cannot unmarshal", "invalid character", "unexpected end of JSON")


class Engine:
    def __init__(self, address, context):
        self.address, self.context = address, context

    def call(self, method, path, body=None):
        connection = http.client.HTTPSConnection(self.address, 2376, timeout=30, context=self.context)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            connection.request(method, f"/v1.41{path}", body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        finally:
            connection.close()
        try:
            return answer.status, json.loads(data) if data else None
        except ValueError:
            return answer.status, data.decode(errors="replace")

    @contextlib.contextmanager
    def targets(self, image):
        """A running container (exec, update) and a service with no replica (service updates)."""
        body = {"Image": image, "Cmd": ["sleep", "3600"], "Labels": {authz_bodies.LABEL: "1"}}
        self.call("DELETE", "/containers/paddock-diff-target?force=1")
        status, made = self.call("POST", "/containers/create?name=paddock-diff-target", json.dumps(body).encode())
        assert status == 201, made
        self.call("POST", "/containers/paddock-diff-target/start")
        query = urllib.parse.quote(json.dumps({"name": ["paddock-diff-updated"]}))
        for found in self.call("GET", f"/services?filters={query}")[1] or []:
            self.call("DELETE", f"/services/{found['ID']}")
        service = json.dumps({"Name": "paddock-diff-updated", "Labels": {authz_bodies.LABEL: "1"},
                              "TaskTemplate": {"ContainerSpec": {"Image": image}, "Placement": {
                                  "Constraints": ["node.labels.paddock-differential==never"]}},
                              "Mode": {"Replicated": {"Replicas": 0}}}).encode()
        status, made = self.call("POST", "/services/create", service)
        assert status == 201, made
        self.service = made["ID"]
        try:
            yield self
        finally:
            self.call("DELETE", "/containers/paddock-diff-target?force=1")
            self.call("DELETE", f"/services/{self.service}")

    def record(self, route, raw):
        """Send one body; (status, what the engine recorded or said)."""
        if route == "container_create":
            return self._made("POST", "/containers/create", raw, 201, "/containers/{}/json",
                              "/containers/{}?force=1", "Id")
        if route == "service_create":
            return self._made("POST", "/services/create", raw, 201, "/services/{}", "/services/{}", "ID")
        if route == "volume_create":
            return self._made("POST", "/volumes/create", raw, 201, "/volumes/{}", "/volumes/{}", "Name")
        if route == "network_create":
            return self._made("POST", "/networks/create", raw, 201, "/networks/{}", "/networks/{}", "Id")
        if route == "secret_create":
            return self._made("POST", "/secrets/create", raw, 201, "/secrets/{}", "/secrets/{}", "ID")
        if route == "exec_create":
            status, made = self.call("POST", "/containers/paddock-diff-target/exec", raw)
            return (status, self.call("GET", f"/exec/{made['Id']}/json")[1]) if status == 201 else (status, made)
        if route == "container_update":
            status, made = self.call("POST", "/containers/paddock-diff-target/update", raw)
            return (status, self.call("GET", "/containers/paddock-diff-target/json")[1]) if status == 200 \
                else (status, made)
        if route == "service_update":
            version = self.call("GET", f"/services/{self.service}")[1]["Version"]["Index"]
            status, made = self.call("POST", f"/services/{self.service}/update?version={version}", raw)
            return (status, self.call("GET", f"/services/{self.service}")[1]) if status == 200 else (status, made)
        raise ValueError(route)

    def _made(self, method, path, raw, ok, inspect, remove, key):
        status, made = self.call(method, path, raw)
        if status != ok:
            return status, made
        found = self.call("GET", inspect.format(made[key]))[1]
        self.call("DELETE", remove.format(made[key]))
        return status, found


def run_route(engine, route, count, seed, image):
    """Every body of ``route``: ({bodies, refused, sent, refused_by_engine, compared},
    [(route, name, body, what differs)])."""
    counts = dict.fromkeys(("bodies", "refused", "sent", "refused_by_engine", "compared"), 0)
    differences = []
    for name, raw in authz_bodies.generate(route, count, seed, image):
        counts["bodies"] += 1
        try:
            believed = read(raw, route)
        except Unreadable:
            counts["refused"] += 1
            continue
        counts["sent"] += 1
        status, recorded = engine.record(route, raw)
        if status >= 300:
            counts["refused_by_engine"] += 1
            if any(sign in str(recorded) for sign in DECODE_ERRORS):
                differences.append((route, name, raw, f"the engine could not decode it: {recorded}"))
            continue
        counts["compared"] += 1
        found = authz_bodies.differences(route, believed, recorded)
        if found:
            differences.append((route, name, raw, found))
    return counts, differences
