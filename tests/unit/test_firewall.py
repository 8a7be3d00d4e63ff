"""The host firewall's chain and the check of paddock_admin_networks (pure logic; the chain itself is
tested on real hosts in molecule/default/tests/test_firewall.py)."""

from ansible_collections.paddock.platform.plugins.filter.firewall import admin_networks_errors, host_firewall_rules

NODE = {"tcp": [2377, 7946], "udp": [7946, 4789, 500, 4500], "esp": True}
ADMIN = {"tcp": ["2376", 9100]}


def test_nodes_reach_everything_admins_the_api_and_the_rest_is_dropped_in_iptables_own_words():
    rules = host_firewall_rules(["10.0.0.5", "10.0.0.4", "10.0.0.4", "", "fd00::4"], ["192.0.2.0/24", "192.0.2.7"],
                                NODE, ADMIN)
    assert rules["v4"] == [
        "-N PADDOCK-HOST",
        "-A PADDOCK-HOST -i lo -j RETURN",
        "-A PADDOCK-HOST -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        "-A PADDOCK-HOST -s 10.0.0.4/32 -j RETURN",
        "-A PADDOCK-HOST -s 10.0.0.5/32 -j RETURN",
        "-A PADDOCK-HOST -s 192.0.2.0/24 -p tcp -m multiport --dports 2376,9100 -j RETURN",
        "-A PADDOCK-HOST -s 192.0.2.7/32 -p tcp -m multiport --dports 2376,9100 -j RETURN",
        "-A PADDOCK-HOST -p tcp -m multiport --dports 2376,2377,7946,9100 -j DROP",
        "-A PADDOCK-HOST -p udp -m multiport --dports 500,4500,4789,7946 -j DROP",
        "-A PADDOCK-HOST -p esp -j DROP",
    ]
    assert "-A PADDOCK-HOST -s fd00::4/128 -j RETURN" in rules["v6"]
    assert not any("10.0.0" in rule or "192.0.2" in rule for rule in rules["v6"])
    assert not any("--dports 22" in rule or ",22," in rule for rule in rules["v4"] + rules["v6"])


def test_admin_networks_are_addresses_or_networks_and_never_everyone():
    assert admin_networks_errors(None) == [] and admin_networks_errors(["10.0.0.0/8", "fd00::/8", "192.0.2.1"]) == []
    assert admin_networks_errors("10.0.0.0/8") == [
        "inventory: paddock_admin_networks: must be a list of addresses or networks (192.0.2.0/24)"]
    errors = admin_networks_errors(["0.0.0.0/0", "::/0", "example.org", 7, "10.0.0.1/33"])
    assert [e.split(":")[1].strip() for e in errors] == [f"paddock_admin_networks[{i}]" for i in range(5)]
    assert "0.0.0.0/0 is every address" in errors[0]
