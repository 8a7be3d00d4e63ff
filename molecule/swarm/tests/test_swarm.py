"""A swarm formed from the inventory, and changed only by editing it: what a user sees."""

import glob
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
from labtest import (  # noqa: E402
    PROJECT,
    REPACKAGE,
    TEST_IMAGE,
    UNPACKAGE,
    EditedInventory,
    build_test_image,
    changed_tasks,
    engine_outages,
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

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))
INVENTORY = os.path.join(SCENARIO, "inventory")
LAB = "paddock-mol-swarm"
MANAGERS, WORKERS = ["sw01", "sw02", "sw03"], ["sw04", "sw05"]
REGISTRY = "10.3.4.11:5000"  # the platform's registry: on the first manager, sw01 (hosts.yml)
IMAGE = TEST_IMAGE


def task_containers(pattern, service):
    """The container IDs of a service's running tasks, per host."""
    found = on_hosts(INVENTORY, pattern, f"docker ps -q --filter label=com.docker.swarm.service.name={service}")
    return {host: sorted(out.split()) for host, out in found.items()}


def replicas(service):
    """The number of tasks the service's specification asks for."""
    return int(on_host(INVENTORY, "sw01", f"docker service inspect {service} "
                                          "--format '{{.Spec.Mode.Replicated.Replicas}}'"))


def counted(host):
    """The numbers the counter service wrote to its volume on ``host``, in order."""
    return [int(n) for n in on_host(INVENTORY, host, "cat /var/lib/docker/volumes/paddock-test-data/_data/log "
                                                     "2>/dev/null || true").split()]


def running_tasks(service):
    return on_host(INVENTORY, "sw01", f"docker service ps {service} --filter desired-state=running "
                                      "--format '{{.Node}} {{.CurrentState}}'").splitlines()


@pytest.fixture(scope="module", autouse=True)
def image():
    """A real image on every node, built from Debian's busybox-static (no registry is reachable)."""
    build_test_image(INVENTORY, "paddock")


@pytest.fixture(scope="module")
def edited():
    inventory = EditedInventory(INVENTORY)
    yield inventory
    inventory.remove()
    # sw06 exists only in the edited inventory, so Molecule's destroy would not see it.
    outer_docker("rm", "-f", f"{LAB}-sw06")
    outer_docker("volume", "rm", "-f", f"{LAB}-sw06-docker")


def test_three_managers_and_two_workers_are_ready_with_one_leader():
    listing = nodes(INVENTORY, "sw01")
    assert sorted(listing) == MANAGERS + WORKERS
    assert {n["Status"] for n in listing.values()} == {"Ready"}
    assert sorted(h for h, n in listing.items() if n["ManagerStatus"]) == MANAGERS
    assert [n["ManagerStatus"] for n in listing.values()].count("Leader") == 1


def test_managers_are_drained_and_carry_no_workloads():
    listing = nodes(INVENTORY, "sw01")
    assert {h: n["Availability"] for h, n in listing.items()} == {
        "sw01": "Drain", "sw02": "Drain", "sw03": "Drain", "sw04": "Active", "sw05": "Active"}


def test_nodes_carry_inventory_and_automatic_host_labels_and_stacks_place_by_them():
    labels = json.loads(on_host(INVENTORY, "sw01", "docker node inspect sw04 --format '{{json .Spec.Labels}}'"))
    assert labels["zone"] == "a"
    assert labels["paddock.host.docker_version"].startswith("20.10")
    assert labels["io.rancher.host.docker_version"] == labels["paddock.host.docker_version"]
    on_host(INVENTORY, "sw01", f"docker service create -q --name placed --replicas 2 --no-resolve-image "
                               f"--constraint node.labels.zone==a {IMAGE}")
    try:
        assert [line.split()[0] for line in running_tasks("placed")] == ["sw04", "sw04"]
    finally:
        on_host(INVENTORY, "sw01", "docker service rm placed")


@pytest.mark.parametrize("edit,message", [
    (lambda inv: inv.group("paddock", "swarm_managers")["hosts"].update(
        {"sw04": inv.group("paddock", "swarm_workers")["hosts"].pop("sw04")}),
     "hosts.yml: group swarm_managers: has 4 present managers (sw01, sw02, sw03, sw04); the count must be odd "
     "so that a majority survives a failure"),
    (lambda inv: inv.group("paddock", "swarm_workers")["hosts"]["sw05"].update(swarm_advertise_addr="10.3.4.14"),
     "hosts.yml: host sw05: advertise address 10.3.4.14 is also the advertise address of sw04"),
    (lambda inv: inv.group("paddock", "swarm_managers")["hosts"].update(sw05=None),
     "hosts.yml: host sw05: is in both swarm_managers and swarm_workers; a host has one role"),
    (lambda inv: inv.group("paddock", "swarm_workers")["hosts"]["sw05"].update(node_state="gone"),
     "host sw05: node_state: must be one of: present, absent; got 'gone'"),
], ids=["even managers", "duplicate advertise address", "two roles", "unknown state"])
def test_a_bad_inventory_is_refused_before_any_host_is_touched(edit, message):
    inventory = EditedInventory(INVENTORY)
    try:
        edit(inventory)
        run, ssh_calls = playbook_recording_ssh(inventory.save(), "site.yml")
    finally:
        inventory.remove()
    assert run.returncode != 0
    assert message in run.stdout, run.stdout[-2000:]
    assert ssh_calls == []  # the run stopped in validation, before any connection to a host


def test_adding_a_node_by_an_inventory_line_changes_nothing_else_but_each_firewall_admitting_it(edited):
    on_host(INVENTORY, "sw01", f"docker service create -q --name web --replicas 4 --no-resolve-image {IMAGE}")
    before = task_containers("paddock", "web")
    assert sum(len(ids) for ids in before.values()) == 4
    edited.group("paddock", "swarm_workers")["hosts"]["sw06"] = {"ansible_host": "10.3.4.16",
                                                                 "lab_data_address": "10.5.4.16"}
    edited.group("lab")["hosts"]["sw06"] = None
    assert playbook(edited.save(), "playbooks/lab_up.yml").returncode == 0
    run = playbook(edited.dir, "site.yml")
    assert run.returncode == 0, run.stdout[-3000:]
    counts = recap(run.stdout)
    assert counts["sw06"]["changed"] > 0
    # Every other host changes its firewall to admit the new node (its script, then its chain),
    # and nothing else.
    others = [line for line in changed_tasks(run.stdout).splitlines() if "[sw06" not in line]
    assert sorted({line.split(": changed: ")[0] for line in others}) == [
        "host_firewall : Put the firewall's chain in place",
        "host_firewall : Write the host firewall's script and unit"], "\n".join(others)
    assert {h: c["changed"] for h, c in counts.items() if h != "sw06"} == {
        **dict.fromkeys(MANAGERS + WORKERS, 2), "localhost": 0}, "\n".join(others)
    for host in MANAGERS + WORKERS:
        assert "-A PADDOCK-HOST -s 10.3.4.16/32 -j RETURN" in on_host(INVENTORY, host, "iptables -S PADDOCK-HOST")
    assert nodes(INVENTORY, "sw01")["sw06"]["Status"] == "Ready"
    assert task_containers("paddock", "web") == before  # no running task restarted


def test_the_host_agent_counts_the_swarm_tasks_each_node_runs():
    here = len(task_containers("sw04", "web")["sw04"])
    assert here > 0
    deadline = time.monotonic() + 40  # the counter refreshes every 15 s
    while True:
        metrics = on_host(INVENTORY, "sw04", "python3 -c \"import urllib.request as u; "
                                             "print(u.urlopen('http://127.0.0.1:9100/metrics').read().decode())\"")
        counted = [line for line in metrics.splitlines() if line.startswith("paddock_swarm_tasks ")]
        if counted == [f"paddock_swarm_tasks {here}"] or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert counted == [f"paddock_swarm_tasks {here}"]
    assert "node_filesystem_avail_bytes" in metrics and "node_network_receive_bytes_total" in metrics


def test_the_status_playbook_shows_the_infrastructure():
    run = playbook(INVENTORY, "playbooks/status.yml")
    assert run.returncode == 0, run.stdout[-2000:]
    assert all(c["changed"] == 0 for c in recap(run.stdout).values())
    rows = {line.split()[1]: line.split()[2:] for line in run.stdout.splitlines()
            if line.strip().startswith("- sw0")}
    assert sorted(rows) == MANAGERS + WORKERS  # the hosts of the inventory it was given
    assert "manager" in rows["sw02"] and "drain" in rows["sw02"]  # a leader's role reads "manager (leader)"
    assert rows["sw04"][:3] == ["worker", "ready", "active"] and "zone=a" in rows["sw04"]
    assert any(name.startswith("web.") for name in rows["sw04"][-1].split(","))


def test_rotating_the_join_tokens_replaces_them_without_printing_them():
    old = on_host(INVENTORY, "sw01", "docker swarm join-token -q worker")
    run = playbook(INVENTORY, "playbooks/rotate_join_tokens.yml")
    assert run.returncode == 0
    new = on_host(INVENTORY, "sw01", "docker swarm join-token -q worker")
    assert new != old
    assert old not in run.stdout and new not in run.stdout


def watch_nodes(samples, stop):
    """Append when (time.monotonic()) and what the managers say of every node (hostname ->
    (availability, status, manager status)), about every second, until ``stop`` is set; a
    manager that is restarting is skipped."""
    while not stop.is_set():
        for manager in MANAGERS:
            try:
                listing = on_host(INVENTORY, manager, "timeout 5 docker node ls --format '{{.Hostname}} "
                                                      "{{.Availability}} {{.Status}} {{.ManagerStatus}}'")
            except AssertionError:
                continue
            samples.append((time.monotonic(),
                            {fields[0]: tuple(fields[1:]) for fields in map(str.split, listing.splitlines())}))
            break
        time.sleep(0.5)


def test_an_engine_upgrade_and_a_changed_setting_restart_one_node_at_a_time_drained_keeping_quorum(edited):
    """A changed docker_version upgrades a manager's engine and a changed daemon.json setting
    restarts a worker's, one after the other: each node drained first (its tasks move, none is
    killed by the engine stopping), the manager back and reachable before the next. Every other
    engine keeps running untouched."""
    installed = on_host(INVENTORY, "sw01", "dpkg-query -W -f '${Version}' docker.io")
    version = installed + "+paddock1"
    edited.group("paddock", "swarm_managers")["hosts"]["sw02"]["docker_version"] = version
    edited.group("paddock", "swarm_workers")["hosts"]["sw04"]["docker_daemon_options_extra"] = {
        "cgroup-parent": "/paddock-lab/sw04-moved", "debug": True}
    inventory = edited.save()
    on_host(inventory, "sw02", REPACKAGE.replace("VERSION", version))
    started = "systemctl show docker -p ActiveEnterTimestamp --value"
    before = on_hosts(inventory, "paddock", started)
    samples, stop = [], threading.Event()
    watcher = threading.Thread(target=watch_nodes, args=(samples, stop), daemon=True)
    watcher.start()
    try:
        run = playbook(inventory, "site.yml")
    finally:
        stop.set()
        watcher.join()
        on_host(inventory, "sw02", UNPACKAGE)
    assert run.returncode == 0, failures(run.stdout)
    workers = sorted(edited.group("paddock", "swarm_workers")["hosts"])  # sw06 too, added before
    assert on_hosts(inventory, "paddock", "dpkg-query -W -f '${Version}' docker.io") == {
        **dict.fromkeys(MANAGERS + workers, installed), "sw02": version}
    # The two engines asked to change were restarted, and no other.
    after = on_hosts(inventory, "paddock", started)
    assert sorted(h for h in after if after[h] != before[h]) == ["sw02", "sw04"], (before, after)
    assert on_hosts(inventory, "sw02:sw04", "docker info --format '{{.Debug}}'") == {
        "sw02": "false", "sw04": "true"}
    # One at a time. Each engine's outage is when systemd stopped it to when it was running
    # again (monotonic clocks: the lab's hosts share this machine's kernel, as the watcher does).
    outage = engine_outages(inventory, "sw02:sw04")
    (first, first_back), (second, _) = sorted(outage.values())
    assert first_back <= second, outage  # the second engine stopped after the first was back
    # The worker was drained (once), never while the manager's engine was away, and never two
    # managers were unreachable at once.
    unreachable = [{h for h, (_, status, *manager) in sample.items()
                    if h in MANAGERS and (status != "Ready" or manager not in (["Reachable"], ["Leader"]))}
                   for _, sample in samples]
    drained = [(at, {h for h, (availability, *_) in sample.items() if availability == "Drain" and h in WORKERS})
               for at, sample in samples]
    assert {"sw04"} in [workers_drained for _, workers_drained in drained], samples
    assert max(len(workers_drained) for _, workers_drained in drained) == 1, samples
    assert max(map(len, unreachable)) <= 1, samples
    manager_away = outage["sw02"]
    assert not [at for at, workers_drained in drained
                if workers_drained and manager_away[0] <= at <= manager_away[1]], (outage, samples)
    print(f"{len(samples)} samples of the nodes during the run")
    # Every node is back as it was: Ready, the workers active, the managers still drained.
    listing = nodes(INVENTORY, "sw01")
    assert {h: (n["Status"], n["Availability"]) for h, n in listing.items()} == {
        **dict.fromkeys(MANAGERS, ("Ready", "Drain")), **dict.fromkeys(workers, ("Ready", "Active"))}
    # Drained tasks were shut down by Swarm before their engine stopped: none failed (an engine
    # restarted with its tasks on it leaves them Failed, "No such container"), and 4 run.
    history = on_host(INVENTORY, "sw01", "docker service ps web --format '{{.CurrentState}}|{{.Error}}'").splitlines()
    assert not [line for line in history if not line.endswith("|") or line.startswith(("Failed", "Rejected"))], history
    assert len(running_tasks("web")) == 4


def test_removing_a_live_and_a_dead_node_in_one_edit_and_a_label_removed_from_the_inventory_goes(edited):
    """sw06 answers and is drained and leaves; sw05 is stopped dead and is only removed."""
    on_host(INVENTORY, "sw01", "docker node update --label-add handmade=1 sw04")
    outer_docker("stop", f"{LAB}-sw05")
    workers = edited.group("paddock", "swarm_workers")["hosts"]
    workers["sw06"]["node_state"] = workers["sw05"]["node_state"] = "absent"
    run = playbook(edited.save(), "site.yml")
    assert run.returncode == 0, failures(run.stdout)
    assert not {"sw05", "sw06"} & set(nodes(INVENTORY, "sw01"))
    assert on_host(edited.dir, "sw06", "docker info --format '{{.Swarm.LocalNodeState}}'") == "inactive"
    labels = json.loads(on_host(INVENTORY, "sw01", "docker node inspect sw04 --format '{{json .Spec.Labels}}'"))
    assert "handmade" not in labels and labels["zone"] == "a"
    assert replicas("web") == 4
    assert [line.split()[0] for line in running_tasks("web")] == ["sw04"] * 4  # all on the one worker left


def test_with_one_manager_of_three_stopped_the_cluster_still_takes_service_updates():
    outer_docker("stop", "-t", "0", f"{LAB}-sw02")
    stopped = time.monotonic()
    while nodes(INVENTORY, "sw01")["sw02"]["Status"] != "Down":
        assert time.monotonic() - stopped < 120, "sw02 never showed Down"
        time.sleep(1)
    down_after = round(time.monotonic() - stopped, 1)
    on_host(INVENTORY, "sw01", "docker service update -q --detach --replicas 2 web")
    assert on_host(INVENTORY, "sw03", "docker service inspect web --format '{{.Spec.Mode.Replicated.Replicas}}'") == "2"
    # A measurement for bench/README.md, kept with the suite's logs (never in a tracked file).
    os.makedirs(os.path.join(PROJECT, ".test-logs"), exist_ok=True)
    with open(os.path.join(PROJECT, ".test-logs", "manager_down.json"), "w") as handle:
        json.dump({"what": "seconds from stopping 1 of 3 managers until docker node ls shows it Down",
                   "seconds": down_after}, handle)
    print(f"sw02 showed Down {down_after} s after it stopped")


def writable():
    """Whether the swarm takes a change now, asked of sw01 (a refusal comes once the managers' raft
    notices the majority is gone). A service label: a change that restarts no task."""
    return on_host(INVENTORY, "sw01", "timeout 20 docker service update -q --detach --label-add paddock.test=1 web "
                                      ">/dev/null 2>&1 && echo writable || echo refused") == "writable"


def by_inventory_name():
    """{inventory host: (state, manager status)} of the swarm's nodes, by the label Paddock sets
    (a lab host restarted comes back with its container's ID as host name)."""
    listing = on_host(INVENTORY, "sw01", "docker node ls -q | xargs docker node inspect --format "
                      "'{{index .Spec.Labels \"paddock.inventory_hostname\"}}|{{.Status.State}}|"
                      "{{if .ManagerStatus}}{{.ManagerStatus.Reachability}}{{end}}'")
    return {name: (state, reachability) for name, state, reachability in
            (line.split("|") for line in listing.splitlines())}


def test_with_two_of_three_managers_lost_recover_makes_the_swarm_writable_and_they_rejoin_once_back(edited):
    """Destructive, so last: sw02 (stopped by the test before, if it ran) and sw03 stop dead. The
    edited inventory is the one the tests before left: sw05 and sw06 marked absent."""
    inventory = edited.save()
    outer_docker("stop", "-t", "0", f"{LAB}-sw02", f"{LAB}-sw03")
    assert wait_for(lambda: not writable(), timeout=60, interval=2), "the swarm still took changes"
    tasks = task_containers("sw04", "web")
    assert tasks["sw04"]

    started = time.monotonic()
    run = playbook(inventory, "playbooks/recover.yml")
    took = time.monotonic() - started
    assert run.returncode == 0, failures(run.stdout)
    assert writable()
    listed = by_inventory_name()
    assert "sw02" not in listed and "sw03" not in listed and listed["sw01"][1] == "reachable", listed
    assert task_containers("sw04", "web") == tasks  # the service's tasks ran on throughout
    print(f"recover.yml made the swarm writable in {took:.1f} s")

    # The lost managers come back still believing in the old majority: recover.yml makes them
    # leave it, then site.yml joins them again as the inventory says.
    outer_docker("start", f"{LAB}-sw02", f"{LAB}-sw03")
    assert wait_for(lambda: answering(["sw02", "sw03"]), timeout=90, interval=2), "sw02 and sw03 did not come back"
    run = playbook(inventory, "playbooks/recover.yml")
    assert run.returncode == 0, failures(run.stdout)
    run = playbook(inventory, "site.yml")
    assert run.returncode == 0, failures(run.stdout)
    listed = by_inventory_name()
    assert {name: listed.get(name) for name in MANAGERS} == {name: ("ready", "reachable") for name in MANAGERS}, listed
    # Back, the two old managers are a majority of their own until recover.yml sends them away. In
    # 1 fresh-clone run of 5 the worker's task containers were replaced once meanwhile (started
    # again by Swarm on the same worker). What the rejoin promises is the service: all its
    # replicas running, on the worker that ran them.
    wanted = replicas("web")
    assert wait_for(lambda: [line.split()[0] for line in running_tasks("web") if "Running" in line]
                    == ["sw04"] * wanted, timeout=60), running_tasks("web")
    replaced = task_containers("sw04", "web") != tasks
    print(f"after the rejoin the worker's task containers were {'replaced' if replaced else 'kept'}")
    run = playbook(inventory, "playbooks/recover.yml")
    assert run.returncode == 0 and all(r["changed"] == 0 for r in recap(run.stdout).values()), changed_tasks(run.stdout)


def answering(hosts):
    try:
        return all(on_host(INVENTORY, host, "docker info --format '{{.ServerVersion}}'") for host in hosts)
    except AssertionError:
        return False


def test_last_a_backup_brings_the_swarm_back_on_fresh_hosts_after_every_host_is_destroyed(edited, tmp_path):
    """Destructive, so last (after recover's test): the present hosts, sw01 to sw04, are backed up,
    destroyed with their disks, started again from the bare host image, and restored."""
    hosts = MANAGERS + ["sw04"]
    fresh = EditedInventory(edited.save())
    fresh.group("lab")["hosts"] = dict.fromkeys(hosts)
    for group in ("swarm_managers", "swarm_workers"):  # new hosts get the lab's packages, not the test's
        for settings in fresh.group("paddock", group)["hosts"].values():
            for key in ("docker_version", "docker_daemon_options_extra"):
                (settings or {}).pop(key, None)
    inventory = fresh.save()
    on_host(inventory, "sw01", "printf 's3cret' | docker secret create paddock-test-secret - >/dev/null && "
                               "printf 'conf' | docker config create paddock-test-config - >/dev/null && "
                               "docker network create -d overlay paddock-test-net >/dev/null")
    cluster = on_host(inventory, "sw01", "docker info --format '{{.Swarm.Cluster.ID}}'")
    leader = next(h for h in MANAGERS if on_host(inventory, h, "docker node inspect self "
                                                               "--format '{{.ManagerStatus.Leader}}'") == "true")
    # An app's data: a service on sw04 whose image is only in the platform's registry (on sw01),
    # counting in a named volume from where the volume's log left off.
    on_host(inventory, "sw01", f"docker tag {IMAGE} 127.0.0.1:5001/paddock/counter:1 && "
                               "docker push -q 127.0.0.1:5001/paddock/counter:1 >/dev/null && "
                               "docker rmi 127.0.0.1:5001/paddock/counter:1 >/dev/null")
    on_host(inventory, "sw04", "docker volume create --label paddock.test=counter paddock-test-data >/dev/null")
    on_host(inventory, "sw01", f"docker service create -d --name counter --constraint "
                               "node.labels.paddock.inventory_hostname==sw04 "
                               "--mount type=volume,source=paddock-test-data,target=/data "
                               f"{REGISTRY}/paddock/counter:1 sh -c 'i=$(tail -n 1 /data/log 2>/dev/null || echo 0); "
                               "while :; do i=$((i+1)); echo $i >> /data/log; sleep 0.2; done' >/dev/null")
    assert wait_for(lambda: len(counted("sw04")) >= 10, timeout=60)
    counter = task_containers("sw04", "counter")
    token = os.urandom(8).hex()
    on_host(inventory, "sw04", f"echo {token} > /var/lib/docker/volumes/paddock-test-data/_data/marker")
    password = tmp_path / "vault-pass"
    password.write_text(os.urandom(16).hex() + "\n")
    os.environ["ANSIBLE_VAULT_PASSWORD_FILE"] = str(password)
    backups = tmp_path / "backups"
    try:
        # The swarm takes changes all through the backup: the copied manager is not the leader,
        # and the other two keep the quorum.
        samples, stop = [], threading.Event()

        def watch():
            while not stop.is_set():
                samples.append(writable())

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            before = len(counted("sw04"))
            run = playbook(inventory, "playbooks/backup.yml", "-e", f"paddock_backup_dir={backups}",
                           "-e", '{"paddock_backup_volumes": ["paddock-test-*"]}', "-e", "paddock_backup_registry=true")
        finally:
            stop.set()
            watcher.join()
        assert run.returncode == 0, failures(run.stdout)
        assert samples and all(samples), samples
        # The app was paused for the copy alone: the same container counts on, nothing skipped.
        assert task_containers("sw04", "counter") == counter
        assert wait_for(lambda: len(counted("sw04")) > before + 10, timeout=10)
        numbers = counted("sw04")
        assert numbers == list(range(1, len(numbers) + 1)), numbers
        taken = sorted((backups / "paddock-mol-swarm").iterdir())
        assert len(taken) == 1, taken
        manifest = json.loads((taken[0] / "manifest.json").read_text())
        assert manifest["cluster"] == cluster and manifest["source"] in MANAGERS and manifest["source"] != leader
        assert sorted(manifest["parts"]) == ["key", "pki", "registry", "swarm", "volumes-sw04"]
        assert manifest["volumes"] == {"sw04": [{"name": "paddock-test-data", "labels": {"paddock.test": "counter"}}]}
        assert sorted(p.name for p in taken[0].iterdir()) == [
            "key.vault", "manifest.json", "pki.tar.gz.vault", "registry.tar.gz.gpg", "swarm.tar.gz.vault",
            "volumes-sw04.tar.gz.gpg"]
        for part in ("key.vault", "pki.tar.gz.vault", "swarm.tar.gz.vault"):  # no key or certificate in the clear
            data = (taken[0] / part).read_text()
            assert data.startswith("$ANSIBLE_VAULT;1.2;AES256;paddock-backup\n") and "PRIVATE KEY" not in data
        for part in ("registry.tar.gz.gpg", "volumes-sw04.tar.gz.gpg"):  # OpenPGP, not a readable archive
            data = (taken[0] / part).read_bytes()
            assert data[0] & 0x80 and not data.startswith(b"\x1f\x8b"), data[:4]
            assert oct((taken[0] / part).stat().st_mode & 0o777) == "0o600"
        assert not list(backups.glob("**/*.partial"))
        # gpg's scratch home and its agent are gone ("[p]" keeps pgrep's own shell from matching).
        assert not glob.glob(os.path.join(tempfile.gettempdir(), "*-paddock-gpg"))
        assert not os.popen("pgrep -f '[p]addock-gpg'").read()

        # A host asked for its volumes that is dead: named, and the run fails, after keeping the
        # rest (the first version counted it as a host with no volumes).
        outer_docker("stop", "-t", "0", f"{LAB}-sw04")
        dead = playbook(inventory, "playbooks/backup.yml", "-e", f"paddock_backup_dir={backups}",
                        "-e", '{"paddock_backup_volumes": ["paddock-test-*"]}')
        assert dead.returncode != 0
        assert "sw04 did not answer: what was asked of them is not in" in dead.stdout, failures(dead.stdout)
        [partly] = set((backups / "paddock-mol-swarm").iterdir()) - set(taken)
        partial = json.loads((partly / "manifest.json").read_text())
        assert (partial["missing"], sorted(partial["parts"]), partial["volumes"]) == (["sw04"], ["pki", "swarm"], {})

        for host in hosts:
            outer_docker("rm", "-f", f"{LAB}-{host}")
            outer_docker("volume", "rm", "-f", f"{LAB}-{host}-docker")
        up = playbook(inventory, "playbooks/lab_up.yml")
        assert up.returncode == 0, failures(up.stdout)
        assert on_hosts(inventory, ":".join(hosts), "ls /var/lib/docker/swarm 2>/dev/null | wc -l") == \
            dict.fromkeys(hosts, "0")  # bare hosts: no swarm state on their new disks
        run = playbook(inventory, "playbooks/restore.yml", "-e", f"backup={taken[0]}")
        assert run.returncode == 0, failures(run.stdout)
        build_test_image(inventory, "sw04")  # web's image, which no registry here serves

        # Run again with --check: nothing would change, and no decrypted part stays behind (the
        # first version failed there: check mode made no scratch directory to decrypt into).
        check = playbook(inventory, "playbooks/restore.yml", "-e", f"backup={taken[0]}", "--check", "--diff")
        assert check.returncode == 0, failures(check.stdout)
        assert all(c["changed"] == 0 for c in recap(check.stdout).values()), changed_tasks(check.stdout)
        assert not glob.glob(os.path.join(tempfile.gettempdir(), "*-paddock-restore"))

        # A part changed after the backup is refused before any host is touched: by the manifest's
        # checksum, and, with the manifest rewritten to match, by gpg's own integrity check.
        tampered = tmp_path / "tampered"
        shutil.copytree(taken[0], tampered)
        part = tampered / "volumes-sw04.tar.gz.gpg"
        data = bytearray(part.read_bytes())
        data[len(data) // 2] ^= 1
        part.write_bytes(bytes(data))
        refused, calls = playbook_recording_ssh(inventory, "playbooks/restore.yml", "-e", f"backup={tampered}")
        assert refused.returncode != 0 and calls == [], (calls, failures(refused.stdout))
        assert "volumes-sw04.tar.gz.gpg: missing, or its checksum is not the" in " ".join(refused.stdout.split())
        listed = json.loads((tampered / "manifest.json").read_text())
        listed["parts"]["volumes-sw04"]["checksum"] = hashlib.sha256(bytes(data)).hexdigest()
        (tampered / "manifest.json").write_text(json.dumps(listed))
        refused, calls = playbook_recording_ssh(inventory, "playbooks/restore.yml", "-e", f"backup={tampered}")
        assert refused.returncode != 0 and calls == [], (calls, failures(refused.stdout))
        assert "encrypted message has been manipulated" in refused.stdout, failures(refused.stdout)
        assert not glob.glob(os.path.join(tempfile.gettempdir(), "*-paddock-restore"))
    finally:
        del os.environ["ANSIBLE_VAULT_PASSWORD_FILE"]
    # The app's image came from the restored registry to the new sw04, and it counts on from
    # its restored volume: the file written before the backup is there, and every number once,
    # past those counted before the backup began.
    assert wait_for(lambda: [line.split()[0] for line in running_tasks("counter") if "Running" in line] == ["sw04"],
                    timeout=60), running_tasks("counter")
    assert on_host(inventory, "sw04", "cat /var/lib/docker/volumes/paddock-test-data/_data/marker") == token
    assert on_host(inventory, "sw04", "docker volume inspect paddock-test-data --format "
                                      "'{{index .Labels \"paddock.test\"}}'") == "counter"
    assert wait_for(lambda: len(counted("sw04")) > before + 10, timeout=30)
    numbers = counted("sw04")
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert on_host(inventory, "sw01", "docker info --format '{{.Swarm.Cluster.ID}}'") == cluster  # the same swarm
    listed = by_inventory_name()
    assert listed == {**{m: ("ready", "reachable") for m in MANAGERS}, "sw04": ("ready", "")}, listed
    assert on_host(inventory, "sw01", "docker service inspect web --format "
                                      "'{{.Spec.Mode.Replicated.Replicas}} {{index .Spec.Labels \"paddock.test\"}}'") \
        == "2 1"
    assert wait_for(lambda: [line.split()[0] for line in running_tasks("web")
                             if "Running" in line] == ["sw04", "sw04"], timeout=60), running_tasks("web")
    assert on_host(inventory, "sw01", "docker secret ls --format '{{.Name}}'; docker config ls --format '{{.Name}}'; "
                                      "docker network inspect paddock-test-net --format '{{.Name}} {{.Scope}}'"
                   ).splitlines() == ["paddock-test-secret", "paddock-test-config", "paddock-test-net swarm"]
    fresh.remove()
