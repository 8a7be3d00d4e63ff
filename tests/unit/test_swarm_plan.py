"""Swarm planning: what the inventory and the hosts' reports make Paddock do."""

from ansible_collections.paddock.platform.plugins.module_utils._swarm import (
    advertise_address,
    bootstrap,
    find_node,
    host_labels,
    index_nodes,
    inventory_errors,
    lost_managers,
    plan,
    recovery,
)

INACTIVE = {"LocalNodeState": "inactive", "NodeID": "", "ControlAvailable": False}


def host(name, want="manager", state="present", addr=None, info=INACTIVE, groups=None):
    group = {"manager": "swarm_managers", "worker": "swarm_workers"}[want] if want else None
    return {"name": name, "want": want, "state": state, "addr": addr or f"10.0.0.{name[-1]}",
            "groups": groups if groups is not None else [group], "inventory_file": "inv/hosts.yml",
            "labels": {}, "info": info}


def manager_info(node_id, cluster="C1"):
    return {"LocalNodeState": "active", "NodeID": node_id, "ControlAvailable": True, "Cluster": {"ID": cluster}}


def worker_info(node_id):
    return {"LocalNodeState": "active", "NodeID": node_id, "ControlAvailable": False}


def node(node_id, name, role="worker", addr=None, labels=None):
    return {"ID": node_id, "Spec": {"Role": role, "Labels": labels or {}},
            "Description": {"Hostname": name}, "Status": {"Addr": addr or "0.0.0.0"}}


class TestInventory:
    def test_a_valid_inventory_has_no_errors(self):
        assert inventory_errors([host("m1"), host("w2", "worker"), host("w3", "worker")]) == []

    def test_an_even_manager_count_is_refused(self):
        assert inventory_errors([host("m1"), host("m2")]) == [
            "inv/hosts.yml: group swarm_managers: has 2 present managers (m1, m2); the count must be odd "
            "so that a majority survives a failure"]

    def test_managers_marked_absent_do_not_count(self):
        assert inventory_errors([host("m1"), host("m2", state="absent"), host("m3")]) == [
            "inv/hosts.yml: group swarm_managers: has 2 present managers (m1, m3); the count must be odd "
            "so that a majority survives a failure"]

    def test_a_host_in_two_roles_is_refused(self):
        both = host("m1", groups=["swarm_managers", "swarm_workers"])
        assert inventory_errors([both]) == [
            "inv/hosts.yml: host m1: is in both swarm_managers and swarm_workers; a host has one role"]

    def test_an_unknown_state_is_refused(self):
        assert inventory_errors([host("m1"), host("w2", "worker", state="gone")]) == [
            "inv/hosts.yml: host w2: node_state: must be one of: present, absent; got 'gone'"]

    def test_duplicate_advertise_addresses_are_refused(self):
        assert inventory_errors([host("m1", addr="10.0.0.9"), host("w2", "worker", addr="10.0.0.9")]) == [
            "inv/hosts.yml: host w2: advertise address 10.0.0.9 is also the advertise address of m1"]

    def test_a_listen_address_that_is_not_an_ip_address_is_refused(self):
        assert inventory_errors([{**host("m1"), "listen_addr": "0.0.0.0:2377"},
                                 {**host("w2", "worker"), "listen_addr": "0.0.0.0"}]) == [
            "inv/hosts.yml: host m1: swarm_listen_addr: '0.0.0.0:2377' is not an IP address (the port is always "
            "2377)"]

    def test_an_advertise_address_must_be_an_address_written_as_one_that_others_reach(self):
        assert inventory_errors([host("m1", addr=167969543), host("w2", "worker", addr="0.0.0.0"),
                                 host("w3", "worker", addr="127.0.0.1"), host("w4", "worker", addr="fd00::4")]) == [
            "inv/hosts.yml: host m1: swarm_advertise_addr: 167969543 is not an IP address",
            "inv/hosts.yml: host w2: swarm_advertise_addr: 0.0.0.0 is not an address other hosts can reach "
            "(unspecified, loopback or multicast)",
            "inv/hosts.yml: host w3: swarm_advertise_addr: 127.0.0.1 is not an address other hosts can reach "
            "(unspecified, loopback or multicast)"]

    def test_labels_are_scalars_and_paddocks_own_are_not_the_inventorys(self):
        labeled = {**host("m1"), "labels": {"zone": "a", "ssd": True, "rack": {"row": 1}, "empty": None,
                                            "paddock.inventory_hostname": "m9"}}
        assert inventory_errors([labeled]) == [
            "inv/hosts.yml: host m1: swarm_labels.rack: must be a string, number or boolean, got a mapping",
            "inv/hosts.yml: host m1: swarm_labels.empty: must be a string, number or boolean, got nothing",
            "inv/hosts.yml: host m1: swarm_labels.paddock.inventory_hostname: labels under paddock. are "
            "Paddock's own (paddock.inventory_hostname is how it finds the node)"]

    def test_hosts_in_no_swarm_group_are_plain_docker_hosts(self):
        assert inventory_errors([host("d1", want=None, groups=[])]) == []

    def test_no_manager_is_refused(self):
        assert inventory_errors([host("w2", "worker")]) == [
            "inv/hosts.yml: group swarm_managers: has no present host; a Swarm needs a manager"]


class TestBootstrap:
    def test_a_new_cluster_is_initialised_on_the_first_manager(self):
        assert bootstrap([host("w1", "worker"), host("m2"), host("m3")]) == {
            "host": "m2", "init": True, "cluster_id": None, "errors": []}

    def test_an_existing_swarm_is_operated_through_a_wanted_manager_and_never_reinitialised(self):
        hosts = [host("m1"), host("m2", info=manager_info("n2")), host("w3", "worker", info=manager_info("n3"))]
        assert bootstrap(hosts) == {"host": "m2", "init": False, "cluster_id": "C1", "errors": []}

    def test_a_hand_made_swarm_run_by_a_future_worker_is_adopted(self):
        hosts = [host("m1"), host("w2", "worker", info=manager_info("n2"))]
        assert bootstrap(hosts)["host"] == "w2"
        assert bootstrap(hosts)["init"] is False

    def test_managers_of_two_swarms_are_an_error(self):
        hosts = [host("m1", info=manager_info("n1", "CLUSTERONE000")),
                 host("m2", info=manager_info("n2", "CLUSTERTWO000"))]
        assert bootstrap(hosts)["errors"] == [
            "the inventory's hosts are managers of different swarms (CLUSTERONE00: m1; CLUSTERTWO00: m2); "
            "one inventory is one swarm"]

    def test_no_init_while_a_present_host_did_not_answer(self):
        assert bootstrap([host("m1"), host("m2", info=None)])["errors"] == [
            "can not tell whether a swarm exists: m2 did not report its swarm state (unreachable, or stopped "
            "by a failure shown above); a new swarm is only initialised when every present host answers: "
            "bring the host back, or mark it node_state: absent"]

    def test_a_locked_swarm_asks_for_its_unlock_key(self):
        locked = {"LocalNodeState": "locked", "NodeID": "n1", "ControlAvailable": False}
        assert bootstrap([host("m1", info=locked)])["errors"] == [
            "m1: the swarm is locked (autolock) and no manager can operate it; give swarm_unlock_key (the "
            "vaulted key Paddock saved) so that site.yml unlocks it"]

    def test_a_worker_of_a_foreign_swarm_without_a_listed_manager_is_an_error(self):
        assert bootstrap([host("m1"), host("w2", "worker", info=worker_info("x"))])["errors"] == [
            "w2 already in a swarm that no host of the inventory manages; list one of its managers in "
            "swarm_managers, or make the host leave it"]


class TestPlan:
    def test_members_are_kept_new_hosts_join_and_roles_follow_the_inventory(self):
        hosts = [host("m1", info=manager_info("n1")), host("m2", info=worker_info("n2")),
                 host("w3", "worker", info=manager_info("n3")), host("w4", "worker")]
        nodes = [node("n1", "m1", "manager"), node("n2", "m2"), node("n3", "w3", "manager")]
        actions = plan(hosts, nodes, "m1")["actions"]
        assert actions["m1"] == {"do": "keep", "role": "manager", "node_id": "n1", "addr": "10.0.0.1",
                                 "promote": False, "demote": False, "labels": {}, "availability": None}
        assert actions["m2"]["promote"] is True
        assert actions["w3"]["demote"] is True
        assert actions["w4"] == {"do": "join", "role": "worker", "node_id": None, "addr": "10.0.0.4"}

    def test_a_host_active_in_another_swarm_is_an_error_not_a_silent_skip(self):
        result = plan([host("m1", info=manager_info("n1")), host("w2", "worker", info=worker_info("alien123456789"))],
                      [node("n1", "m1", "manager")], "m1")
        assert result["errors"] == [
            "w2: is in a different swarm (node alien1234567 is not a node of this cluster); make it leave "
            "that swarm first (a manager lost with the swarm's majority and back since: playbooks/recover.yml "
            "does that)"]

    def test_a_dead_host_marked_absent_is_removed_by_its_label(self):
        nodes = [node("n1", "m1", "manager"), node("n9", "renamed", labels={"paddock.inventory_hostname": "w9"})]
        actions = plan([host("m1", info=manager_info("n1")), host("w9", "worker", state="absent", info=None)],
                       nodes, "m1")["actions"]
        assert actions["w9"] == {"do": "remove", "role": None, "node_id": "n9", "manager": False, "reachable": False}

    def test_a_live_manager_marked_absent_is_demoted_before_removal(self):
        nodes = [node("n1", "m1", "manager"), node("n2", "m2", "manager")]
        hosts = [host("m1", info=manager_info("n1")), host("m2", state="absent", info=manager_info("n2"))]
        assert plan(hosts, nodes, "m1")["actions"]["m2"] == {
            "do": "remove", "role": None, "node_id": "n2", "manager": True, "reachable": True}

    def test_an_absent_host_already_removed_needs_nothing(self):
        actions = plan([host("m1", info=manager_info("n1")), host("w2", "worker", state="absent", info=None)],
                       [node("n1", "m1", "manager")], "m1")["actions"]
        assert actions["w2"]["do"] == "none"

    def test_demotions_go_through_a_wanted_manager_so_a_hand_made_manager_can_become_a_worker(self):
        hosts = [host("w1", "worker", info=manager_info("n1")), host("m2", info=worker_info("n2"))]
        result = plan(hosts, [node("n1", "w1", "manager"), node("n2", "m2")], "w1")
        assert result["errors"] == []
        assert result["actions"]["w1"]["demote"] and result["actions"]["m2"]["promote"]
        assert result["lead"] == "m2"

    def test_a_locked_manager_is_reported(self):
        locked = {"LocalNodeState": "locked", "NodeID": "n2"}
        result = plan([host("m1", info=manager_info("n1")), host("m2", info=locked)],
                      [node("n1", "m1", "manager")], "m1")
        assert result["errors"] == ["m2: its engine reports swarm state 'locked'; unlock it with its unlock key"]


def test_nodes_are_found_by_id_then_label_then_hostname_then_address():
    nodes = index_nodes([node("a", "x"), node("b", "y", labels={"paddock.inventory_hostname": "h"}),
                         node("c", "h"), node("d", "z", addr="10.0.0.7")])
    assert find_node({"name": "h", "info": {"NodeID": "a"}}, nodes)["ID"] == "a"
    assert find_node({"name": "h", "info": None}, nodes)["ID"] == "b"  # our label beats the hostname of c
    assert find_node({"name": "x", "info": None}, nodes)["ID"] == "a"  # by hostname
    assert find_node({"name": "q", "info": None, "addr": "10.0.0.7"}, nodes)["ID"] == "d"
    assert find_node({"name": "q", "info": None, "addr": "10.9.9.9"}, nodes) is None


def test_inventory_labels_join_the_automatic_host_labels_and_win():
    info = {"ServerVersion": "20.10.24", "OperatingSystem": "Debian", "NCPU": 2, "MemTotal": 2 * 1024 ** 3}
    labels = host_labels({"kernel": "6.1.0"}, info, "w1", {"zone": "a", "paddock.host.cpus": "8"})
    assert labels == {"paddock.inventory_hostname": "w1", "paddock.host.kernel": "6.1.0",
                      "paddock.host.docker_version": "20.10.24", "paddock.host.os": "Debian",
                      "paddock.host.cpus": "8", "paddock.host.memory_mb": "2048",
                      "io.rancher.host.linux_kernel_version": "6.1.0", "io.rancher.host.docker_version": "20.10.24",
                      "zone": "a"}


def test_the_advertise_address_is_explicit_then_interface_then_ansible_host_then_default_route():
    facts = {"eth1": {"ipv4": {"address": "10.5.0.4"}}, "default_ipv4": {"address": "10.3.0.4"}}
    assert advertise_address({"swarm_advertise_addr": "1.2.3.4", "ansible_host": "10.3.0.4"}) == "1.2.3.4"
    assert advertise_address({"swarm_advertise_interface": "eth1", "ansible_facts": facts}) == "10.5.0.4"
    assert advertise_address({"ansible_host": "10.3.0.9", "ansible_facts": facts}) == "10.3.0.9"
    assert advertise_address({"ansible_host": "node1.example", "ansible_facts": facts}) == "10.3.0.4"


class TestRecovery:
    """recover.yml's decision: force a new cluster only where no manager sees a leader."""

    def test_a_swarm_with_a_leader_is_left_alone(self):
        hosts = [host("m1", info=manager_info("n1")), host("m2", info=None), host("m3", info=manager_info("n3"))]
        assert recovery(hosts, ["m3"]) == {"survivor": "m3", "force": False, "errors": []}

    def test_without_a_leader_the_first_listed_manager_that_answers_forces_a_new_cluster(self):
        hosts = [host("m1", info=None), host("m2", info=manager_info("n2")), host("m3", info=manager_info("n3"))]
        assert recovery(hosts, []) == {"survivor": "m2", "force": True, "errors": []}

    def test_a_host_that_answers_but_is_no_manager_is_never_the_survivor(self):
        hosts = [host("m1", info=INACTIVE), host("m2", info=worker_info("n2")), host("m3", info=manager_info("n3"))]
        assert recovery(hosts, [])["survivor"] == "m3"

    def test_a_manager_still_rejoining_the_majority_it_lost_is_neither_a_survivor_nor_another_swarm(self):
        pending = {"LocalNodeState": "pending", "NodeID": "n1", "ControlAvailable": True, "Cluster": {"ID": ""}}
        hosts = [host("m1", info=pending), host("m2", info=manager_info("n2"))]
        assert recovery(hosts, ["m2"]) == {"survivor": "m2", "force": False, "errors": []}

    def test_a_manager_without_a_leader_that_cannot_name_its_cluster_is_still_a_survivor(self):
        leaderless = {"LocalNodeState": "active", "NodeID": "n1", "ControlAvailable": True}
        assert recovery([host("m1", info=leaderless)], []) == {"survivor": "m1", "force": True, "errors": []}

    def test_a_manager_marked_absent_is_not_recovered_from(self):
        hosts = [host("m1", state="absent", info=manager_info("n1")), host("m2", info=manager_info("n2"))]
        assert recovery(hosts, ["m1"]) == {"survivor": "m2", "force": True, "errors": []}

    def test_no_manager_answering_is_an_error_that_names_the_silent_ones(self):
        result = recovery([host("m1", info=None), host("m2", info=INACTIVE)], [])
        assert result == {"survivor": None, "force": False, "errors": [
            "no manager of the swarm answers (m1 did not): there is nothing to recover from; bring back one "
            "manager with its data"]}

    def test_managers_of_different_swarms_are_refused(self):
        hosts = [host("m1", info=manager_info("n1", "CLUSTERONE00")),
                 host("m2", info=manager_info("n2", "CLUSTERTWO00"))]
        assert recovery(hosts, []) == {"survivor": None, "force": False, "errors": [
            "the inventory's managers are in different swarms (CLUSTERONE00, CLUSTERTWO00); recover one swarm, "
            "with an inventory of its own hosts"]}


def test_the_lost_managers_are_managers_in_name_only_and_down():
    member = dict(node("n1", "m1", "manager"), ManagerStatus={"Leader": True}, Status={"State": "ready"})
    lost = dict(node("n2", "m2", "manager"), Status={"State": "down"})
    unknown = dict(node("n3", "m3", "manager"), ManagerStatus=None, Status={"State": "unknown"})
    promoting = dict(node("n4", "w4", "manager"), Status={"State": "ready"})
    worker_down = dict(node("n5", "w5"), Status={"State": "down"})
    assert lost_managers([member, lost, unknown, promoting, worker_down]) == [lost, unknown]
    # Right after --force-new-cluster, the swarm may still show a lost manager as it last saw it.
    assert lost_managers([member, lost, unknown, promoting, worker_down], forced=True) == [lost, unknown, promoting]
