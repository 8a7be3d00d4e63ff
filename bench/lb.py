"""How fast scaling reaches the load balancer, on the lab (./scripts/lab up): the time from
`playbooks/scale.yml` returning until the load balancer serves every new replica (4 -> 8).
What the load balancer's hop costs is bench/lb_hop.py's, like for like.

Writes bench/results/lb.json. Run: .venv/bin/python bench/lb.py [INVENTORY] (default: inventory)
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

from _lab import ENV, ROOT

INVENTORY = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "inventory")
LB_HOST = "10.3.0.5"


def run(*args, **kwargs):
    return subprocess.run(args, cwd=ROOT, env=ENV, capture_output=True, text=True, check=True, **kwargs).stdout


def distinct(count):
    seen = set()
    for _ in range(count):
        with urllib.request.urlopen(f"http://{LB_HOST}/", timeout=3) as response:
            seen.add(response.read().decode().strip())
    return seen


def main():
    run("ansible-playbook", "-i", INVENTORY, "site.yml")
    run("ansible-playbook", "-i", INVENTORY, "playbooks/scale.yml", "-e", "service=walkthrough/apacz", "-e", "scale=4")
    start = time.monotonic()
    run("ansible-playbook", "-i", INVENTORY, "playbooks/scale.yml", "-e", "service=walkthrough/apacz", "-e", "scale=8")
    returned = time.monotonic()
    while len(distinct(8)) < 8:
        time.sleep(0.1)
    served = time.monotonic()
    run("ansible-playbook", "-i", INVENTORY, "playbooks/scale.yml", "-e", "service=walkthrough/apacz", "-e", "scale=4")
    report = {"scale_4_to_8": {"playbook_s": round(returned - start, 2),
                               "served_after_return_s": round(served - returned, 2)}}
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "lb.json"), "w") as handle:
        json.dump(report, handle, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
