"""Swarm benchmarks, each measured within one run on fresh bare lab hosts.

1. Add one node to a converged 3-node cluster (site.yml on 4 hosts) against provisioning that
   same kind of node alone (site.yml on a 1-host inventory). Target: at most 1.3 times.
2. site.yml on 3, 5 and 7 hosts (first run, and the no-change second run), to show how the
   cost grows with hosts.

Writes bench/results/swarm_scale.json. Run: .venv/bin/python bench/swarm_scale.py
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

import yaml
from _lab import ENV, ROOT

LAB = "paddock-bench-swarm"


def inventory(managers, workers):
    """A lab inventory directory (in /tmp) for the given host names, sharing the real group_vars."""
    def host(name):
        n = int(name[-2:])
        return {"ansible_host": f"10.3.5.{n + 10}", "lab_data_address": f"10.5.5.{n + 10}"}
    lab = {"ansible_user": "root", "ansible_ssh_private_key_file": f"~/.paddock/{LAB}/ansible",
           "ansible_ssh_common_args": f"-o StrictHostKeyChecking=accept-new -o IdentitiesOnly=yes "
                                      f"-o UserKnownHostsFile=~/.paddock/{LAB}/known_hosts"}
    data = {"all": {
        "vars": {"lab_name": LAB, "lab_state_dir": f"~/.paddock/{LAB}",
                 "lab_network": {"name": LAB, "subnet": "10.3.5.0/24", "gateway": "10.3.5.1"},
                 "lab_data_network": {"name": f"{LAB}-data", "subnet": "10.5.5.0/24", "gateway": "10.5.5.1"}},
        "children": {
            "paddock": {"children": {"swarm_managers": {"hosts": {h: host(h) for h in managers}},
                                     "swarm_workers": {"hosts": {h: host(h) for h in workers}}}},
            "lab": {"vars": lab, "hosts": dict.fromkeys(managers + workers)}}}}
    path = tempfile.mkdtemp(prefix="paddock-bench-")
    for name in ("group_vars", "cloud-config"):
        os.symlink(os.path.join(ROOT, "inventory", name), os.path.join(path, name))
    with open(os.path.join(path, "hosts.yml"), "w") as handle:
        yaml.safe_dump(data, handle)
    return path


def playbook(path, name):
    """Run a playbook; return its wall time in seconds and its output."""
    start = time.monotonic()
    run = subprocess.run(["ansible-playbook", "-i", path, name], cwd=ROOT, env=ENV, capture_output=True, text=True)
    elapsed = round(time.monotonic() - start, 2)
    if run.returncode != 0:
        raise SystemExit(f"{name} failed on {path}:\n{run.stdout[-3000:]}")
    return elapsed, run.stdout


def fresh(path):
    playbook(path, "playbooks/lab_down.yml")
    playbook(path, "playbooks/lab_up.yml")


def add_versus_alone():
    three = inventory(["bs01"], ["bs02", "bs03"])
    four = inventory(["bs01"], ["bs02", "bs03", "bs04"])
    alone = inventory(["bs09"], [])
    everything = inventory(["bs01"], ["bs02", "bs03", "bs04", "bs09"])
    try:
        playbook(everything, "playbooks/lab_down.yml")
        fresh(three)
        playbook(three, "site.yml")
        playbook(four, "playbooks/lab_up.yml")
        add, _ = playbook(four, "site.yml")
        playbook(alone, "playbooks/lab_up.yml")
        single, _ = playbook(alone, "site.yml")
        return {"add_one_node_to_3_s": add, "provision_that_node_alone_s": single,
                "ratio": round(add / single, 3), "target": "<= 1.3"}
    finally:
        playbook(everything, "playbooks/lab_down.yml")
        for path in (three, four, alone, everything):
            shutil.rmtree(path)


def growth():
    results = []
    for count in (3, 5, 7):
        hosts = [f"bn{n:02d}" for n in range(1, count + 1)]
        managers = hosts[:1 if count < 5 else 3]
        path = inventory(managers, hosts[len(managers):])
        try:
            fresh(path)
            first, _ = playbook(path, "site.yml")
            second, _ = playbook(path, "site.yml")
            results.append({"hosts": count, "managers": len(managers), "first_s": first, "second_s": second,
                            "first_per_host_s": round(first / count, 2)})
        finally:
            playbook(path, "playbooks/lab_down.yml")
            shutil.rmtree(path)
    return results


def main():
    result = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(),
              "add_node": add_versus_alone(), "growth": growth()}
    with open(os.path.join(ROOT, "bench", "results", "swarm_scale.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
