# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""The managed network: Rancher's 10.42.0.0/16, one subnet per host, IPsec between hosts.

Planning runs once, on the controller. Each host owns one subnet of the managed range. A
subnet, once given, is recorded on the host's Swarm node (label ``paddock.managed.subnet``)
and never changes: adding or removing hosts never renumbers the others. A new host gets the
lowest free subnet.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.paddock.platform.plugins.module_utils._problems import origin

SUBNET_LABEL = "paddock.managed.subnet"
# A tunnel's reqid is fixed: this base plus its peer's subnet number. strongSwan 5.9 (Debian 12)
# carries a deleted CHILD_SA's dynamic reqid into its restart (close_action, dpd_action) even
# after that reqid was handed to another tunnel; two tunnels then share one, and kernel-libipsec,
# which finds the outbound SA by reqid, sends one peer's traffic into the other's tunnel. Above
# the dynamic counter (from 1), so other strongSwan connections on a host never collide with these.
REQID_BASE = 0x10000
# Swarm's ingress network (docker swarm init's default): the routing mesh's addresses.
SWARM_INGRESS = "10.0.0.0/24"
# swanctl.conf carries the PSK inside double quotes, which cannot hold these.
PSK_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f]')


def _network(value):
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        return None


def config_errors(settings, hosts, pools=()):
    """Problems with the managed network's settings, before any host is touched.

    ``settings``: range, host_prefix, auth (certificate or psk), tls (whether the environment has
    its CA), psk (empty when missing; needed with psk; never written into a message);
    ``hosts``: the described
    hosts (swarm_hosts), of which present swarm nodes join the network; ``pools``: Docker's
    default-address-pools, which it must not overlap."""
    errors = []
    hosts = [h for h in hosts if h.get("want") and h.get("state", "present") == "present"]
    others = {f"docker_default_address_pools[{i}]": p.get("base") if isinstance(p, dict) else p
              for i, p in enumerate(pools or [])}
    at = {key: f"{origin(settings.get(key), 'inventory')}: managed_network_{key}"
          for key in ("range", "host_prefix", "auth", "psk")}
    net = _network(settings.get("range"))
    if net is None or net.version != 4:
        errors.append(f"{at['range']}: '{settings.get('range')}' is not an IPv4 network like 10.42.0.0/16")
        return errors
    prefix = settings.get("host_prefix")
    if not isinstance(prefix, int) or isinstance(prefix, bool) or not net.prefixlen <= prefix <= 29:
        errors.append(f"{at['host_prefix']}: must be a whole number from {net.prefixlen} to 29, got {prefix!r}")
    else:
        capacity = 2 ** (prefix - net.prefixlen)
        if capacity < len(hosts):
            errors.append(f"{at['host_prefix']}: /{prefix} subnets of {net} give {capacity} subnet"
                          f"{'s' if capacity != 1 else ''} for {len(hosts)} hosts; use a longer prefix "
                          "or a larger range")
    others["Swarm's ingress network"] = SWARM_INGRESS
    for description, cidr in sorted(others.items()):
        other = _network(cidr) if "/" in str(cidr) else _network(f"{cidr}/32")
        if other is not None and other.version == 4 and net.overlaps(other):
            where = origin(settings.get("range"), origin(cidr, "inventory"))
            errors.append(f"{where}: managed_network_range: {net} overlaps {description} ({cidr})")
    for host in hosts:
        addr = host.get("addr")
        if addr and _network(f"{addr}/32") and net.overlaps(_network(f"{addr}/32")):
            errors.append(f"{at['range']}: {net} contains {host['name']}'s own address {addr}; the tunnels "
                          "run between host addresses outside it")
    auth = settings.get("auth", "psk")
    psk = settings.get("psk")
    psk_length = len(str(psk)) if psk is not None else 0
    if auth not in ("certificate", "psk"):
        errors.append(f"{at['auth']}: must be certificate or psk, got {auth!r}")
    elif auth == "certificate":
        if not settings.get("tls", True):
            errors.append(f"{at['auth']}: certificate needs the environment's CA (paddock_tls: true); "
                          "set managed_network_auth: psk and a managed_network_psk")
    elif not psk_length:
        errors.append(f"{origin(auth, 'inventory')}: managed_network_psk: missing (managed_network_auth is psk): "
                      "generate one per environment and keep it in Ansible Vault (docs/network.md)")
    elif psk_length < 32:
        errors.append(f"{at['psk']}: too short: use at least 32 random characters")
    elif psk is not None and PSK_UNSAFE.search(str(psk)):
        errors.append(f"{at['psk']}: has a double quote, a backslash or a control character, which "
                      "strongSwan's quoted secret can not carry; use printable characters such as "
                      "`openssl rand -base64 48` gives")
    return errors


def allocate(names, existing, network_range, prefix):
    """{host: subnet} for the hosts in ``names``: kept where ``existing`` has one, else the lowest free.

    Returns (subnets, errors). ``existing`` is {host: subnet} read from the nodes' labels; the
    subnets of nodes not in ``names`` (still in the swarm) stay taken until they leave it."""
    net = ipaddress.ip_network(network_range)
    pool = list(net.subnets(new_prefix=prefix))
    subnets, errors = {}, []
    taken = {_network(v) for k, v in existing.items() if k not in names and _network(v)}
    for name in names:
        current = _network(existing.get(name)) if existing.get(name) else None
        if current is None:
            continue
        if current not in pool:
            errors.append(f"{name}: its managed subnet {current} is not a /{prefix} of {net}; changing the range "
                          "or prefix would renumber running hosts, which Paddock does not do")
            continue
        if current in taken:
            errors.append(f"{name}: its managed subnet {current} is also another host's")
            continue
        subnets[name] = str(current)
        taken.add(current)
    free = (s for s in pool if s not in taken)
    for name in names:
        if name not in subnets and not any(name in e for e in errors):
            subnet = next(free, None)
            if subnet is None:
                errors.append(f"{name}: no free /{prefix} subnet left in {net}")
                continue
            subnets[name] = str(subnet)
            taken.add(subnet)
    return subnets, errors


def existing_subnets(nodes):
    """{inventory host: subnet} from ``docker node inspect`` documents (the inventory-name label)."""
    found = {}
    for node in nodes or []:
        labels = (node.get("Spec") or {}).get("Labels") or {}
        host = labels.get("paddock.inventory_hostname") or (node.get("Description") or {}).get("Hostname")
        if labels.get(SUBNET_LABEL) and host:
            found[host] = labels[SUBNET_LABEL]
    return found


def reqid(subnet, network_range):
    """The fixed reqid of the tunnel to the host owning ``subnet``: as stable as the subnet."""
    subnet, net = ipaddress.ip_network(subnet), ipaddress.ip_network(network_range)
    return REQID_BASE + (int(subnet.network_address) - int(net.network_address)) // subnet.num_addresses


def peers(me, hosts, subnets, addresses, network_range):
    """The tunnels of host ``me``: one per other host, with the side that initiates."""
    out = []
    for other in hosts:
        if other == me or other not in subnets or me not in subnets:
            continue
        out.append({"name": other, "local_addr": addresses[me], "remote_addr": addresses[other],
                    "local_ts": subnets[me], "remote_ts": subnets[other],
                    "reqid": reqid(subnets[other], network_range),
                    "initiate": ipaddress.ip_address(addresses[me]) < ipaddress.ip_address(addresses[other])})
    return out


def plan(names, addresses, nodes, network_range, prefix):
    """The managed network of the swarm's present hosts: their subnets and addresses."""
    subnets, errors = allocate(names, existing_subnets(nodes), network_range, prefix)
    return {"hosts": list(names), "subnets": subnets, "addresses": dict(addresses), "errors": errors,
            "range": network_range}


def host_view(name, network_plan):
    """One host's part of the plan: its subnet, gateway and tunnels."""
    subnet = ipaddress.ip_network(network_plan["subnets"][name])
    return {"subnet": str(subnet), "gateway": str(subnet.network_address + 1),
            "peers": peers(name, network_plan["hosts"], network_plan["subnets"], network_plan["addresses"],
                           network_plan["range"])}
