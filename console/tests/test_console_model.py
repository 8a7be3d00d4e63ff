"""The console's pure parts: what its pages show from the Swarm API's JSON, who may do what,
and the inventory's console settings (console/paddock_console/model.py, _access)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.paddock.platform.plugins.module_utils._access import console_identities, console_users
from paddock_console import model

HASH = "$6$paddocksalt$w028/YB6kXGvOCcIoiyck6ebJN7PzwjcbWF/1iMzLckXg/KjnSDfMsbH.EvGeovep2j3SXf1lZhEdgl8gy3Ti1"


def node(node_id, hostname, role="worker", state="ready", availability="active", labels=None, leader=False):
    found = {"ID": node_id, "Description": {"Hostname": hostname, "Engine": {"EngineVersion": "20.10.24"},
                                            "Resources": {"NanoCPUs": 2e9, "MemoryBytes": 4 * 2 ** 30}},
             "Spec": {"Role": role, "Availability": availability, "Labels": labels or {}},
             "Status": {"State": state, "Addr": f"10.0.0.{node_id[-1]}"}}
    if role == "manager":
        found["ManagerStatus"] = {"Leader": leader, "Reachability": "reachable"}
    return found


def service(service_id, name, replicas=2, stack=None, image="reg:5000/apacz:1@sha256:abc", ports=()):
    labels = {"com.docker.stack.namespace": stack} if stack else {}
    mode = {"Replicated": {"Replicas": replicas}} if replicas is not None else {"Global": {}}
    return {"ID": service_id, "Spec": {"Name": name, "Labels": labels, "Mode": mode,
                                       "TaskTemplate": {"ContainerSpec": {"Image": image}}},
            "Endpoint": {"Ports": list(ports)}}


def task(task_id, service_id, node_id, state="running", desired="running", slot=1):
    return {"ID": task_id, "ServiceID": service_id, "NodeID": node_id, "Slot": slot, "DesiredState": desired,
            "Status": {"State": state, "Timestamp": "2026-11-30T08:00:00.1Z"},
            "Spec": {"ContainerSpec": {"Image": "reg:5000/apacz:1@sha256:abc"}}, "CreatedAt": f"2026-11-30T0{slot}"}


NODES = [node("n1", "st01", "manager", availability="drain", leader=True), node("n2", "st02", labels={"zone": "a"}),
         node("n3", "st03", state="down")]
SERVICES = [service("s1", "walkthrough_apacz", 4, "walkthrough"), service("s2", "handmade", None),
            service("s3", "catalog_web", 1, "catalog",
                    ports=[{"PublishedPort": 80, "TargetPort": 80, "Protocol": "tcp", "PublishMode": "host"}])]
TASKS = [task("t1", "s1", "n2", slot=1), task("t2", "s1", "n2", slot=2),
         task("t3", "s1", "n3", state="starting", slot=3),
         task("t4", "s1", "n2", state="shutdown", desired="shutdown", slot=4), task("t5", "s3", "n2")]


def test_each_host_shows_its_state_role_address_labels_and_the_containers_it_runs():
    hosts = {h["hostname"]: h for h in model.hosts_view(NODES, TASKS, SERVICES)}
    assert list(hosts) == ["st01", "st02", "st03"]
    assert (hosts["st01"]["role"], hosts["st01"]["leader"], hosts["st01"]["availability"]) == ("manager", True, "drain")
    assert hosts["st02"]["labels"] == {"zone": "a"} and hosts["st02"]["address"] == "10.0.0.2"
    assert hosts["st03"]["state"] == "down"
    # Only tasks running now; named service.slot as docker ps names them.
    assert [c["name"] for c in hosts["st02"]["containers"]] == ["catalog_web.1", "walkthrough_apacz.1",
                                                                  "walkthrough_apacz.2"]
    assert hosts["st02"]["containers"][1]["image"] == "reg:5000/apacz:1"
    assert hosts["st03"]["containers"] == []


def test_services_group_by_stack_with_their_scale_nodes_and_whether_the_inventory_owns_the_stack():
    stacks = model.stacks_view(SERVICES, TASKS, NODES, {"walkthrough"})
    assert [(s["name"], s["managed"]) for s in stacks] == [("catalog", False), ("walkthrough", True), (None, False)]
    apacz = stacks[1]["services"][0]
    assert (apacz["short"], apacz["replicas"], apacz["running"], apacz["nodes"]) == ("apacz", 4, 2, ["st02"])
    assert apacz["image"] == "reg:5000/apacz:1"
    assert stacks[2]["services"][0]["replicas"] is None  # global
    assert stacks[0]["services"][0]["ports"] == ["80:80/tcp (host)"]


@pytest.mark.parametrize(("role", "scale", "logs"), [("admin", True, True), ("member", True, True),
                                                     ("read-only", False, True), ("root", False, False)])
def test_what_each_role_may_ask_of_the_console(role, scale, logs):
    assert (model.can(role, "scale"), model.can(role, "logs"), model.can(role, "view")) == (scale, logs, role != "root")


def test_scale_never_goes_below_zero_and_tokens_compare_only_when_both_are_given():
    assert (model.scaled(4, 1), model.scaled(1, -1), model.scaled(0, -1)) == (5, 0, 0)
    assert model.same_token("abc", "abc") and not model.same_token("abc", "abd")
    assert not model.same_token("", "") and not model.same_token(None, None) and not model.same_token("abc", None)


def test_an_upgrade_changes_the_tag_and_keeps_the_registry_port():
    assert model.image_with_tag("10.3.6.11:5000/apacz:1@sha256:abc", "2") == "10.3.6.11:5000/apacz:2"
    assert model.image_with_tag("10.3.6.11:5000/apacz", "2") == "10.3.6.11:5000/apacz:2"
    assert model.tag_problem("2.1-rc") is None
    assert model.tag_problem("../x") and model.tag_problem("") and model.tag_problem("a b")


def test_the_users_file_lets_in_only_known_roles_with_a_crypt_hash():
    users = model.load_users(json.dumps({"alice": {"role": "admin", "hash": HASH},
                                         "eve": {"role": "root", "hash": HASH},
                                         "mallory": {"role": "admin", "hash": "plain"}}))
    assert users == {"alice": {"role": "admin", "hash": HASH}}


def test_the_console_holds_one_identity_per_role_its_users_have_and_no_other():
    users = [{"name": "alice", "role": "admin", "password_hash": HASH}, {"name": "bob", "role": "read-only"},
             {"name": "carol", "role": "read-only", "password_hash": HASH}]
    assert console_identities(users) == [{"name": "paddock-console-admin", "role": "admin", "context": False},
                                         {"name": "paddock-console-read-only", "role": "read-only", "context": False}]
    assert console_identities(users, enabled=False) == []
    assert console_users(users) == {"alice": {"role": "admin", "hash": HASH},
                                    "carol": {"role": "read-only", "hash": HASH}}


def test_an_engine_event_reads_as_who_did_what_to_which():
    event = {"Type": "service", "Action": "update", "time": 1764489600,
             "Actor": {"ID": "s1abcdef0123456", "Attributes": {"name": "walkthrough_apacz"}}}
    assert model.event_row(event) == {"time": 1764489600, "who": "engine", "type": "service", "action": "update",
                                      "target": "walkthrough_apacz"}


def test_the_console_stack_mounts_each_secret_for_its_user_only_and_a_changed_secret_is_a_new_one():
    from ansible_collections.paddock.platform.plugins.filter.console import console_stack

    secrets = [{"name": "paddock-console-users", "data": '{"alice": {}}'},
               {"name": "paddock-console-tls-key", "data": "KEY"}]
    first = console_stack(secrets, "reg:5000/paddock/console:0.10", {"PADDOCK_CONSOLE_PORT": 8443})
    service = first["compose"]["services"]["console"]
    assert service["networks"] == ["hostnet"] and first["compose"]["networks"]["hostnet"] == {
        "external": True, "name": "host"}
    assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
    assert service["environment"] == {"PADDOCK_CONSOLE_PORT": "8443", "PADDOCK_AUDIT_SERVICE": "paddock-console_audit",
                                      "PADDOCK_CONSOLE_TRAIL": "/var/log/paddock-console/console-audit.log"}
    # Its trail on its host, the only host path it has; every host's trails read by the audit
    # service, read-only, root without any capability but reading files.
    assert [v["source"] for v in service["volumes"] if v["type"] == "bind"] == ["/var/log/paddock/console"]
    audit = first["compose"]["services"]["audit"]
    assert audit["volumes"] == [{"type": "bind", "source": "/var/log/paddock", "target": "/trails", "read_only": True}]
    assert (audit["cap_drop"], audit["cap_add"], audit["read_only"]) == (["ALL"], ["DAC_READ_SEARCH"], True)
    assert audit["deploy"]["mode"] == "global" and "placement" not in audit["deploy"]
    assert audit["deploy"]["labels"]["io.paddock.stack.hash"] == first["hash"]  # or every run deploys again
    assert [(m["target"], m["uid"], m["mode"]) for m in service["secrets"]] == [
        ("paddock-console-users", "10001", 0o400), ("paddock-console-tls-key", "10001", 0o400)]
    assert set(first["secret_files"].values()) == {'{"alice": {}}', "KEY"}
    assert service["deploy"]["labels"]["io.paddock.stack.hash"] == first["hash"]
    # The same input, the same stack; a changed key, a new secret name and a new hash.
    assert console_stack(secrets, "reg:5000/paddock/console:0.10", {"PADDOCK_CONSOLE_PORT": 8443}) == first
    changed = console_stack([secrets[0], {"name": "paddock-console-tls-key", "data": "KEY2"}],
                            "reg:5000/paddock/console:0.10", {"PADDOCK_CONSOLE_PORT": 8443})
    assert changed["hash"] != first["hash"]
    assert set(changed["compose"]["secrets"]) - set(first["compose"]["secrets"]) == {
        m["source"] for m in changed["compose"]["services"]["console"]["secrets"]
        if m["target"] == "paddock-console-tls-key"}
    # No secret's content is in the compose document, which the module writes to disk.
    assert "KEY" not in json.dumps(first["compose"])
    # With the session secret, names are keyed with it: a name says nothing checkable about a
    # password without that key (a read-only user lists secret names).
    import hashlib
    keyed = console_stack(secrets + [{"name": "paddock-console-session", "data": "S" * 64}],
                          "reg:5000/paddock/console:0.10", {})
    plain = hashlib.sha256(b"KEY").hexdigest()[:12]
    assert not any(plain in name for name in keyed["compose"]["secrets"])
    assert any(plain in name for name in first["compose"]["secrets"])


T0 = 1_764_489_600  # 2025-11-30 08:00 UTC: sessions and refused logins are judged at a time given


def test_a_session_lasts_its_lifetime_to_the_second_and_a_directory_role_is_asked_again_when_due():
    session = {"at": T0, "checked": T0}
    assert not model.session_over(session, T0 + 28800, 28800)
    assert model.session_over(session, T0 + 28801, 28800)
    assert model.session_over({}, T0, 28800)  # no start: never a session
    assert not model.recheck_due(session, T0 + 300, 300) and model.recheck_due(session, T0 + 301, 300)


def test_ten_refused_logins_in_a_minute_lock_the_name_until_the_oldest_leaves_the_window():
    failures = model.Failures()
    for second in range(10):
        assert not failures.locked("alice", T0 + second)
        failures.add("alice", T0 + second)
    assert failures.locked("alice", T0 + 59) and not failures.locked("bob", T0 + 59)
    assert not failures.locked("alice", T0 + 60)  # the first refusal left the window
    failures.add("alice", T0 + 60)
    assert failures.locked("alice", T0 + 60)  # nine still within it, and this one
    assert not failures.locked("alice", T0 + 61)


def test_names_tried_at_random_are_forgotten_once_out_of_the_window():
    failures = model.Failures(most=3)
    for index in range(5):
        failures.add(f"guess{index}", T0)
    failures.add("alice", T0 + 30)
    failures.recent("anyone", T0 + 61)
    assert set(failures.times) == {"alice"}


@pytest.mark.parametrize(("target", "lands"), [
    ("/stacks", "/stacks"), ("/services/abc?x=1", "/services/abc?x=1"), ("", "/"), (None, "/"),
    ("//evil.example/", "/"), ("/\\evil.example", "/"), ("https://evil.example/", "/"),
    ("javascript:alert(1)", "/"), ("/stacks\r\nSet-Cookie: x=1", "/")])
def test_after_a_login_the_console_goes_only_to_a_page_of_its_own(target, lands):
    assert model.safe_next(target) == lands


# A node exporter's lines as a lab host serves them (Debian's prometheus-node-exporter 1.5).
EXPORTER = """# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} 300
node_cpu_seconds_total{cpu="0",mode="iowait"} 20
node_cpu_seconds_total{cpu="0",mode="system"} 30
node_cpu_seconds_total{cpu="0",mode="user"} 50
node_cpu_seconds_total{cpu="1",mode="idle"} 350
node_cpu_seconds_total{cpu="1",mode="user"} 50
node_filesystem_avail_bytes{device="/dev/vda",fstype="ext4",mountpoint="/etc/hosts"} 1e+10
node_filesystem_avail_bytes{device="/dev/vda",fstype="ext4",mountpoint="/var/lib/docker"} 7.5e+10
node_filesystem_size_bytes{device="/dev/vda",fstype="ext4",mountpoint="/etc/hosts"} 2e+10
node_filesystem_size_bytes{device="/dev/vda",fstype="ext4",mountpoint="/var/lib/docker"} 1e+11
node_memory_MemAvailable_bytes 1.5e+09
node_memory_MemTotal_bytes 4e+09
node_memory_MemFree_bytes 1e+09
"""


def test_an_exporters_text_gives_cpu_seconds_memory_and_the_engines_disk():
    sample = model.exporter_sample(EXPORTER)
    assert sample == {"cpu_busy": 130.0, "cpu_all": 800.0, "memtotal": 4e9, "memavailable": 1.5e9,
                      "disk_size": 1e11, "disk_avail": 7.5e10}


def test_without_a_filesystem_for_the_engine_the_root_is_the_disk():
    text = EXPORTER.replace('mountpoint="/var/lib/docker"', 'mountpoint="/"')
    assert model.exporter_sample(text)["disk_size"] == 1e11
    assert "disk_size" not in model.exporter_sample(EXPORTER.replace('mountpoint="/var/lib/docker"',
                                                                     'mountpoint="/srv"'))


def test_cpu_is_a_rate_between_two_samples_and_memory_and_disk_are_shares():
    first = model.exporter_sample(EXPORTER)
    later = dict(first, cpu_busy=first["cpu_busy"] + 5, cpu_all=first["cpu_all"] + 20)
    assert model.usage(None, first) == {"cpu": None, "memory": 62.5, "disk": 25.0}
    assert model.usage(first, later)["cpu"] == 25.0
    # The exporter restarted: its counters went back, and no rate is made of that.
    assert model.usage(later, dict(first, cpu_busy=1.0, cpu_all=2.0))["cpu"] is None
    # An exporter that could not be read, or a page of something else, gives gaps, not zeros.
    assert model.usage(None, model.exporter_sample("<html>not an exporter</html>")) == \
        {"cpu": None, "memory": None, "disk": None}


def test_a_graph_spans_the_last_hour_ending_now_with_gaps_left_out():
    now = 10_000
    series = [(now - 7200, {"cpu": 90.0}), (now - 3600, {"cpu": 0.0, "memory": 50.0}),
              (now - 1800, {}), (now, {"cpu": 100.0, "memory": 25.0})]
    drawn = model.graphs(series, now)
    # Two hours ago is off the graph; 0 % an hour ago is bottom left; 100 % now is top right.
    assert drawn["cpu"] == {"latest": 100.0, "line": "0.0,24.0 120.0,0.0"}
    assert drawn["memory"] == {"latest": 25.0, "line": "0.0,12.0 120.0,18.0"}
    assert drawn["disk"] == {"latest": None, "line": ""}
    # The agent stopped answering: no figure now, though the line keeps what it drew before.
    silent = model.graphs(series + [(now + 15, {})], now + 15)
    assert silent["cpu"]["latest"] is None and silent["cpu"]["line"].endswith("119.5,0.0")


def test_a_load_balancers_rules_list_the_running_tasks_each_reaches_on_its_network():
    rules = [{"port": 80, "protocol": "http", "hostname": "", "path": "", "target": "walkthrough/apacz",
              "target_port": 80},
             {"port": 443, "protocol": "https", "hostname": "shop.example.com", "path": "/cart",
              "target": "shop/web", "target_port": 8080}]
    lb = {"ID": "lb1", "Spec": {"Name": "walkthrough_lb", "Labels": {"io.paddock.lb": "true",
                                                                      "io.paddock.lb.rules": json.dumps(rules)}}}
    apacz = {"ID": "s1", "Spec": {"Name": "walkthrough_apacz"}}

    def task(node_id, slot, state="running", desired="running"):
        return {"ServiceID": "s1", "NodeID": node_id, "Slot": slot, "DesiredState": desired,
                "Status": {"State": state},
                "NetworksAttachments": [
                    {"Network": {"Spec": {"Name": "ingress"}}, "Addresses": [f"10.0.0.{slot}/24"]},
                    {"Network": {"Spec": {"Name": "walkthrough_default"}}, "Addresses": [f"10.0.1.{slot}/24"]}]}

    tasks = [task("n2", 2), task("n1", 1), task("n1", 3, state="shutdown", desired="shutdown")]
    rows = model.lb_rules(lb, [lb, apacz], tasks, {"n1": "st01", "n2": "st02"})
    assert rows[0] == {"port": 80, "protocol": "http", "match": "*", "target": "walkthrough/apacz",
                       "target_id": "s1", "target_port": 80,
                       "reaches": [{"node": "st01", "address": "10.0.1.1", "slot": 1},
                                   {"node": "st02", "address": "10.0.1.2", "slot": 2}]}
    # A target that is not running (its stack removed) reaches nothing, and says so.
    assert rows[1]["match"] == "shop.example.com/cart"
    assert rows[1]["target_id"] is None and rows[1]["reaches"] == []
    # Not a load balancer of Paddock's, or a label someone else wrote: no rules table.
    assert model.lb_rules(apacz, [apacz], tasks, {}) is None
    broken = {"ID": "x", "Spec": {"Name": "x", "Labels": {"io.paddock.lb.rules": "{not json"}}}
    assert model.lb_rules(broken, [broken], tasks, {}) is None


@pytest.mark.parametrize(("replicas", "running", "updating", "expected"), [
    (4, 4, False, "healthy"), (4, 3, False, "degraded"), (4, 0, False, "down"), (0, 0, False, "healthy"),
    (None, 3, False, "healthy"), (None, 0, False, "down"), (4, 2, True, "updating")])
def test_a_services_health_is_its_running_tasks_against_its_scale(replicas, running, updating, expected):
    assert model.health({"replicas": replicas, "running": running, "updating": updating}) == expected


def test_the_actions_the_console_logged_are_read_back_from_its_service_logs():
    entry = {"id": "a1", "time": 1700000000, "who": "alice", "type": "console", "action": "scale",
             "target": "walkthrough_apacz", "result": "scaled from 4 to 5"}
    logs = "\n".join([
        "paddock-console_console.abc@st01    | INFO:     10.3.6.1:5000 - \"GET /stacks HTTP/1.1\" 200 OK",
        "paddock-console_console.abc@st01    | " + json.dumps({"paddock_console_action": entry}),
        # A user cannot forge one through a name: names are JSON-escaped inside the entry, and a
        # line that is not one whole entry is dropped.
        '{"paddock_console_action": {"id": "x", "time": "soon"}}',
        '{"paddock_console_action": ',
    ])
    assert model.actions_logged(logs) == [entry]


def test_a_scale_or_an_image_set_outside_the_files_shows_as_drift():
    files = {"io.paddock.files.replicas": "4", "io.paddock.files.image": "reg:5000/apacz:1"}
    matching = model.drift({"replicas": 4, "image": "reg:5000/apacz:1"}, files)
    scaled = model.drift({"replicas": 8, "image": "reg:5000/apacz:2"}, files)
    assert matching == []
    assert scaled == ["scale 8 here, 4 in its files", "image reg:5000/apacz:2 here, reg:5000/apacz:1 in its files"]
    assert model.drift({"replicas": 3, "image": "x"}, {}) == []  # not deployed from Paddock's files
    assert model.drift({"replicas": None, "image": "reg:5000/apacz:1"}, files) == []


def test_a_logout_records_a_digest_of_its_session_never_the_session():
    session = {"sid": "s3cr3t-session-id", "user": "bob"}
    key = model.session_key(session)
    assert len(key) == 32 and "s3cr3t" not in key and key == model.session_key(dict(session))
    assert model.session_key({"user": "bob"}) is None
    line = json.dumps({"paddock_console_action": {"id": "a", "time": T0, "who": "bob", "type": "console",
                                                  "action": "logout", "target": "", "result": "ok", "session": key}})
    assert model.actions_logged(f"2026-11-30T08:00:00Z {line}")[0]["session"] == key


def test_the_audit_page_shows_each_record_once_newest_first_filtered_by_user_time_and_path():
    def logged(host, trail, seq, time, **record):
        return json.dumps({"paddock_audit": {"host": host, "trail": trail,
                                             "record": dict(record, seq=seq, time=time)}})
    text = "\n".join([
        logged("st01", "api", 1, "2026-11-30T08:00:01Z", user="bob", method="GET", path="/services", stage="request",
               decision="allow"),
        logged("st01", "api", 1, "2026-11-30T08:00:01Z", user="bob", method="GET", path="/services", stage="request",
               decision="allow"),  # the audit service printed it again after a restart
        logged("st02", "api", 1, "2026-11-30T08:00:02Z", user="paddock-console-member", on_behalf_of="alice",
               method="POST", path="/services/x/update", stage="request", decision="allow"),
        logged("st01", "console", 4, "2026-11-30T08:00:03Z", user="bob", action="scale", target="/services/x/scale",
               stage="result", result="refused: read-only may not scale"),
        'x {"paddock_audit": {"host": "forged"}}',
    ])
    entries = model.audit_logged(text)
    assert len(entries) == 4
    assert [(r["host"], r["user"], r["for"], r["what"], r["where"]) for r in model.audit_rows(entries)] == [
        ("st01", "bob", "", "scale", "/services/x/scale"),
        ("st02", "paddock-console-member", "alice", "POST", "/services/x/update"),
        ("st01", "bob", "", "GET", "/services")]
    assert [r["host"] for r in model.audit_rows(entries, user="alice")] == ["st02"]
    assert [r["time"] for r in model.audit_rows(entries, since="2026-11-30T08:00:02", path="/services/x")] == [
        "2026-11-30T08:00:03Z", "2026-11-30T08:00:02Z"]
    assert model.audit_rows(entries, until="2026-11-30T08:00:01Z")[0]["decision"] == "allow"
    assert model.unix_time("2025-11-30T08:00") == T0 and model.unix_time("2025-11-30") == T0 - 8 * 3600
    assert model.unix_time("last week") is None and model.unix_time("") is None


def test_the_audit_service_prints_the_backlog_then_each_new_record_across_a_rotation(tmp_path, capsys):
    from paddock_console import audit_tail
    trail = tmp_path / "api-audit.log"
    trail.write_text("".join(json.dumps({"seq": n, "time": f"t{n}"}) + "\n" for n in range(1, 6)))
    follower = audit_tail.Follower(str(trail), backlog=2)
    assert [json.loads(line)["seq"] for line in follower.lines()] == [4, 5]
    with open(trail, "a") as handle:
        handle.write(json.dumps({"seq": 6}) + "\n" + '{"seq": 7')  # 7 is being written
    assert [json.loads(line)["seq"] for line in follower.lines()] == [6]
    with open(trail, "a") as handle:
        handle.write("}\n")
    os.rename(trail, f"{trail}.1")  # rotated: 7 ends in the old file, 8 starts the new one
    trail.write_text(json.dumps({"seq": 8}) + "\n")
    assert [json.loads(line)["seq"] for line in follower.lines()] == [7, 8]
    assert follower.lines() == []
    audit_tail.emit("st01", "api", b'{"seq": 8, "host": "st02"}')
    assert json.loads(capsys.readouterr().out) == {"paddock_audit": {"host": "st02", "trail": "api",
                                                                     "record": {"seq": 8, "host": "st02"}}}
