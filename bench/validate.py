"""How long validation takes before any host is touched: playbooks/validate.yml on the lab's
inventory as it is, and with one host's cloud-config replaced by a 2.6 MB file of 30,000
write_files, in interleaved rounds of one run. No host is needed (validation opens no
connection); the lab's inventory is copied to a temporary directory, with its images, stacks
and catalog linked beside it.

    .venv/bin/python bench/validate.py [--rounds 3]

Prints the median of each and their ratio, and writes bench/results/validate.json.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def big_cloud_config(path, files=30000):
    entries = [{"path": f"/etc/paddock/f{i:05d}.conf", "content": "x" * 20 + "\n", "permissions": "0644"}
               for i in range(files)]
    with open(path, "w") as handle:
        handle.write("#cloud-config\n" + yaml.safe_dump({"write_files": entries}))
    return os.path.getsize(path)


def run(inventory):
    start = time.monotonic()
    done = subprocess.run([PLAYBOOK, "-i", inventory, os.path.join(ROOT, "playbooks", "validate.yml")],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"validate.yml failed on {inventory}:\n{done.stdout[-2000:]}")
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        for name in ("images", "stacks", "catalog"):
            os.symlink(os.path.join(ROOT, name), os.path.join(work, name))
        plain, big = os.path.join(work, "plain"), os.path.join(work, "big")
        shutil.copytree(os.path.join(ROOT, "inventory"), plain)
        shutil.copytree(os.path.join(ROOT, "inventory"), big)
        size = big_cloud_config(os.path.join(big, "cloud-config", "big.yml"))
        os.makedirs(os.path.join(big, "host_vars"), exist_ok=True)
        with open(os.path.join(big, "host_vars", "paddock03.yml"), "w") as handle:
            handle.write("cloud_config: cloud-config/big.yml\n")
        times = {"plain": [], "big": []}
        for _ in range(args.rounds):
            times["plain"].append(run(plain))
            times["big"].append(run(big))
    result = {
        "rounds": args.rounds,
        "cloud_config_bytes": size,
        "validate_s": round(statistics.median(times["plain"]), 2),
        "validate_big_cloud_config_s": round(statistics.median(times["big"]), 2),
    }
    result["ratio"] = round(result["validate_big_cloud_config_s"] / result["validate_s"], 2)
    print(json.dumps(result, indent=2))
    with open(os.path.join(ROOT, "bench", "results", "validate.json"), "w") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    main()
