"""Catalog benchmarks on the lab (./scripts/lab up), each measured within one run.

1. Launching WordPress from the catalog on a converged lab (images already in the registry)
   against launching it again with the same answers (nothing to do): the no-change ratio.
2. The upgrade to version 1 (WordPress scaled to 2, start-first) against the first launch.
3. Through the load balancer against straight to the WordPress container, for the same page
   (the installer, which reaches the database): requests per second and p50 with wrk.

Writes bench/results/catalog.json. Run: .venv/bin/python bench/catalog.py [INVENTORY]
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

import yaml
from _lab import ENV, ROOT

INVENTORY = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "inventory")
LB_HOST = "10.3.0.5"
SSH = ["ssh", "-i", os.path.expanduser("~/.paddock/paddock-lab/ansible"), "-o", "IdentitiesOnly=yes",
       "-o", "UserKnownHostsFile=" + os.path.expanduser("~/.paddock/paddock-lab/known_hosts")]


def run(*args):
    return subprocess.run(args, cwd=ROOT, env=ENV, capture_output=True, text=True, check=True).stdout


def timed(*args):
    start = time.monotonic()
    out = run("ansible-playbook", "-i", INVENTORY, "playbooks/catalog.yml", *args)
    changed = sum(int(n) for n in re.findall(r"changed=(\d+)", out))
    return time.monotonic() - start, changed


def wrk(url, seconds=10):
    out = run("wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", url)
    value, unit = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]}


def main():
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
        yaml.safe_dump({"public_port": 8080, "db_password": os.urandom(12).hex(),
                        "db_root_password": os.urandom(12).hex()}, handle)
    app = ("-e", "app=wordpress", "-e", "stack_name=benchblog", "-e", f"answers_file={handle.name}")
    try:
        run("ansible-playbook", "-i", INVENTORY, "site.yml")
        timed(*app, "-e", "state=absent")
        first, _ = timed(*app, "-e", "version=0")
        again, changed = timed(*app, "-e", "version=0")
        assert changed == 0, f"the second launch changed {changed} things"
        upgrade, _ = timed(*app)
        # The same page, straight to one WordPress task (its address on the stack network, from
        # the load-balancer host) and through the load balancer.
        task = run(*SSH, f"root@{LB_HOST}", "docker run --rm --network benchblog_default "
                   "10.3.0.4:5000/paddock/haproxy:2.6 getent hosts tasks.benchblog_wordpress | head -1").split()[0]
        run(*SSH, f"root@{LB_HOST}", "docker rm -f bench-wp-proxy >/dev/null 2>&1; docker run -d --name "
            f"bench-wp-proxy --network benchblog_default -p 8082:8082 10.3.0.4:5000/paddock/haproxy:2.6 "
            f"sh -c 'printf \"defaults\\n mode tcp\\n timeout connect 1s\\n timeout client 30s\\n timeout server "
            f"30s\\nlisten l\\n bind :8082\\n server s {task}:80\\n\" > /tmp/h.cfg && exec haproxy -f /tmp/h.cfg'")
        time.sleep(2)
        rounds = []
        for _ in range(2):
            rounds.append({"direct": wrk(f"http://{LB_HOST}:8082/wp-admin/install.php"),
                           "lb": wrk(f"http://{LB_HOST}:8080/wp-admin/install.php")})
    finally:
        subprocess.run([*SSH, f"root@{LB_HOST}", "docker rm -f bench-wp-proxy"], capture_output=True)
        subprocess.run(["ansible-playbook", "-i", INVENTORY, "playbooks/catalog.yml", *app, "-e", "state=absent"],
                       cwd=ROOT, env=ENV, capture_output=True)
        os.unlink(handle.name)
    direct = sum(r["direct"]["rps"] for r in rounds) / len(rounds)
    lb = sum(r["lb"]["rps"] for r in rounds) / len(rounds)
    result = {"first_launch_s": round(first, 2), "same_answers_again_s": round(again, 2),
              "rerun_ratio": round(again / first, 2), "upgrade_s": round(upgrade, 2),
              "upgrade_ratio": round(upgrade / first, 2), "wrk_rounds": rounds,
              "lb_rps_ratio": round(lb / direct, 2),
              "lb_p50_extra_ms": round(sum(r["lb"]["p50_ms"] - r["direct"]["p50_ms"] for r in rounds) / len(rounds), 2)}
    with open(os.path.join(ROOT, "bench", "results", "catalog.json"), "w") as out:
        json.dump(result, out, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
