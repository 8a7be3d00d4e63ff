# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host firewall filters. Each is documented in the YAML file of its name beside this one."""

from __future__ import annotations

import ipaddress

from ansible_collections.paddock.platform.plugins.module_utils._problems import origin

CHAIN = "PADDOCK-HOST"


def _network(value):
    return ipaddress.ip_network(str(value), strict=False)


def admin_networks_errors(networks):
    """Every problem of paddock_admin_networks (addresses or networks that reach 2376 and 9100)."""
    if networks is None:
        return []
    errors, where = [], origin(networks, "inventory")
    if not isinstance(networks, list):
        return [f"{where}: paddock_admin_networks: must be a list of addresses or networks (192.0.2.0/24)"]
    for index, value in enumerate(networks):
        try:
            network = _network(value) if isinstance(value, str) else None
        except ValueError:
            network = None
        if network is None:
            errors.append(f"{origin(value, where)}: paddock_admin_networks[{index}]: must be an IPv4 or IPv6 "
                          f"address or network such as 192.0.2.0/24, got {value!r}")
        elif network.prefixlen == 0:
            errors.append(f"{origin(value, where)}: paddock_admin_networks[{index}]: {value} is every address; "
                          "list the networks operators work from")
    return errors


def host_firewall_rules(nodes, admins, node_ports, admin_ports):
    """The PADDOCK-HOST chain, per IP version, exactly as ``iptables -S`` prints it: the nodes reach
    every port below, the admin networks the admin ports, and nobody else any of them."""
    nodes = sorted({_network(a) for a in nodes if a}, key=lambda n: (n.version, n))
    admins = sorted({_network(a) for a in admins if a}, key=lambda n: (n.version, n))
    tcp = sorted({int(p) for p in node_ports.get("tcp", []) + admin_ports.get("tcp", [])})
    udp = sorted({int(p) for p in node_ports.get("udp", []) + admin_ports.get("udp", [])})
    admitted = ",".join(str(p) for p in sorted({int(p) for p in admin_ports.get("tcp", [])}))
    rules = {}
    for version, key in ((4, "v4"), (6, "v6")):
        chain = [f"-N {CHAIN}", f"-A {CHAIN} -i lo -j RETURN",
                 f"-A {CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"]
        chain += [f"-A {CHAIN} -s {n} -j RETURN" for n in nodes if n.version == version]
        if admitted:
            chain += [f"-A {CHAIN} -s {n} -p tcp -m multiport --dports {admitted} -j RETURN"
                      for n in admins if n.version == version]
        if tcp:
            chain.append(f"-A {CHAIN} -p tcp -m multiport --dports {','.join(map(str, tcp))} -j DROP")
        if udp:
            chain.append(f"-A {CHAIN} -p udp -m multiport --dports {','.join(map(str, udp))} -j DROP")
        if node_ports.get("esp"):
            chain.append(f"-A {CHAIN} -p esp -j DROP")
        rules[key] = chain
    return rules


class FilterModule:
    def filters(self):
        return {"host_firewall_rules": host_firewall_rules, "paddock_admin_networks_errors": admin_networks_errors}
