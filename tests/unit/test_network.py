"""The managed network's plan: stable subnets per host, and bad settings refused."""

import pytest

from ansible_collections.paddock.platform.plugins.module_utils._network import (
    allocate,
    config_errors,
    existing_subnets,
    host_view,
    plan,
    reqid,
)

PSK = {"psk": "x" * 48}


def hosts(*names):
    return [{"name": n, "want": "worker", "state": "present", "addr": f"10.3.0.{i + 4}"} for i, n in enumerate(names)]


def node(host, subnet=None):
    labels = {"paddock.inventory_hostname": host}
    if subnet:
        labels["paddock.managed.subnet"] = subnet
    return {"ID": host, "Spec": {"Labels": labels}, "Description": {"Hostname": host}}


def test_new_hosts_get_the_lowest_free_subnets_in_order():
    subnets, errors = allocate(["a", "b", "c"], {}, "10.42.0.0/16", 24)
    assert errors == []
    assert subnets == {"a": "10.42.0.0/24", "b": "10.42.1.0/24", "c": "10.42.2.0/24"}


def test_adding_and_removing_hosts_never_renumbers_the_others():
    existing = existing_subnets([node("a", "10.42.0.0/24"), node("b", "10.42.1.0/24"), node("c", "10.42.2.0/24")])
    # b leaves the inventory but its node is still in the swarm: its subnet stays taken.
    subnets, errors = allocate(["a", "c", "d"], existing, "10.42.0.0/16", 24)
    assert errors == []
    assert subnets == {"a": "10.42.0.0/24", "c": "10.42.2.0/24", "d": "10.42.3.0/24"}
    # Once b's node is gone, its subnet is free again for the next new host.
    existing.pop("b")
    subnets, _ = allocate(["a", "c", "d", "e"], {**existing, "d": "10.42.3.0/24"}, "10.42.0.0/16", 24)
    assert subnets["e"] == "10.42.1.0/24" and subnets["d"] == "10.42.3.0/24"


def test_a_changed_range_is_refused_rather_than_renumbering():
    _subnets, errors = allocate(["a"], {"a": "10.42.0.0/24"}, "10.43.0.0/16", 24)
    assert errors == ["a: its managed subnet 10.42.0.0/24 is not a /24 of 10.43.0.0/16; changing the range or "
                      "prefix would renumber running hosts, which Paddock does not do"]


def test_a_host_sees_one_tunnel_per_peer_and_the_lower_address_initiates():
    network = plan(["a", "b", "c"], {"a": "10.3.0.4", "b": "10.3.0.5", "c": "10.3.0.7"}, [], "10.42.0.0/16", 24)
    view = host_view("b", network)
    assert view["subnet"] == "10.42.1.0/24" and view["gateway"] == "10.42.1.1"
    assert [(p["name"], p["remote_ts"], p["initiate"]) for p in view["peers"]] == [
        ("a", "10.42.0.0/24", False), ("c", "10.42.2.0/24", True)]


def test_each_tunnel_of_a_host_has_its_own_reqid_fixed_by_the_peers_subnet():
    network = plan(["a", "b", "c"], {"a": "10.3.0.4", "b": "10.3.0.5", "c": "10.3.0.7"},
                   [{"Spec": {"Labels": {"paddock.managed.subnet": "10.42.7.0/24",
                                         "paddock.inventory_hostname": "c"}}}], "10.42.0.0/16", 24)
    reqids = {me: {p["name"]: p["reqid"] for p in host_view(me, network)["peers"]} for me in "abc"}
    # a tunnel's reqid names the peer's subnet (0x10000 + its number), the same on every host
    assert reqids == {"a": {"b": 0x10001, "c": 0x10007}, "b": {"a": 0x10000, "c": 0x10007},
                      "c": {"a": 0x10000, "b": 0x10001}}
    assert reqid("10.42.255.240/28", "10.42.0.0/16") == 0x10000 + 4095


BAD = {
    "overlapping ranges": (
        {"range": "172.20.0.0/16", "host_prefix": 24, **PSK}, hosts("a", "b"), [{"base": "172.20.0.0/14"}],
        ["inventory: managed_network_range: 172.20.0.0/16 overlaps docker_default_address_pools[0] "
         "(172.20.0.0/14)"]),
    "a host address inside the range": (
        {"range": "10.3.0.0/16", "host_prefix": 24, **PSK}, hosts("a"), [],
        ["inventory: managed_network_range: 10.3.0.0/16 contains a's own address 10.3.0.4; the tunnels run "
         "between host addresses outside it"]),
    "a prefix too small for the hosts": (
        {"range": "10.42.0.0/16", "host_prefix": 17, **PSK}, hosts("a", "b", "c"), [],
        ["inventory: managed_network_host_prefix: /17 subnets of 10.42.0.0/16 give 2 subnets for 3 hosts; use a "
         "longer prefix or a larger range"]),
    "a prefix outside the range": (
        {"range": "10.42.0.0/16", "host_prefix": 12, **PSK}, hosts("a"), [],
        ["inventory: managed_network_host_prefix: must be a whole number from 16 to 29, got 12"]),
    "a missing PSK": (
        {"range": "10.42.0.0/16", "host_prefix": 24, "psk": ""}, hosts("a"), [],
        ["inventory: managed_network_psk: missing (managed_network_auth is psk): generate one per environment "
         "and keep it in Ansible Vault (docs/network.md)"]),
    "a short PSK": (
        {"range": "10.42.0.0/16", "host_prefix": 24, "psk": "8chars!!"}, hosts("a"), [],
        ["inventory: managed_network_psk: too short: use at least 32 random characters"]),
    "not a network": (
        {"range": "10.42.0.1/16", "host_prefix": 24, **PSK}, hosts("a"), [],
        ["inventory: managed_network_range: '10.42.0.1/16' is not an IPv4 network like 10.42.0.0/16"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_settings_are_refused(case):
    settings, described, pools, expected = BAD[case]
    assert config_errors(settings, described, pools) == expected


def test_good_settings_pass_and_plain_docker_hosts_are_not_counted():
    described = hosts("a", "b") + [{"name": "plain", "want": None, "state": "present", "addr": "10.42.9.9"}]
    assert config_errors({"range": "10.42.0.0/16", "host_prefix": 24, **PSK}, described,
                         [{"base": "172.20.0.0/14"}]) == []


def test_certificate_authentication_needs_no_psk_but_the_environments_ca():
    settings = {"range": "10.42.0.0/16", "host_prefix": 24, "auth": "certificate", "tls": True, "psk": ""}
    assert config_errors(settings, hosts("a"), []) == []
    assert config_errors(dict(settings, tls=False), hosts("a"), []) == [
        "inventory: managed_network_auth: certificate needs the environment's CA (paddock_tls: true); "
        "set managed_network_auth: psk and a managed_network_psk"]
    assert config_errors(dict(settings, auth="none"), hosts("a"), []) == [
        "inventory: managed_network_auth: must be certificate or psk, got 'none'"]
