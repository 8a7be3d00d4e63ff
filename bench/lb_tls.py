"""What TLS termination costs on Paddock's load balancer, measured within one run.

On the molecule/stacks cluster (`molecule converge -s stacks`), whose host st02 runs two load
balancers in front of the same four Apache tasks: the walkthrough's on port 80 (plain HTTP)
and the `front` stack's on 9443 (HTTPS with the lab's ECDSA P-256 certificate). Rounds are
interleaved, so drift on the noisy machine hits every kind alike:

- requests per second and p50/p99 with wrk (2 threads, 16 kept-alive connections, 10 s) over
  plain HTTP and over HTTPS (each connection's handshake happens once, then requests reuse it);
- TLS handshakes per second with `openssl s_time` for 10 s (wall clock), full (`-new`) and
  resumed with the session the server issued (`-reuse`), one connection at a time, without SNI
  (so the default certificate).

Writes bench/results/lb_tls.json. Run: .venv/bin/python bench/lb_tls.py [ROUNDS] (default 2)
"""

import json
import os
import re
import subprocess
import sys
import time

from _lab import ROOT, wrk_report

LB_HOST = "10.3.6.12"
TLS_DIR = os.path.expanduser("~/.paddock/paddock-mol-stacks/tls")


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=120).stdout


def wrk(url, seconds=10):
    return wrk_report(run("wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url))


def handshakes(mode, seconds=10):
    """Connections per second that ``openssl s_time`` made: ``-new`` full handshakes, ``-reuse`` resumed."""
    out = run("openssl", "s_time", "-connect", f"{LB_HOST}:9443", "-CAfile", os.path.join(TLS_DIR, "www.pem"),
              f"-{mode}", "-time", str(seconds))
    connections, elapsed = re.search(r"(\d+) connections in (\d+) real seconds", out).groups()
    return round(int(connections) / float(elapsed), 1)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    results = {"http": [], "https": [], "full_handshakes_per_s": [], "resumed_handshakes_per_s": []}
    for _round in range(rounds):
        results["http"].append(wrk(f"http://{LB_HOST}/"))
        results["https"].append(wrk(f"https://{LB_HOST}:9443/"))
        results["full_handshakes_per_s"].append(handshakes("new"))
        results["resumed_handshakes_per_s"].append(handshakes("reuse"))
        time.sleep(1)
    best_http = max(r["rps"] for r in results["http"])
    best_https = max(r["rps"] for r in results["https"])
    report = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "rounds": results,
              "ratios": {"https_rps_over_http": round(best_https / best_http, 3),
                         "https_p50_added_ms": round(min(r["p50_ms"] for r in results["https"])
                                                     - min(r["p50_ms"] for r in results["http"]), 3),
                         "resumed_over_full_handshakes": round(max(results["resumed_handshakes_per_s"])
                                                               / max(results["full_handshakes_per_s"]), 2)}}
    with open(os.path.join(ROOT, "bench", "results", "lb_tls.json"), "w") as handle:
        json.dump(report, handle, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
