# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""The load balancers' virtual addresses, ``paddock_lb_vips``: one per group of load-balancer
hosts, held by one of them at a time (keepalived, roles/lb_vip) and moved to another when it
dies. Clients use the virtual address, not a host's.

Each entry: ``address`` (an IPv4 address, optionally with its prefix), ``group`` (an inventory
group of load-balancer hosts; ``load_balancers`` by default) and ``router_id`` (VRRP's virtual
router id, 1-255, unique on the network; 51 + the entry's index by default).
"""

from __future__ import annotations

import ipaddress

from ansible_collections.paddock.platform.plugins.module_utils._problems import listed_mappings

KEYS = ("address", "group", "router_id")


def entries(vips, default_group="load_balancers"):
    """Each entry with its defaults filled in: address (no prefix), prefix, group, router_id."""
    out = []
    for index, vip in enumerate(vips or []):
        interface = ipaddress.ip_interface(str(vip["address"]))
        prefix = interface.network.prefixlen if "/" in str(vip["address"]) else 32
        out.append({"address": str(interface.ip), "prefix": prefix, "group": vip.get("group") or default_group,
                    "router_id": int(vip.get("router_id") or 51 + index)})
    return out


def errors(vips, groups, host_addresses, default_group="load_balancers"):
    """Every problem of ``paddock_lb_vips``; ``host_addresses`` are the hosts' own addresses."""
    if vips is None:
        return []
    found, addresses, ids = [], {}, {}
    for index, where, vip in listed_mappings(vips, "paddock_lb_vips", "a list, each with an address",
                                             "a mapping with an address (and a group, a router_id)", KEYS, found):
        try:
            interface = ipaddress.ip_interface(str(vip.get("address")))
        except ValueError:
            found.append(f"{where}.address: must be an IPv4 address, got {vip.get('address')!r}")
        else:
            address = str(interface.ip)
            if interface.version != 4:
                found.append(f"{where}.address: IPv6 virtual addresses are not supported, got {address}")
            elif address in host_addresses:
                found.append(f"{where}.address: {address} is {host_addresses[address]}'s own address; a virtual "
                             "address must be one no host has")
            elif address in addresses:
                found.append(f"{where}.address: {address} is already paddock_lb_vips[{addresses[address]}]")
            else:
                addresses[address] = index
        group = vip.get("group", default_group)
        if not isinstance(group, str) or not groups.get(group):
            found.append(f"{where}.group: {group!r} is not an inventory group with hosts")
        router_id = vip.get("router_id", 51 + index)
        if isinstance(router_id, bool) or not isinstance(router_id, int) or not 1 <= router_id <= 255:
            found.append(f"{where}.router_id: must be a whole number from 1 to 255, got {router_id!r}")
        elif router_id in ids:
            found.append(f"{where}.router_id: {router_id} is already paddock_lb_vips[{ids[router_id]}]'s")
        else:
            ids[router_id] = index
    return found
