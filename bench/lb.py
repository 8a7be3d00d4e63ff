"""Load-balancer benchmarks on the lab (./scripts/lab up), each measured within one run.

1. wrk through the load balancer (paddock02:80 -> HAProxy -> an Apache task on the overlay)
   against wrk straight to one Apache container published on paddock02:8081, same client, same
   run: requests per second and p50/p99 latency, reported as ratios.
2. The time from `playbooks/scale.yml` returning until the load balancer serves every new
   replica (4 -> 8).

Writes bench/results/lb.json. Run: .venv/bin/python bench/lb.py [INVENTORY] (default: inventory)
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

from _lab import ENV, ROOT

INVENTORY = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "inventory")
LB_HOST = "10.3.0.5"
MANAGER = "10.3.0.4"
SSH = ["ssh", "-i", os.path.expanduser("~/.paddock/paddock-lab/ansible"), "-o", "IdentitiesOnly=yes",
       "-o", "UserKnownHostsFile=" + os.path.expanduser("~/.paddock/paddock-lab/known_hosts")]


def run(*args, **kwargs):
    return subprocess.run(args, cwd=ROOT, env=ENV, capture_output=True, text=True, check=True, **kwargs).stdout


def on_lb_host(command, host=LB_HOST):
    return run(*SSH, f"root@{host}", command)


def wrk(url, seconds=15):
    out = run("wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def millis(label):
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return {"rps": rps, "p50_ms": millis("50%"), "p99_ms": millis("99%"), "errors": errors.group(0) if errors else None}


def distinct(count):
    seen = set()
    for _ in range(count):
        with urllib.request.urlopen(f"http://{LB_HOST}/", timeout=3) as response:
            seen.add(response.read().decode().strip())
    return seen


def main():
    run("ansible-playbook", "-i", INVENTORY, "site.yml")
    run("ansible-playbook", "-i", INVENTORY, "playbooks/scale.yml", "-e", "service=walkthrough/apacz", "-e", "scale=4")
    image = on_lb_host("docker service inspect walkthrough_apacz --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}'",
                       MANAGER).split("@")[0]
    on_lb_host("docker rm -f paddock-bench-direct >/dev/null 2>&1; "
               f"docker run -d --name paddock-bench-direct -p 8081:80 {image.strip()} >/dev/null")
    time.sleep(2)
    try:
        results = {"direct": [], "lb": []}
        for _round in range(2):  # interleaved, so drift on the noisy machine hits both alike
            results["direct"].append(wrk(f"http://{LB_HOST}:8081/"))
            results["lb"].append(wrk(f"http://{LB_HOST}/"))
    finally:
        on_lb_host("docker rm -f paddock-bench-direct >/dev/null")

    def best(kind, key, pick):
        return pick(r[key] for r in results[kind])

    ratios = {"rps_lb_over_direct": round(best("lb", "rps", max) / best("direct", "rps", max), 3),
              "p50_lb_over_direct": round(best("lb", "p50_ms", min) / best("direct", "p50_ms", min), 3),
              "p99_lb_over_direct": round(best("lb", "p99_ms", min) / best("direct", "p99_ms", min), 3),
              "p50_added_ms": round(best("lb", "p50_ms", min) - best("direct", "p50_ms", min), 3)}

    start = time.monotonic()
    run("ansible-playbook", "-i", INVENTORY, "playbooks/scale.yml", "-e", "service=walkthrough/apacz", "-e", "scale=8")
    returned = time.monotonic()
    while len(distinct(8)) < 8:
        time.sleep(0.1)
    served = time.monotonic()
    run("ansible-playbook", "-i", INVENTORY, "playbooks/scale.yml", "-e", "service=walkthrough/apacz", "-e", "scale=4")
    report = {"wrk": results, "ratios": ratios,
              "scale_4_to_8": {"playbook_s": round(returned - start, 2),
                               "served_after_return_s": round(served - returned, 2)}}
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "lb.json"), "w") as handle:
        json.dump(report, handle, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
