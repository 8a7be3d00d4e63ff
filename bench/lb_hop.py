"""What the load balancer's hop costs, like for like, measured within one run.

On the molecule/stacks cluster (`molecule converge -s stacks`): one client container on st01,
attached to the walkthrough's overlay network, runs wrk twice per round, interleaved:

- direct: wrk's threads spread over the N Apache tasks themselves (each thread holds
  connections to one task's overlay address, as a client-side balancer would);
- lb: the same wrk, threads and connections, to the load balancer on st02:80, which balances
  over the same N tasks. The client reaches it as any client on the network does (not through
  st02's own bridge, where the lab's userland proxy would copy every byte; see docs/access-control.md, Hardening).

Same client, same host, same concurrency, same tasks: the ratio is what the hop costs. Each
pair runs twice: saturated (4 threads, 16 connections: requests per second, where the load
balancer competes for the same cores as everything else), and with one connection, one request
at a time, to a task on another host (the latency the hop adds when nothing waits for a core).
wrk is the controller's own binary (Debian's), copied into the client with the library it needs.

Writes bench/results/lb_hop.json. Run: .venv/bin/python bench/lb_hop.py [ROUNDS] (default 3)
"""

import json
import os
import subprocess
import sys
import time

from _lab import ROOT, wrk_report

HOST = "paddock-mol-stacks-st01"  # the client's; the load balancer is st02's
LB = "10.3.6.12"
CLIENT = "paddock-bench-client"
SECONDS = 10
LOADS = {"saturated": (4, 16), "one_connection": (1, 1)}  # wrk threads, connections
# Each wrk thread connects to one address of TARGETS, in turn (wrk's setup() hook).
SPREAD = """
local addrs, count = {}, 0
function setup(thread)
  if #addrs == 0 then
    for host in string.gmatch(os.getenv("TARGETS"), "%S+") do
      for _, addr in ipairs(wrk.lookup(host, "80")) do table.insert(addrs, addr) end
    end
  end
  count = count + 1
  thread.addr = addrs[(count - 1) % #addrs + 1]
end
"""


def on_host(*args, stdin=None):
    run = subprocess.run(["docker", "exec", "-i", HOST, *args], input=stdin, capture_output=True, text=True,
                         timeout=120)
    if run.returncode:
        raise SystemExit(f"{' '.join(args)}: {run.stderr or run.stdout}")
    return run.stdout


def in_client(command, **env):
    exports = [f"{key}={value}" for key, value in env.items()]
    return on_host("docker", "exec", *sum((["-e", e] for e in exports), []), CLIENT, "sh", "-c", command)


def start_client():
    image = on_host("docker", "service", "inspect", "walkthrough_lb",  # st01 is the manager
                    "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}").strip()
    on_host("sh", "-c", f"docker rm -f {CLIENT} >/dev/null 2>&1; docker run -d --name {CLIENT} "
            f"--network walkthrough_default --entrypoint sleep {image} infinity >/dev/null")
    for path in ("/usr/bin/wrk", "/lib/x86_64-linux-gnu/libluajit-5.1.so.2"):
        with open(os.path.realpath(path), "rb") as handle:
            data = handle.read()
        target = f"/usr/local/lib/{os.path.basename(path)}"
        subprocess.run(["docker", "exec", "-i", HOST, "docker", "exec", "-i", "-u", "0", CLIENT, "sh", "-c",
                        f"cat > {target} && chmod 755 {target}"], input=data, check=True, timeout=60)
    in_client(f"cat > /tmp/spread.lua <<'LUA'\n{SPREAD}\nLUA")


def wrk(targets, threads, connections):
    out = in_client(f"LD_LIBRARY_PATH=/usr/local/lib /usr/local/lib/wrk -t{threads} -c{connections} -d{SECONDS}s "
                    f"--latency -s /tmp/spread.lua http://{targets[0]}:80/", TARGETS=" ".join(targets))
    return wrk_report(out)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    start_client()
    try:
        tasks = sorted(set(in_client("getent ahostsv4 tasks.walkthrough_apacz | cut -d' ' -f1").split()))
        # One connection goes to a task on another host than the client's, as the load balancer's
        # requests do: the difference is then HAProxy's hop, not a local task's shorter path.
        local = on_host("docker", "network", "inspect", "walkthrough_default",
                        "--format", "{{range .Containers}}{{.IPv4Address}} {{end}}")
        remote = [task for task in tasks if f"{task}/" not in local]
        results = {load: {"direct": [], "lb": []} for load in LOADS}
        for _round in range(rounds):
            for load, (threads, connections) in LOADS.items():
                results[load]["direct"].append(wrk(tasks if threads > 1 else remote, threads, connections))
                results[load]["lb"].append(wrk([LB], threads, connections))
                time.sleep(1)
    finally:
        on_host("docker", "rm", "-f", CLIENT)

    def best(load, kind, key, pick):
        return pick(r[key] for r in results[load][kind])

    report = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "tasks": len(tasks),
              "seconds": SECONDS, "loads": {load: {"threads": t, "connections": c} for load, (t, c) in LOADS.items()},
              "rounds": results,
              "ratios": {load: {"rps_lb_over_direct": round(best(load, "lb", "rps", max)
                                                            / best(load, "direct", "rps", max), 3),
                                "p50_added_ms": round(best(load, "lb", "p50_ms", min)
                                                      - best(load, "direct", "p50_ms", min), 3),
                                "p99_added_ms": round(best(load, "lb", "p99_ms", min)
                                                      - best(load, "direct", "p99_ms", min), 3)}
                         for load in LOADS}}
    with open(os.path.join(ROOT, "bench", "results", "lb_hop.json"), "w") as handle:
        json.dump(report, handle, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
