# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host firewall filters. Each is documented in the YAML file of its name beside this one."""

from __future__ import annotations

import ipaddress

from ansible_collections.paddock.platform.plugins.module_utils._access import admin_networks_errors

CHAIN = "PADDOCK-HOST"


def _network(value):
    return ipaddress.ip_network(str(value), strict=False)


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
