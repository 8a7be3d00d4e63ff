"""A first converge against the floor, in one run, on fresh bare lab hosts (bench/inventory).

Each round brings up three fresh bare hosts twice, interleaved: once for bench/floor.sh (one
parallel shell script over SSH: the same Debian packages and services, then swarm init and join)
and once for site.yml with no stacks and no images (the platform itself). site.yml's second run
(no change) and a --check run on the converged hosts follow. Ratios are within one round.
Targets (issue 11): first converge at most 1.5 times the floor; no-change run at most 20 s.

Writes bench/results/converge.json. Run: .venv/bin/python bench/converge.py [ROUNDS] (default 2)
"""

import json
import os
import subprocess
import sys
import time

from _lab import ENV, ROOT, changed

INVENTORY = os.path.join(ROOT, "bench", "inventory")
PLATFORM_ONLY = ["-e", json.dumps({"paddock_stacks": [], "paddock_images": []})]


def timed(*command):
    start = time.monotonic()
    run = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True)
    elapsed = round(time.monotonic() - start, 2)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}")
    return elapsed, run.stdout


def playbook(*args):
    return timed("ansible-playbook", "-i", INVENTORY, *args)


def fresh_hosts():
    playbook("playbooks/lab_down.yml")
    playbook("playbooks/lab_up.yml")


def one_round():
    fresh_hosts()
    floor, _ = timed("bash", os.path.join(ROOT, "bench", "floor.sh"), INVENTORY)
    fresh_hosts()
    first, _ = playbook("site.yml", *PLATFORM_ONLY)
    second, output = playbook("site.yml", *PLATFORM_ONLY)
    if any(changed(output).values()):
        raise SystemExit(f"the second run changed something: {changed(output)}")
    check, output = playbook("site.yml", "--check", *PLATFORM_ONLY)
    if any(changed(output).values()):
        raise SystemExit(f"--check on converged hosts reported changes: {changed(output)}")
    return {"floor_s": floor, "first_s": first, "second_s": second, "check_s": check,
            "first_over_floor": round(first / floor, 2), "second_over_first": round(second / first, 3)}


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    try:
        results = [one_round() for _ in range(rounds)]
    finally:
        playbook("playbooks/lab_down.yml")
    result = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "hosts": 3, "rounds": results,
              "targets": {"first_over_floor": "<= 1.5", "second_s": "<= 20"}}
    with open(os.path.join(ROOT, "bench", "results", "converge.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
