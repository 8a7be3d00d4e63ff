"""The load balancers' virtual address (paddock_lb_vips, keepalived): clients use 10.3.6.100,
which st02 or st03 holds. When its holder stops dead, the other takes it within 3 s, fewer than
1% of the requests made meanwhile fail and none after. Named to run before test_stacks.py,
whose last test stops a node; the stopped host is brought back, and the cluster is whole again,
before this test ends.

A host frozen for seconds is also a Swarm node its peers lost: Docker's service discovery on the
other hosts drops its tasks and takes them back only some seconds after it wakes (about 30 s
measured). The test waits for that, bounded, so the tests after it see a whole cluster, and
says how long it took.

Then the holder's engine is upgraded by site.yml under the same load: no request may fail."""

import os
import sys
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
from labtest import (  # noqa: E402
    REPACKAGE,
    UNPACKAGE,
    EditedInventory,
    Load,
    engine_outages,
    failures,
    on_host,
    on_hosts,
    outer_docker,
    playbook,
    wait_for,
)

pytestmark = pytest.mark.timed  # runs alone: see conftest.py

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))
INVENTORY = os.path.join(SCENARIO, "inventory")
VIP = "10.3.6.100"
LB_HOSTS = ["st02", "st03"]
ADDRESSES = {"st02": "10.3.6.12", "st03": "10.3.6.13"}
SERVICE = "label=com.docker.swarm.service.name"
BACKEND_OUT = 4  # s after the freeze: the walkthrough's health check (1 s apart, fall 2, 1 s timeout)


def holds(host):
    return f" {VIP}/" in on_host(INVENTORY, host, "ip -o -4 addr show")


def holders():
    return [host for host in LB_HOSTS if holds(host)]


def whole():
    """Every load balancer answers from every apacz container, and every web container resolves
    the database by name: what the tests after this one take for granted."""
    found = on_hosts(INVENTORY, "paddock", f"docker ps -q --filter {SERVICE}=walkthrough_apacz")
    apacz = {cid[:12] for out in found.values() for cid in out.split()}
    for host in LB_HOSTS:
        seen = set()
        for _ in range(2 * len(apacz)):
            try:
                with urllib.request.urlopen(f"http://{ADDRESSES[host]}/", timeout=2) as response:
                    seen.add(response.read().decode().strip())
            except OSError:
                return False
        if seen != apacz:
            return False
    web = on_hosts(INVENTORY, "paddock", f"docker ps -q --filter {SERVICE}=tiers_web")
    for host, out in web.items():
        for cid in out.split():
            if "MISSING" in on_host(INVENTORY, host, f"docker exec {cid} getent hosts db || echo MISSING"):
                return False
    return True


def answer(timeout=2):
    with urllib.request.urlopen(f"http://{VIP}/", timeout=timeout) as response:
        return response.read().decode().strip()


def test_exactly_one_load_balancer_host_holds_the_virtual_address_and_it_answers():
    assert len(holders()) == 1
    assert answer()  # an apacz container's hostname, through the load balancer


def test_when_the_holder_dies_the_other_takes_the_address_within_3_s_and_requests_go_on():
    [holder] = holders()
    [other] = [host for host in LB_HOSTS if host != holder]
    container = f"paddock-mol-stacks-{holder}"
    with Load(answer, interval=0.01) as load:
        time.sleep(3)
        stopped = time.monotonic()
        outer_docker("pause", container)  # frozen: no VRRP advertisement, no answer, no FIN
        try:
            moved = wait_for(lambda: holds(other), timeout=10, interval=0.1)
            took = time.monotonic() - stopped
            time.sleep(5)
        finally:
            outer_docker("unpause", container)
            back = time.monotonic()
        # The frozen host wakes up as the master it was, sees the other, and one of them yields.
        settled = wait_for(lambda: len(holders()) == 1, timeout=10, interval=0.2)
        time.sleep(5)
    healed = wait_for(whole, timeout=120, interval=1)
    print(f"the cluster was whole again {time.monotonic() - back:.0f} s after {holder} woke")
    window = [ok for started, ok in load.results if started >= stopped - 2]
    print(f"{VIP} moved from {holder} to {other} in {took:.2f} s; {window.count(False)} of {len(window)} "
          "requests failed")
    assert moved, f"{other} did not take {VIP}"
    assert took < 3, f"the address moved after {took:.1f} s"
    assert settled, "both hosts hold the address"
    assert window.count(False) < 0.01 * len(window), f"{window.count(False)} of {len(window)} failed"
    # The frozen holder also runs one of the Apache tasks: until the load balancers' health checks
    # take it out (2 failed checks a second apart, each waiting up to its 1 s timeout), a request
    # may still be sent to it. That is a backend lost, not the address moving; "after the move"
    # starts once both are over.
    after_move = [ok for started, ok in load.results if stopped + max(took + 1, BACKEND_OUT) <= started < back]
    after_all = [ok for started, ok in load.results if started >= back + 3]
    assert after_move and all(after_move), (
        f"{after_move.count(False)} of {len(after_move)} failed after the move: {load.errors[:3]}")
    assert after_all and all(after_all), (
        f"{after_all.count(False)} of {len(after_all)} failed once it was back: {load.errors[:3]}")
    assert healed, f"120 s after {holder} woke, a load balancer or a web container still missed a service's tasks"


def test_an_engine_upgrade_of_the_address_holder_under_load_fails_no_request():
    """A changed docker_version upgrades the engine of the host that holds the address and runs
    Apache tasks, by site.yml's upgrade path: the address moves to the peer first, the node is
    drained (its tasks start elsewhere and leave the load balancers' rotation), the engine is
    reinstalled and restarted, the node made active again. The lab reaches no other engine
    version, so the same binaries are repackaged as a new version in a local apt repository:
    this proves the path and that no request fails on it, not that a newer engine joins an
    older swarm (docs/day-2.md)."""
    [holder] = holders()
    [other] = [host for host in LB_HOSTS if host != holder]
    assert on_host(INVENTORY, holder, f"docker ps -q --filter {SERVICE}=walkthrough_apacz"), "no Apache task to move"
    installed = on_host(INVENTORY, holder, "dpkg-query -W -f '${Version}' docker.io")
    version = installed + "+paddock1"
    edited = EditedInventory(INVENTORY)
    edited.group("paddock", "swarm_workers")["hosts"][holder]["docker_version"] = version
    inventory = edited.save()
    on_host(INVENTORY, holder, REPACKAGE.replace("VERSION", version))
    try:
        with Load(answer, interval=0.01) as load:
            time.sleep(2)
            run = playbook(inventory, "site.yml")
            time.sleep(2)
    finally:
        on_host(INVENTORY, holder, UNPACKAGE)
        edited.remove()
    assert run.returncode == 0, failures(run.stdout)
    assert on_host(INVENTORY, holder, "dpkg-query -W -f '${Version}' docker.io") == version
    stopped, started = engine_outages(INVENTORY, holder)[holder]
    print(f"{holder}'s engine was away {started - stopped:.1f} s; {load.failed} of {load.ok + load.failed} "
          f"requests through {VIP} failed")
    assert started > stopped > 0, "the engine was not restarted"
    assert holders() == [other], "the address did not stay with the peer it moved to"
    assert load.ok > 500 and load.failed == 0, f"{load.failed} of {load.ok + load.failed} failed: {load.errors[:3]}"
    assert wait_for(whole, timeout=120, interval=1), "a load balancer or a web container missed a service's tasks"
    assert on_host(INVENTORY, "st01", f"docker node inspect {holder} --format '{{{{.Spec.Availability}}}}'") == "active"
