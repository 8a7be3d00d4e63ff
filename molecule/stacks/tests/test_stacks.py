"""The Rancher walkthrough from YAML, end to end: what a user sees through the load balancer."""

import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
from labtest import (  # noqa: E402
    PROJECT,
    EditedInventory,
    Load,
    failures,
    nodes,
    on_host,
    on_hosts,
    outer_docker,
    playbook,
    playbook_recording_ssh,
    recap,
    wait_for,
)

pytestmark = pytest.mark.timed  # runs alone: see conftest.py

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))
INVENTORY = os.path.join(SCENARIO, "inventory")
LAB = "paddock-mol-stacks"
LB = "http://10.3.6.12"
HOSTS = ["st01", "st02", "st03"]


def get(path="/", headers=None, timeout=3):
    request = urllib.request.Request(LB + path, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read().decode().strip(), response.headers


def answers(count, path="/"):
    return [get(path)[0] for _ in range(count)]


def lb_load(path="/"):
    """A steady stream of requests through the load balancer (labtest.Load), each needing a body."""
    return Load(lambda: get(path, timeout=5)[0])


class KeptAlive:
    """Requests over one client connection to the load balancer, reused as a browser reuses it
    (HAProxy keeps the client side alive whatever it does with the servers'), so a request cut
    or stalled on a connection that outlives a task is what a failure would show. A failed
    request closes the connection; the next one opens another."""

    def __init__(self, path):
        self.path, self.connection = path, None

    def __call__(self):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(LB.removeprefix("http://"), timeout=5)
        try:
            self.connection.request("GET", self.path)
            response = self.connection.getresponse()
            body = response.read().decode().strip()
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            self.connection = None
            raise OSError(repr(exc)) from exc
        assert response.status == 200, f"HTTP {response.status}"
        return body


def containers(service):
    """{container id: host} of a service's running tasks, across the nodes."""
    found = on_hosts(INVENTORY, "paddock", f"docker ps -q --filter label=com.docker.swarm.service.name={service}")
    return {cid: host for host, out in found.items() for cid in out.split()}


def lb_container():
    return on_host(INVENTORY, "st02", "docker ps -q --filter label=com.docker.swarm.service.name=walkthrough_lb")


@pytest.fixture(scope="module")
def edited():
    """An edited copy of the inventory whose walkthrough stack is a copy the tests change."""
    inventory = EditedInventory(INVENTORY)
    stack_dir = tempfile.mkdtemp(prefix="paddock-stack-")
    shutil.copytree(os.path.join(PROJECT, "stacks", "walkthrough"), stack_dir, dirs_exist_ok=True)
    stacks = inventory.group("paddock")["vars"]["paddock_stacks"]
    for stack in stacks:
        stack["path"] = os.path.normpath(os.path.join(INVENTORY, stack["path"]))
    stacks[0]["path"] = stack_dir
    for image in inventory.group("paddock")["vars"]["paddock_images"]:
        image["build"] = os.path.normpath(os.path.join(INVENTORY, image["build"]))
    inventory.save()
    inventory.stack_dir = stack_dir
    yield inventory
    inventory.remove()
    shutil.rmtree(stack_dir)


def edit_stack_file(inventory, name, change):
    path = os.path.join(inventory.stack_dir, name)
    with open(path) as handle:
        document = yaml.safe_load(handle)
    change(document)
    with open(path, "w") as handle:
        yaml.safe_dump(document, handle)


def test_the_load_balancer_answers_from_4_containers_in_round_robin():
    got = answers(8)
    assert len(set(got)) == 4, got
    assert got[:4] == got[4:], f"not a repeating order: {got}"
    # The hostnames are the containers of the service, spread over the hosts.
    tasks = containers("walkthrough_apacz")
    assert set(got) == {cid[:12] for cid in tasks}
    assert len(set(tasks.values())) >= 2, tasks


def test_the_web_tier_reaches_the_database_by_service_name_and_link_alias():
    web = containers("tiers_web")
    assert len(web) == 2
    cid, host = next(iter(web.items()))
    for name in ("db", "database"):
        reply = on_host(INVENTORY, host, (
            f"docker exec {cid} bash -c 'exec 3<>/dev/tcp/{name}/6379; printf \"PING\\r\\n\" >&3; "
            "head -c 7 <&3'"))
        assert reply.strip() == "+PONG", (name, reply)


BAD_STACKS = {
    "unknown key": (("docker-compose.yml", ["services", "apacz", "imagee"], "apacz:1"),
                    "docker-compose.yml: services.apacz.imagee: unknown key (did you mean 'image'?)"),
    "wrong type": (("rancher-compose.yml", ["services", "apacz", "health_check", "interval"], "2s"),
                   "rancher-compose.yml: services.apacz.health_check.interval: must be an integer, got string '2s'"),
    "missing target": (("rancher-compose.yml", ["services", "lb", "lb_config", "port_rules", 0, "service"], "web"),
                       "rancher-compose.yml: services.lb.lb_config.port_rules[0].service: target service 'web' "
                       "does not exist in this stack"),
    "negative scale": (("rancher-compose.yml", ["services", "apacz", "scale"], -2),
                       "rancher-compose.yml: services.apacz.scale: must not be negative, got -2"),
    "duplicate source port": (("rancher-compose.yml", ["services", "lb", "lb_config", "port_rules", 1],
                               {"source_port": 80, "target_port": 8080, "service": "apacz"}),
                              "rancher-compose.yml: services.lb.lb_config.port_rules[1].source_port: duplicate "
                              "source port 80: rule 0 already routes the same hostname and path"),
}


@pytest.mark.parametrize("case", sorted(BAD_STACKS))
def test_a_bad_stack_file_is_refused_before_any_host_changes(case):
    (name, path, value), expected = BAD_STACKS[case]
    stack_dir = tempfile.mkdtemp(prefix="paddock-bad-")
    shutil.copytree(os.path.join(PROJECT, "stacks", "walkthrough"), stack_dir, dirs_exist_ok=True)
    with open(os.path.join(stack_dir, name)) as handle:
        document = yaml.safe_load(handle)
    node = document
    for part in path[:-1]:
        node = node[part]
    if isinstance(node, list) and path[-1] == len(node):
        node.append(value)
    else:
        node[path[-1]] = value
    with open(os.path.join(stack_dir, name), "w") as handle:
        yaml.safe_dump(document, handle)
    inventory = EditedInventory(INVENTORY)
    inventory.group("paddock")["vars"]["paddock_stacks"] = [{"name": "walkthrough", "path": stack_dir}]
    inventory.save()
    version = "docker service inspect walkthrough_apacz --format '{{.Version.Index}}'"
    before = on_host(INVENTORY, "st01", version)
    try:
        run, ssh_calls = playbook_recording_ssh(inventory.dir, os.path.join(PROJECT, "site.yml"))
    finally:
        inventory.remove()
        shutil.rmtree(stack_dir)
    assert run.returncode != 0
    shown = os.path.relpath(os.path.join(stack_dir, name), PROJECT)
    # The file, the line of the key in it, the key path and the problem.
    wanted = rf"stack walkthrough: {re.escape(shown)}:\d+: {re.escape(expected.split(': ', 1)[1])}"
    assert re.search(wanted, run.stdout), failures(run.stdout)
    assert ssh_calls == []  # stopped in validation, before any connection to a host
    assert on_host(INVENTORY, "st01", version) == before


def test_scale_playbook_brings_8_replicas_into_rotation_without_touching_the_load_balancer():
    lb_before = lb_container()
    run = playbook(INVENTORY, os.path.join(PROJECT, "playbooks", "scale.yml"),
                   "-e", "service=walkthrough/apacz", "-e", "scale=8")
    assert run.returncode == 0, failures(run.stdout)
    got = wait_for(lambda: (lambda a: a if len(set(a)) == 8 else None)(answers(8)), timeout=20)
    assert got and len(set(got)) == 8, answers(8)
    assert lb_container() == lb_before
    again = playbook(INVENTORY, os.path.join(PROJECT, "playbooks", "scale.yml"),
                     "-e", "service=walkthrough/apacz", "-e", "scale=8")
    assert again.returncode == 0 and recap(again.stdout)["st01"]["changed"] == 0


def test_a_load_balancer_config_change_reloads_haproxy_without_dropping_a_request(edited):
    edit_stack_file(edited, "rancher-compose.yml", lambda d: d["services"]["lb"]["lb_config"].update(
        stickiness_policy={"cookie": "PADDOCK", "mode": "insert", "indirect": True, "nocache": True}))
    lb_before = lb_container()
    with lb_load() as load:
        time.sleep(2)
        run = playbook(edited.save(), os.path.join(PROJECT, "playbooks", "stack.yml"), "-e", "stack=walkthrough")
        time.sleep(3)
    print(f"rolling update apacz:1 -> apacz:2: {load.failed} of {load.ok + load.failed} requests failed")
    assert run.returncode == 0, failures(run.stdout)
    assert load.failed == 0, load.errors[:5]
    assert load.ok > 20
    assert lb_container() == lb_before, "the load balancer was redeployed instead of reloaded"
    body, headers = get()
    cookie = headers["Set-Cookie"].split(";")[0]
    assert cookie.startswith("PADDOCK=")
    assert {get(headers={"Cookie": cookie})[0] for _ in range(6)} == {body}


def test_scale_from_the_stack_file_back_to_2_and_the_run_mends_the_load_balancer_s_files(edited):
    edit_stack_file(edited, "rancher-compose.yml", lambda d: d["services"]["apacz"].update(scale=2))
    # Someone edits the load balancer's files on its host and leaves a directory no stack owns:
    # the run's probe reads the directory whole, and the run puts back what the files say.
    lb_dir = "/etc/paddock/lb/walkthrough_lb"
    written = on_host(INVENTORY, "st02", f"sha1sum {lb_dir}/haproxy.cfg; stat -c %a {lb_dir}")
    on_host(INVENTORY, "st02", f"echo '# edited by hand' >> {lb_dir}/haproxy.cfg; chmod 0777 {lb_dir}; "
                               "mkdir -p /etc/paddock/lb/left_behind")
    run = playbook(edited.save(), os.path.join(PROJECT, "playbooks", "stack.yml"), "-e", "stack=walkthrough")
    assert run.returncode == 0, failures(run.stdout)
    assert on_host(INVENTORY, "st02", f"sha1sum {lb_dir}/haproxy.cfg; stat -c %a {lb_dir}") == written
    assert "left_behind" not in on_host(INVENTORY, "st02", "ls /etc/paddock/lb")
    got = wait_for(lambda: (lambda a: a if len(set(a)) == 2 else None)(answers(8)), timeout=20)
    assert got and len(set(got)) == 2, answers(8)
    assert len(containers("walkthrough_apacz")) == 2


def test_a_start_first_rolling_update_under_load_fails_no_request(edited):
    edit_stack_file(edited, "docker-compose.yml", lambda d: d["services"]["apacz"].update(image="apacz:2"))
    # A new connection per request, and one connection kept alive: both kinds of client.
    with lb_load("/version") as load, Load(KeptAlive("/version")) as kept:
        time.sleep(2)
        run = playbook(edited.save(), os.path.join(PROJECT, "playbooks", "stack.yml"), "-e", "stack=walkthrough")
        time.sleep(3)
    for kind, made in (("new connections", load), ("kept alive", kept)):
        print(f"rolling update apacz:1 -> apacz:2, {kind}: {made.failed} of {made.ok + made.failed} requests failed")
    assert run.returncode == 0, failures(run.stdout)
    assert load.failed == 0, load.errors[:5]
    assert kept.failed == 0, kept.errors[:5]
    assert load.ok > 50 and kept.ok > 50
    assert set(answers(6, "/version")) == {"2"}


def test_an_unhealthy_container_leaves_the_rotation_within_seconds():
    def out_of_rotation():
        try:
            return all(a != cid[:12] for a in (get(timeout=1)[0] for _ in range(6)))
        except OSError:  # a request the frozen container holds: it is still in rotation
            return False

    tasks = containers("walkthrough_apacz")
    cid, host = next(iter(tasks.items()))
    on_host(INVENTORY, host, f"docker pause {cid}")
    try:
        start = time.time()
        gone = wait_for(out_of_rotation, timeout=20, interval=0.2)
        elapsed = time.time() - start
        assert gone, f"{cid[:12]} was still in rotation after 20 s"
        assert elapsed < 8, f"{cid[:12]} left the rotation only after {elapsed:.1f} s"
        assert cid[:12] not in answers(12)
    finally:
        on_host(INVENTORY, host, f"docker unpause {cid}")
    assert wait_for(lambda: cid[:12] in answers(len(tasks) * 2), timeout=20), "it did not come back"


def test_removing_a_stack_removes_its_services_and_network():
    run = playbook(INVENTORY, os.path.join(PROJECT, "playbooks", "stack.yml"), "-e", "stack=tiers",
                   "-e", "state=absent")
    assert run.returncode == 0, failures(run.stdout)
    assert on_host(INVENTORY, "st01", "docker service ls -q --filter label=com.docker.stack.namespace=tiers") == ""
    assert on_host(INVENTORY, "st01", "docker network ls -q --filter label=com.docker.stack.namespace=tiers") == ""
    again = playbook(INVENTORY, os.path.join(PROJECT, "playbooks", "stack.yml"), "-e", "stack=tiers",
                     "-e", "state=absent")
    assert again.returncode == 0 and all(r["changed"] == 0 for r in recap(again.stdout).values())


def test_losing_a_node_with_replicas_keeps_the_load_balancer_answering():
    run = playbook(INVENTORY, os.path.join(PROJECT, "playbooks", "scale.yml"),
                   "-e", "service=walkthrough/apacz", "-e", "scale=4")
    assert run.returncode == 0, failures(run.stdout)
    assert "st03" in containers("walkthrough_apacz").values()
    with lb_load() as load:
        time.sleep(2)
        outer_docker("stop", "-t", "0", f"{LAB}-st03")
        time.sleep(20)
    report = {"requests": load.ok + load.failed, "failed": load.failed, "errors": load.errors[:5]}
    print("node loss:", json.dumps(report))
    with open(os.path.join(tempfile.gettempdir(), "paddock-node-loss.json"), "w") as handle:
        json.dump(report, handle)
    outer_docker("start", f"{LAB}-st03")
    assert load.ok > 100
    assert load.failed <= 3, report
    assert nodes(INVENTORY, "st01")["st03"]["Status"] in ("Down", "Unknown", "Ready")
