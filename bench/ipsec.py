"""Managed-network benchmark on the lab (./scripts/lab up), measured within one run.

Container to container across two hosts (paddock02 -> paddock03), through the IPsec managed
network and through an unencrypted Swarm overlay (VXLAN) between the same containers, same
client, interleaved: throughput (100 MB through busybox nc) and latency (ping), as ratios.

Writes bench/results/ipsec.json. Run: .venv/bin/python bench/ipsec.py
"""

import json
import os
import re
import subprocess
import time

from _lab import ENV, ROOT

KEY = os.path.expanduser("~/.paddock/paddock-lab/ansible")
KNOWN = os.path.expanduser("~/.paddock/paddock-lab/known_hosts")
HOSTS = {"paddock01": "10.3.0.4", "paddock02": "10.3.0.5", "paddock03": "10.3.0.7"}
IMAGE = "paddock/busybox:bench"
MEGABYTES = 100


def ssh(host, command):
    return subprocess.run(["ssh", "-i", KEY, "-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={KNOWN}",
                           f"root@{HOSTS[host]}", command], capture_output=True, text=True, check=True).stdout


def image(host):
    ssh(host, "command -v busybox >/dev/null || apt-get install -y -q busybox-static >/dev/null; "
              f"docker image inspect {IMAGE} >/dev/null 2>&1 || {{ d=$(mktemp -d); mkdir $d/bin; "
              "cp /bin/busybox $d/bin/; for c in sh sleep nc dd ping cat; do ln -s busybox $d/bin/$c; done; "
              f"tar -C $d -c . | docker import - {IMAGE} >/dev/null; }}")


def address(host, container, network):
    return ssh(host, f"docker inspect {container} --format '{{{{(index .NetworkSettings.Networks \"{network}\")"
                     ".IPAddress}}'").strip()


def throughput(target):
    start = time.monotonic()
    ssh("paddock02", f"docker exec bench-client sh -c 'dd if=/dev/zero bs=65536 count={MEGABYTES * 16} "
                     f"2>/dev/null | nc -w 3 {target} 5001'")
    return round(MEGABYTES / (time.monotonic() - start), 2)


def latency(target):
    out = ssh("paddock02", f"docker exec bench-client ping -c 30 -i 0.2 -q {target}")
    return float(re.search(r"= [\d.]+/([\d.]+)/", out).group(1))


def main():
    subprocess.run(["ansible-playbook", "-i", os.path.join(ROOT, "inventory"), "site.yml"], cwd=ROOT, check=True,
                   capture_output=True, env=ENV)
    for host in ("paddock02", "paddock03"):
        image(host)
    ssh("paddock01", "docker network inspect bench-overlay >/dev/null 2>&1 || "
                     "docker network create -d overlay --attachable bench-overlay >/dev/null")
    try:
        for host, name, command in (("paddock03", "bench-server", "while true; do nc -l -p 5001 >/dev/null; done"),
                                    ("paddock02", "bench-client", "sleep 86400")):
            ssh(host, f"docker rm -f {name} >/dev/null 2>&1; docker run -d --name {name} --network managed "
                      f"{IMAGE} sh -c '{command}' >/dev/null; docker network connect bench-overlay {name}")
        targets = {"ipsec": address("paddock03", "bench-server", "managed"),
                   "overlay": address("paddock03", "bench-server", "bench-overlay")}
        results = {path: {"mb_per_s": [], "ping_ms": []} for path in targets}
        for _round in range(3):  # interleaved, so drift on the noisy machine hits both paths alike
            for path, target in targets.items():
                results[path]["mb_per_s"].append(throughput(target))
                results[path]["ping_ms"].append(latency(target))
    finally:
        ssh("paddock03", "docker rm -f bench-server >/dev/null 2>&1 || true")
        ssh("paddock02", "docker rm -f bench-client >/dev/null 2>&1 || true")
        ssh("paddock01", "docker network rm bench-overlay >/dev/null 2>&1 || true")
    best = {path: {"mb_per_s": max(r["mb_per_s"]), "ping_ms": min(r["ping_ms"])} for path, r in results.items()}
    ipsec, overlay = best["ipsec"], best["overlay"]
    report = {"targets": targets, "runs": results, "best": best,
              "ratios": {"throughput_ipsec_over_overlay": round(ipsec["mb_per_s"] / overlay["mb_per_s"], 3),
                         "latency_ipsec_over_overlay": round(ipsec["ping_ms"] / overlay["ping_ms"], 3)}}
    with open(os.path.join(ROOT, "bench", "results", "ipsec.json"), "w") as handle:
        json.dump(report, handle, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
