"""The console's pure parts: what its pages show from the Swarm API's JSON, who may do what,
and the inventory's console settings (images/console/paddock_console/model.py, _access)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from ansible_collections.paddock.platform.plugins.module_utils._access import console_identities, console_users

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "images", "console"))
from paddock_console import model  # noqa: E402

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
    assert service["environment"] == {"PADDOCK_CONSOLE_PORT": "8443"}
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


@pytest.mark.parametrize(("target", "lands"), [
    ("/stacks", "/stacks"), ("/services/abc?x=1", "/services/abc?x=1"), ("", "/"), (None, "/"),
    ("//evil.example/", "/"), ("/\\evil.example", "/"), ("https://evil.example/", "/"),
    ("javascript:alert(1)", "/"), ("/stacks\r\nSet-Cookie: x=1", "/")])
def test_after_a_login_the_console_goes_only_to_a_page_of_its_own(target, lands):
    assert model.safe_next(target) == lands
