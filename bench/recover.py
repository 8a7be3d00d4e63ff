"""How long a swarm that lost its manager majority stays read-only under playbooks/recover.yml,
and whether its service keeps answering meanwhile (issue 16: under 2 minutes on the lab).

Fresh bare lab hosts: 3 managers and 2 workers, a service with a task on each worker publishing
a host port. Each round, under a steady stream of requests to both tasks: 2 of the 3 managers
stop dead; once the swarm refuses changes, recover.yml runs on the survivor, and a poller notes
the first moment the swarm takes a change again. Then the lost managers start again, recover.yml
makes them leave their stale swarm and site.yml joins them, ready for the next round. The same
run times a no-change site.yml on the same hosts, for a ratio that does not depend on the machine.

Writes bench/results/recover.json. Run: .venv/bin/python bench/recover.py [ROUNDS]
"""

import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

from _lab import ROOT
from swarm_scale import LAB, fresh, inventory, playbook

sys.path.insert(0, os.path.join(ROOT, "molecule", "shared"))
from labtest import TEST_IMAGE, Load, build_test_image, on_host, on_hosts, wait_for  # noqa: E402

MANAGERS, WORKERS = ["bs01", "bs02", "bs03"], ["bs04", "bs05"]
LOST = ["bs02", "bs03"]
TASKS = ["http://10.3.5.14:8080/", "http://10.3.5.15:8080/"]
TARGETS = itertools.cycle(TASKS)
SERVICE = (f"docker service create -q --name web --replicas 2 --replicas-max-per-node 1 "
           f"--constraint node.role==worker --publish mode=host,target=8080,published=8080 "
           f"--no-resolve-image {TEST_IMAGE} sh -c 'mkdir -p /www && hostname > /www/index.html "
           f"&& exec httpd -f -p 8080 -h /www'")


def writable(path):
    """Whether the swarm takes a change now (a service label), asked of the survivor."""
    return on_host(path, "bs01", "timeout 20 docker service update -q --detach --label-add paddock.bench=1 web "
                                 ">/dev/null 2>&1 && echo yes || echo no") == "yes"


def request():
    """One request (labtest.Load makes them 50 ms apart), to each task in turn."""
    with urllib.request.urlopen(next(TARGETS), timeout=2) as response:
        return response.read()


def one_round(path):
    with Load(request, interval=0.05) as load:
        subprocess.run(["docker", "stop", "-t", "0", *(f"{LAB}-{host}" for host in LOST)], check=True,
                       capture_output=True)
        lost_at = time.monotonic()
        if not wait_for(lambda: not writable(path), timeout=90, interval=2):
            raise SystemExit("the swarm still took changes 90 s after losing 2 of 3 managers")
        refused_after = round(time.monotonic() - lost_at, 1)
        started, first_writable = time.monotonic(), []

        def poll():
            while not first_writable and time.monotonic() - started < 300:
                if writable(path):
                    first_writable.append(round(time.monotonic() - started, 1))
                time.sleep(1)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        recover_s, _ = playbook(path, "playbooks/recover.yml")
        poller.join()
    subprocess.run(["docker", "start", *(f"{LAB}-{host}" for host in LOST)], check=True, capture_output=True)
    playbook(path, "playbooks/lab_up.yml")  # waits until their sshd answers
    playbook(path, "playbooks/recover.yml")  # the returning managers leave their stale swarm
    playbook(path, "site.yml")  # and join again as the inventory says
    return {"refused_after_loss_s": refused_after, "writable_after_s": first_writable[0] if first_writable else None,
            "recover_playbook_s": recover_s, "requests": load.ok + load.failed, "failed": load.failed,
            "errors": load.errors[:3]}


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    path = inventory(MANAGERS, WORKERS)
    try:
        fresh(path)
        playbook(path, "site.yml")
        no_change, _ = playbook(path, "site.yml")
        build_test_image(path, "swarm_workers")
        on_host(path, "bs01", SERVICE)
        results = [one_round(path) for _ in range(rounds)]
        managers = on_hosts(path, "bs01", "docker node ls --filter role=manager -q | wc -l")["bs01"]
    finally:
        playbook(path, "playbooks/lab_down.yml")
        shutil.rmtree(path)
    writable_s = [r["writable_after_s"] for r in results if r["writable_after_s"] is not None]
    result = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "rounds": results,
              "managers_after": int(managers), "no_change_site_s": no_change,
              "worst_writable_after_s": max(writable_s) if writable_s else None,
              "worst_ratio_to_no_change_site": round(max(writable_s) / no_change, 2) if writable_s else None,
              "goal": "writable again within 120 s of running recover.yml, no failed request"}
    with open(os.path.join(ROOT, "bench", "results", "recover.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
