"""How a no-change run grows with hosts (issue 11, P2), in one run on fresh bare lab hosts.

Brings up a 3-host cluster (bench/inventory: 1 manager, 2 workers) and a 7-host one (3
managers, 4 workers), converges both with site.yml (the platform, no stacks), then runs,
interleaved for each round and each cluster: site.yml (must report changed=0), site.yml
--check, and bench/peer.yml, the playbook an operator would write by hand (apt, service,
docker_swarm), on the same converged hosts. Target: the 7-host no-change run at most 1.3 times
the 3-host one. The peer's own ratio is the same measure for a playbook of five tasks: what the
machine gives any Ansible run, with every host's container on the controller's cores.

Writes bench/results/no_change_scale.json. Run: .venv/bin/python bench/no_change_scale.py [ROUNDS] (default 3)
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import time

from _lab import ENV, ROOT, changed
from swarm_scale import fresh, inventory

PLATFORM_ONLY = ["-e", json.dumps({"paddock_stacks": [], "paddock_images": []})]
THREE = os.path.join(ROOT, "bench", "inventory")


def timed(path, *args):
    start = time.monotonic()
    run = subprocess.run(["ansible-playbook", "-i", path, *args], cwd=ROOT, env=ENV, capture_output=True, text=True)
    elapsed = round(time.monotonic() - start, 2)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed on {path}:\n{run.stdout[-3000:]}")
    if any(changed(run.stdout).values()):
        raise SystemExit(f"{' '.join(args)} on converged hosts changed something: {changed(run.stdout)}")
    return elapsed


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    hosts = [f"bn{n:02d}" for n in range(1, 8)]
    seven = inventory(hosts[:3], hosts[3:])
    clusters = {3: THREE, 7: seven}
    runs = {(count, kind): [] for count in clusters for kind in ("site", "check", "peer")}
    try:
        for path in clusters.values():
            fresh(path)
            subprocess.run(["ansible-playbook", "-i", path, "site.yml", *PLATFORM_ONLY], cwd=ROOT, env=ENV,
                           capture_output=True, check=True)
        for _ in range(rounds):
            for count, path in clusters.items():
                runs[count, "site"].append(timed(path, "site.yml", *PLATFORM_ONLY))
                runs[count, "check"].append(timed(path, "site.yml", "--check", *PLATFORM_ONLY))
                runs[count, "peer"].append(timed(path, os.path.join("bench", "peer.yml")))
    finally:
        for path in clusters.values():
            subprocess.run(["ansible-playbook", "-i", path, "playbooks/lab_down.yml"], cwd=ROOT, env=ENV,
                           capture_output=True)
        shutil.rmtree(seven)
    median = {f"{kind}_{count}_hosts_s": statistics.median(values) for (count, kind), values in runs.items()}
    result = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "rounds": rounds,
              "runs_s": {f"{kind}_{count}_hosts": values for (count, kind), values in runs.items()},
              "median_s": median,
              "seven_over_three": {kind: round(median[f"{kind}_7_hosts_s"] / median[f"{kind}_3_hosts_s"], 2)
                                   for kind in ("site", "check", "peer")},
              "targets": {"site_3_hosts_s": "<= 20", "seven_over_three.site": "<= 1.3",
                          "check no slower than site": True}}
    with open(os.path.join(ROOT, "bench", "results", "no_change_scale.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
