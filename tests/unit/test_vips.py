"""The load balancers' virtual addresses (paddock_lb_vips): defaults, and each problem refused
with its place before any host is touched."""

from ansible_collections.paddock.platform.plugins.module_utils._vips import entries, errors

GROUPS = {"load_balancers": ["lb1", "lb2"], "edge": ["lb3"], "empty": []}
HOSTS = {"10.0.0.11": "lb1", "10.0.0.12": "lb2"}


def test_an_entry_gets_the_load_balancers_group_a_router_id_and_a_host_prefix_by_default():
    assert entries([{"address": "10.0.0.100"}, {"address": "10.0.0.101/24", "group": "edge", "router_id": 7}]) == [
        {"address": "10.0.0.100", "prefix": 32, "group": "load_balancers", "router_id": 51},
        {"address": "10.0.0.101", "prefix": 24, "group": "edge", "router_id": 7}]
    assert errors([{"address": "10.0.0.100"}, {"address": "10.0.0.101/24", "group": "edge"}], GROUPS, HOSTS) == []


def test_each_bad_virtual_address_is_refused_with_its_place_and_reason():
    vips = [
        {"address": "10.0.0.11"},
        {"address": "10.0.0.100"},
        {"address": "10.0.0.100", "router_id": 60},
        {"address": "fd00::1", "router_id": 61},
        {"address": "not-an-address", "router_id": 62},
        {"address": "10.0.0.102", "group": "empty", "router_id": 63},
        {"address": "10.0.0.103", "router_id": 300},
        {"address": "10.0.0.104", "router_id": 60},
        {"address": "10.0.0.105", "router_id": 64, "interface": "eth0"},
        "10.0.0.106",
    ]
    assert errors(vips, GROUPS, HOSTS) == [
        "inventory: paddock_lb_vips[0].address: 10.0.0.11 is lb1's own address; a virtual address must be one no "
        "host has",
        "inventory: paddock_lb_vips[2].address: 10.0.0.100 is already paddock_lb_vips[1]",
        "inventory: paddock_lb_vips[3].address: IPv6 virtual addresses are not supported, got fd00::1",
        "inventory: paddock_lb_vips[4].address: must be an IPv4 address, got 'not-an-address'",
        "inventory: paddock_lb_vips[5].group: 'empty' is not an inventory group with hosts",
        "inventory: paddock_lb_vips[6].router_id: must be a whole number from 1 to 255, got 300",
        "inventory: paddock_lb_vips[7].router_id: 60 is already paddock_lb_vips[2]'s",
        "inventory: paddock_lb_vips[8].interface: unknown key (known: address, group, router_id)",
        "inventory: paddock_lb_vips[9]: must be a mapping with an address (and a group, a router_id)",
    ]
    assert errors({"address": "10.0.0.100"}, GROUPS, HOSTS) == [
        "inventory: paddock_lb_vips: must be a list, each with an address"]
