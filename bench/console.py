"""How fast the console's pages render with many services (issue 17: under 300 ms at p95 on the
lab with 3 hosts and 50 services), against the engine's own API answering the same questions.

Runs against a converged lab whose console is on (molecule/stacks by default: create and
converge it first). It adds services until the swarm runs SERVICES of them (a busybox task
each, on any node), logs in as USER, and requests each page ROUNDS times in turn; the same run
times the engine API calls each page needs (GET /nodes, /services and /tasks over the TLS API
with the console's identity for the user's role), so the ratio does not depend on the machine.
The added services are removed at the end.

Writes bench/results/console.json. Run:
  .venv/bin/python bench/console.py [--services 50] [--rounds 40]
"""

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import ssl
import statistics
import sys
import time
import urllib.parse
import urllib.request

from _lab import ROOT

sys.path.insert(0, os.path.join(ROOT, "molecule", "shared"))
from labtest import TEST_IMAGE, build_test_image, on_host, wait_for  # noqa: E402


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(seconds):
    millis = [s * 1000 for s in seconds]
    return {"p50_ms": round(statistics.median(millis), 1), "p95_ms": round(percentile(millis, 0.95), 1),
            "max_ms": round(max(millis), 1), "n": len(millis)}


class Console:
    def __init__(self, url, ca):
        self.url = url
        context = ssl.create_default_context(cafile=ca)
        self.opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                                  urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def log_in(self, user, password):
        page = self.opener.open(self.url + "/login", timeout=10).read().decode()
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrf": token, "username": user, "password": password, "next": "/stacks"})
        answer = self.opener.open(self.url + "/login", data=form.encode(), timeout=10)
        assert "/stacks" in answer.url, f"login as {user} failed"

    def get(self, path):
        started = time.perf_counter()
        with self.opener.open(self.url + path, timeout=30) as answer:
            body = answer.read()
            assert answer.status == 200 and b'id="main"' in body, (path, answer.status)
        return time.perf_counter() - started


class Engine:
    """The engine's TLS API with a client bundle: what the console asks, asked directly."""

    def __init__(self, address, bundle):
        self.address = address
        self.context = ssl.create_default_context(cafile=f"{bundle}/ca.pem")
        self.context.check_hostname = False
        self.context.load_cert_chain(f"{bundle}/cert.pem", f"{bundle}/key.pem")

    def get(self, *paths):
        started = time.perf_counter()
        connection = http.client.HTTPSConnection(self.address, 2376, context=self.context, timeout=30)
        for path in paths:
            connection.request("GET", "/v1.41" + path)
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200, (path, answer.status)
        connection.close()
        return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", default=os.path.join(ROOT, "molecule", "stacks", "inventory"))
    parser.add_argument("--state", default="~/.paddock/paddock-mol-stacks")
    parser.add_argument("--manager", default="st01")
    parser.add_argument("--address", default="10.3.6.11")
    parser.add_argument("--user", default="alice")
    parser.add_argument("--role", default="member")
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    state = os.path.expanduser(args.state)
    with open(os.path.join(state, "console", args.user)) as handle:
        password = handle.read().split()[0]

    existing = int(on_host(args.inventory, args.manager, "docker service ls -q | wc -l"))
    added = max(0, args.services - existing)
    build_test_image(args.inventory, "paddock")
    for index in range(added):
        on_host(args.inventory, args.manager, f"docker service create -q --detach --name bench-{index:02d} "
                                              f"--no-resolve-image --label io.paddock.bench=1 {TEST_IMAGE} sleep 86400")
    try:
        wait_for(lambda: "0/1" not in on_host(args.inventory, args.manager,
                                               "docker service ls --filter label=io.paddock.bench=1 "
                                               "--format '{{.Replicas}}'"), timeout=300, interval=2)
        services = int(on_host(args.inventory, args.manager, "docker service ls -q | wc -l"))
        tasks = int(on_host(args.inventory, args.manager, "docker node ps $(docker node ls -q) -q "
                                                          "--filter desired-state=running | wc -l"))
        console = Console(f"https://{args.address}:8443", os.path.join(state, "pki", "ca.pem"))
        console.log_in(args.user, password)
        engine = Engine(args.address, os.path.join(state, "pki", "users", f"paddock-console-{args.role}"))
        service = on_host(args.inventory, args.manager, "docker service ls -q --filter name=walkthrough_apacz")
        running = "/tasks?filters=" + urllib.parse.quote(json.dumps({"desired-state": ["running"]}))
        pages = {"/infrastructure": ["/nodes", "/services", running],
                 "/stacks": ["/services", "/nodes", running],
                 "/events": [f"/events?since={int(time.time()) - 3600}&until={int(time.time())}"],
                 f"/services/{service}": [f"/services/{service}", "/nodes", "/tasks?filters="
                                          + urllib.parse.quote(json.dumps({"service": [service]}))],
                 # The catalog's pages read the catalog (from the image) and the services.
                 "/catalog": ["/services"],
                 "/catalog/wordpress": ["/services"]}
        times = {page: [] for page in pages}
        direct = {page: [] for page in pages}
        for _ in range(args.rounds):  # interleaved, so that both see the same machine
            for page, calls in pages.items():
                times[page].append(console.get(page))
                direct[page].append(engine.get(*calls))
        result = {"when": time.strftime("%Y-%m-%d"), "hosts": 3, "services": services, "running_tasks": tasks,
                  "rounds": args.rounds, "pages": {}}
        for page in pages:
            name = "/services/ID" if page.startswith("/services/") else page
            result["pages"][name] = {"console": summary(times[page]), "engine_api": summary(direct[page]),
                                     "ratio_p50": round(statistics.median(times[page]) /
                                                        statistics.median(direct[page]), 2)}
        every = [t for values in times.values() for t in values]
        result["all_pages"] = summary(every)
        print(json.dumps(result, indent=2))
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        with open(os.path.join(ROOT, "bench", "results", "console.json"), "w") as handle:
            json.dump(result, handle, indent=2)
            handle.write("\n")
    finally:
        if added:
            on_host(args.inventory, args.manager,
                    "docker service ls -q --filter label=io.paddock.bench=1 | xargs -r docker service rm >/dev/null")


if __name__ == "__main__":
    main()
