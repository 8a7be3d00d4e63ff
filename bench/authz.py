"""What the authorization plugin's decision and its audit trail add to an API call, at p99, with 50 concurrent clients.

dockerd asks the plugin about every request over a unix socket (POST /AuthZPlugin.AuthZReq with
the user, method, URI, certificate and body). This runs the real plugin (roles/docker/files/
paddock_authz.py) as three processes, as an engine's host runs it, each on its own socket: as it
is (its decision, and each decision's record written to its trail and synced to disk before the
answer); without its trail (nothing recorded); and with its decision bypassed too (every request
allowed, nothing matched, checked or recorded). It sends them the same requests, as dockerd
sends them, from 50 concurrent clients, in interleaved rounds. The trail costs the difference
of the first two latencies; the decision, that of the last two; the transport to the plugin is
in all three. It also times the decision alone, one request at a time.

    .venv/bin/python bench/authz.py [--rounds 6] [--requests 40] [--engine]

The mix is a read-only listing, a member's container create and service create (bodies checked),
a member's refused node update (percent-encoded) and an admin's info.

With --engine (the lab up, ./scripts/lab up), it also measures real API calls: 50 clients,
each with its own TLS connection to paddock01's engine (kept alive, as the docker CLI's is),
against the engine whose plugin is the real one, then the same plugin without its trail, then
with its decision bypassed too (each swapped in for the round through systemd, and the real one
put back after), in interleaved rounds. Writes bench/results/authz.json.
"""

import argparse
import asyncio
import base64
import concurrent.futures
import hashlib
import http.client
import importlib.machinery
import importlib.util
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _lab import ROOT  # noqa: E402

PLUGIN = os.path.join(ROOT, "roles", "docker", "files", "paddock_authz.py")
KINDS = ("real", "untrailed", "bypass")
DER = b"a client certificate, as DER"
PEM = f"-----BEGIN CERTIFICATE-----\n{base64.b64encode(DER).decode()}\n-----END CERTIFICATE-----\n"
USERS = {"alice": "admin", "carol": "member", "bob": "read-only"}
CONTAINER = {"Image": "apacz:1", "Cmd": ["httpd-foreground"], "Env": ["A=1"],
             "HostConfig": {"Binds": ["data:/data"], "PortBindings": {"80/tcp": [{"HostPort": "8080"}]},
                            "RestartPolicy": {"Name": "always"}, "Memory": 268435456}}
SERVICE = {"Name": "web", "TaskTemplate": {"ContainerSpec": {"Image": "apacz:1", "Env": ["A=1"],
                                                             "Mounts": [{"Type": "volume", "Source": "data",
                                                                         "Target": "/data"}]},
                                           "Networks": [{"Target": "web_default"}]},
           "Mode": {"Replicated": {"Replicas": 3}}, "EndpointSpec": {"Ports": [{"TargetPort": 80}]}}
MIX = [("bob", "GET", "/v1.41/containers/json?all=1", None),
       ("carol", "POST", "/v1.41/containers/create?name=web", CONTAINER),
       ("carol", "POST", "/v1.41/services/create", SERVICE),
       ("carol", "POST", "/v1.41/%6Eodes/abc/update?version=3", {}),
       ("alice", "GET", "/v1.41/info", None)]


def load_plugin(name="paddock_authz"):
    sys.path.insert(0, os.path.join(ROOT, ".collections"))
    loader = importlib.machinery.SourceFileLoader(name, PLUGIN)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
    loader.exec_module(module)
    return module


# The plugin's own main(), in a process of its own: "untrailed" records nothing; "bypass" records
# nothing and allows everything.
SERVE = """
import sys
sys.path.insert(0, {bench!r})
from authz import load_plugin
plugin = load_plugin()
plugin.host_network_ids = lambda: {{"f" * 64}}  # the engine's own answer, without an engine here
plugin.trail_directories = lambda root: None  # the console's directory needs root; the trail makes its own
if sys.argv[1] in ("untrailed", "bypass"):
    plugin.Recorder.requested = lambda self, *args: None
    plugin.Recorder.answered = lambda self, request: None
if sys.argv[1] == "bypass":
    plugin.decide = lambda policy, request, host_networks=frozenset(), lookup=None: (True, "", "admin", "bypass")
plugin.main()
"""


def serve(kind, path, policy):
    env = dict(os.environ, PADDOCK_AUTHZ_SOCKET=path, PADDOCK_AUTHZ_POLICY=policy,
               PADDOCK_AUTHZ_TRAIL=os.path.join(os.path.dirname(path), f"{kind}-trail", "api-audit.log"))
    code = SERVE.format(bench=os.path.dirname(os.path.abspath(__file__)))
    process = subprocess.Popen([sys.executable, "-c", code, kind], env=env, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while not os.path.exists(path):
        if time.time() > deadline:
            raise SystemExit(f"the {kind} plugin did not start")
        time.sleep(0.05)
    return process


def authz_request(user, method, uri, body):
    """What dockerd sends the plugin about one API call."""
    request = {"User": user, "UserAuthNMethod": "TLS", "RequestMethod": method, "RequestUri": uri,
               "RequestHeaders": {"Content-Type": "application/json"},
               "RequestPeerCertificates": [base64.b64encode(PEM.encode()).decode()]}
    if body is not None:
        request["RequestBody"] = base64.b64encode(json.dumps(body).encode()).decode()
    return request


def payload(user, method, uri, body):
    """The same, as the HTTP request on the plugin's socket."""
    data = json.dumps(authz_request(user, method, uri, body)).encode()
    return (b"POST /AuthZPlugin.AuthZReq HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(data)).encode() + b"\r\nConnection: close\r\n\r\n" + data)


def ask(path, message):
    started = time.perf_counter()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        sock.sendall(message)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return time.perf_counter() - started, b'"Allow": true' in answer


async def ask_async(path, message):
    started = time.perf_counter()
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(message)
    await writer.drain()
    await reader.read()
    writer.close()
    return time.perf_counter() - started


async def round_of(path, messages, clients, requests):
    """``clients`` clients, each sending ``requests`` requests one after another."""
    async def client(index):
        return [await ask_async(path, messages[(index + i) % len(messages)]) for i in range(requests)]
    batches = await asyncio.gather(*(client(i) for i in range(clients)))
    return [elapsed for batch in batches for elapsed in batch]


def decision_alone(policy_path, rows, repeat=2000):
    """Microseconds per decision, in this process, one request at a time."""
    plugin = load_plugin("paddock_authz_alone")
    plugin.print = lambda *args, **kwargs: None  # the refusal's log line is the transport's cost
    policy = plugin.Policy(policy_path)
    requests = [authz_request(*row) for row in rows]
    started = time.perf_counter()
    for _ in range(repeat):
        for request in requests:
            plugin.decide(policy, request, frozenset({"f" * 64}))
    return (time.perf_counter() - started) / (repeat * len(requests)) * 1e6


ENGINE = "10.3.0.4"
LAB_PKI = os.path.expanduser("~/.paddock/paddock-lab/pki")
SSH = ["ssh", "-i", os.path.expanduser("~/.paddock/paddock-lab/ansible"), "-o", "IdentitiesOnly=yes", "-o",
       "UserKnownHostsFile=" + os.path.expanduser("~/.paddock/paddock-lab/known_hosts"), f"root@{ENGINE}"]
# On the engine's host: the installed plugin without its trail, or with its decision bypassed
# too, in place of the real one.
UNTRAILED = ("p.Recorder.requested = lambda self, *a: None; "
             "p.Recorder.answered = lambda self, r: None; ")
VARIANT = ("systemctl stop paddock-authz paddock-authz-variant 2>/dev/null; "
           "systemd-run --quiet --unit paddock-authz-variant python3 -c '"
           "import importlib.machinery as m, importlib.util as u; "
           "l = m.SourceFileLoader(\"authz\", \"/usr/local/sbin/paddock-authz\"); "
           "p = u.module_from_spec(u.spec_from_loader(\"authz\", l)); l.exec_module(p); {patch}p.main()'")
ON_HOST = {"untrailed": VARIANT.format(patch=UNTRAILED),
           "bypass": VARIANT.format(patch=UNTRAILED
                                    + "p.decide = lambda *a, **k: (True, \"\", \"admin\", \"bypass\"); "),
           "real": "systemctl stop paddock-authz-variant 2>/dev/null; systemctl start paddock-authz"}
# The lab's users: bob reads, alice is an admin; a read-only create is refused by its route.
API_MIX = [("bob", "GET", "/v1.41/containers/json?all=1", None), ("bob", "GET", "/v1.41/services", None),
           ("alice", "GET", "/v1.41/info", None), ("bob", "POST", "/v1.41/containers/create", CONTAINER)]


def on_engine_host(command):
    subprocess.run([*SSH, command], check=True, capture_output=True, timeout=60)


def plugin_answers():
    """True once the engine answers a TLS user (the plugin behind it is up)."""
    return api_client("bob")[1]("GET", "/v1.41/version", None)[1] == 200


def api_client(user):
    """(connection, call): one kept-alive TLS connection to the engine as ``user``."""
    context = ssl.create_default_context(cafile=f"{LAB_PKI}/ca.pem")
    context.load_cert_chain(f"{LAB_PKI}/users/{user}/cert.pem", f"{LAB_PKI}/users/{user}/key.pem")
    connection = http.client.HTTPSConnection(ENGINE, 2376, timeout=30, context=context)

    def call(method, target, body):
        started = time.perf_counter()
        data = json.dumps(body).encode() if body is not None else None
        connection.request(method, target, body=data, headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        answer.read()
        return time.perf_counter() - started, answer.status
    return connection, call


def engine_round(clients, requests):
    def client(index):
        calls = {user: api_client(user)[1] for user in ("alice", "bob")}
        out = []
        for i in range(requests):
            user, method, target, body = API_MIX[(index + i) % len(API_MIX)]
            out.append(calls[user](method, target, body))
        return out
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        found = [item for batch in pool.map(client, range(clients)) for item in batch]
    return [elapsed for elapsed, _ in found], sorted({status for _, status in found})


def engine_bench(rounds, clients, requests):
    times, statuses = {kind: [] for kind in KINDS}, {}
    try:
        for number in range(rounds):
            for kind in KINDS[number % 3:] + KINDS[:number % 3]:
                on_engine_host(ON_HOST[kind])
                deadline = time.time() + 30
                while not plugin_answers():
                    if time.time() > deadline:
                        raise SystemExit(f"the engine does not answer with the {kind} plugin")
                    time.sleep(0.2)
                elapsed, seen = engine_round(clients, requests)
                times[kind] += elapsed
                statuses[kind] = seen
    finally:
        on_engine_host(ON_HOST["real"])
    # The bypassed plugin allowed the read-only create (400 or 201 from the engine), the real one refused it.
    assert 403 in statuses["real"] and 403 not in statuses["bypass"], statuses
    return times


def costs(summary):
    """What the trail and the decision each add, at p50 and p99: differences within one run."""
    out = {}
    for what, (slow, fast) in (("trail", ("real", "untrailed")), ("decision", ("untrailed", "bypass"))):
        for point in ("p50", "p99"):
            out[f"{what}_{point}_ms"] = round(summary[slow][f"{point}_ms"] - summary[fast][f"{point}_ms"], 3)
    return out


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=40, help="per client and round")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--engine", action="store_true", help="also real API calls on the lab's paddock01")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="paddock-authz-bench-")
    policy = os.path.join(work, "authz.json")
    with open(policy, "w") as handle:
        json.dump({"users": {u: {"role": r, "fingerprints": [hashlib.sha256(DER).hexdigest()]}
                             for u, r in USERS.items()}, "member_allow": {}}, handle)
    sockets = {kind: os.path.join(work, f"{kind}.sock") for kind in KINDS}
    servers = [serve(kind, path, policy) for kind, path in sockets.items()]
    try:
        messages = [payload(*row) for row in MIX]
        # The real plugin allows all but the node update; the bypassed one allows everything.
        verdicts = {kind: [ask(path, m)[1] for m in messages] for kind, path in sockets.items()}
        assert verdicts == {"real": [True, True, True, False, True], "untrailed": [True, True, True, False, True],
                            "bypass": [True] * 5}, verdicts
        times = {kind: [] for kind in KINDS}
        for number in range(args.rounds):
            for kind in KINDS[number % 3:] + KINDS[:number % 3]:
                times[kind] += asyncio.run(round_of(sockets[kind], messages, args.clients, args.requests))
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    summary = {kind: {"p50_ms": round(statistics.median(v) * 1000, 3), "p99_ms": round(percentile(v, 0.99) * 1000, 3),
                      "requests": len(v)} for kind, v in times.items()}
    summary.update(costs(summary))
    summary["decision_alone_us"] = round(decision_alone(policy, MIX), 1)
    if args.engine:
        api = engine_bench(args.rounds, args.clients, max(1, args.requests // 2))
        summary["api"] = {kind: {"p50_ms": round(statistics.median(v) * 1000, 3),
                                 "p99_ms": round(percentile(v, 0.99) * 1000, 3), "requests": len(v)}
                          for kind, v in api.items()}
        summary["api"].update(costs(summary["api"]))
    summary["clients"], summary["rounds"] = args.clients, args.rounds
    print(json.dumps(summary, indent=2))
    with open(os.path.join(ROOT, "bench", "results", "authz.json"), "w") as handle:
        json.dump(summary, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    main()
