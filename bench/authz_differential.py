"""The differential run in full: paddock-authz's reading of a body against the engine's own.

For each route whose body the policy reads, ``--bodies`` bodies (2,000 by default) are
generated from ``--seed`` (molecule/shared/authz_bodies.py: case, long s and Kelvin sign,
escapes, duplicates, unknown keys, HostConfig fields at the top, odd types, nulls, trailing
data), read by the plugin's reader (_gojson), and each one it reads is sent to the lab's
paddock01 engine as alice, an admin (./scripts/lab up first); what the engine recorded is
read back and compared with what the reader believed. The figure that matters is
``differences``: bodies the two read differently. Molecule/default runs a seeded subset of this.

    .venv/bin/python bench/authz_differential.py [--bodies 2000] [--seed 31]

Writes bench/results/authz_differential.json.
"""

import argparse
import json
import os
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _lab import ROOT  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "molecule", "shared"))
import authz_bodies  # noqa: E402
from differential import Engine, run_route  # noqa: E402

ENGINE = "10.3.0.4"
LAB = os.path.expanduser("~/.paddock/paddock-lab")
IMAGE = "paddock-differential:1"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bodies", type=int, default=2000, help="per route")
    parser.add_argument("--seed", type=int, default=31)
    args = parser.parse_args()
    # An image on paddock01 for the creates to name (nothing runs but the exec target's sleep).
    subprocess.run(["ssh", "-i", f"{LAB}/ansible", "-o", "IdentitiesOnly=yes", "-o",
                    f"UserKnownHostsFile={LAB}/known_hosts", f"root@{ENGINE}",
                    f"docker image inspect {IMAGE} >/dev/null 2>&1 || {{ d=$(mktemp -d); mkdir $d/bin; "
                    "cp /bin/busybox $d/bin/ 2>/dev/null || apt-get install -y -q busybox-static >/dev/null; "
                    "cp /bin/busybox $d/bin/; for c in sh sleep true id; do ln -s busybox $d/bin/$c; done; "
                    f"tar -C $d -c . | docker import - {IMAGE} >/dev/null; }}"], check=True, timeout=300)
    context = ssl.create_default_context(cafile=f"{LAB}/pki/ca.pem")
    context.check_hostname = False
    context.load_cert_chain(f"{LAB}/pki/users/alice/cert.pem", f"{LAB}/pki/users/alice/key.pem")
    engine = Engine(ENGINE, context)
    started, routes, differences = time.monotonic(), {}, []
    with engine.targets(IMAGE):
        for route in authz_bodies.ROUTES:
            counts, found = run_route(engine, route, args.bodies, args.seed, IMAGE)
            routes[route], differences = counts, differences + found
            print(route, counts, flush=True)
    result = {"date": time.strftime("%Y-%m-%d"), "seed": args.seed, "bodies_per_route": args.bodies,
              "routes": routes, "bodies": sum(c["bodies"] for c in routes.values()),
              "compared": sum(c["compared"] for c in routes.values()),
              "differences": len(differences), "first_differences": [
                  {"route": r, "name": n, "body": b.decode(errors="replace")[:400], "what": str(w)[:400]}
                  for r, n, b, w in differences[:20]],
              "seconds": round(time.monotonic() - started)}
    print(json.dumps({k: v for k, v in result.items() if k != "routes"}, indent=2))
    with open(os.path.join(ROOT, "bench", "results", "authz_differential.json"), "w") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
