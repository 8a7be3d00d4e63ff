# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Swarm planning: from the inventory and what each host reports, decide what to do.

Everything here is pure and linear in the number of hosts, so it runs once on the
controller for a whole fleet and the unit tests import it directly.

A host is described by a mapping:
  name, want ("manager" | "worker"), state ("present" | "absent"), addr (advertise address),
  groups, inventory_file, and info: the host's ``docker info .Swarm`` (None when the host
  could not be asked: absent and down).
"""

from __future__ import annotations

import ipaddress
import json

from ansible_collections.paddock.platform.plugins.module_utils._problems import origin, shown_path

STATES = ("present", "absent")
ROLE_GROUPS = {"swarm_managers": "manager", "swarm_workers": "worker"}
INVENTORY_LABEL = "paddock.inventory_hostname"


def inventory_errors(hosts, load_balancers=(), lb_group="load_balancers"):
    """Every problem with the inventory's description of the cluster, as strings.

    ``load_balancers``: the hosts of the load balancers' group, each of which must be a
    present Swarm node (the load balancer runs as a Swarm service on them)."""
    errors = []
    for host in hosts:
        file = host.get("inventory_file") or "inventory"
        where = f"{file}: host {host['name']}"
        origins = host.get("origins") or {}
        at = {key: f"{origins.get(key) or file}: host {host['name']}" for key in
              ("node_state", "swarm_advertise_addr", "swarm_listen_addr", "swarm_labels")}
        roles = [group for group in ROLE_GROUPS if group in host.get("groups", [])]
        if len(roles) > 1:
            errors.append(f"{where}: is in both swarm_managers and swarm_workers; a host has one role")
        if host.get("state") not in STATES:
            errors.append(f"{at['node_state']}: node_state: must be one of: {', '.join(STATES)}; "
                          f"got '{host.get('state')}'")
        if host.get("addr") is not None and not _is_ip(host["addr"]):
            errors.append(f"{at['swarm_advertise_addr']}: swarm_advertise_addr: {host['addr']!r} is not an "
                          "IP address")
        elif host.get("addr") is not None and not _is_unicast(host["addr"]):
            errors.append(f"{at['swarm_advertise_addr']}: swarm_advertise_addr: {host['addr']} is not an "
                          "address other hosts can "
                          "reach (unspecified, loopback or multicast)")
        if host.get("listen_addr") not in (None, "") and not _is_ip(host["listen_addr"]):
            errors.append(f"{at['swarm_listen_addr']}: swarm_listen_addr: '{host['listen_addr']}' is not an IP "
                          "address (the port is always 2377)")
        labels = host.get("labels", {})
        if not isinstance(labels, dict):
            errors.append(f"{at['swarm_labels']}: swarm_labels: must be a mapping of label to value")
            labels = {}
        for key, value in labels.items():
            if str(key).startswith("paddock."):
                errors.append(f"{at['swarm_labels']}: swarm_labels.{key}: labels under paddock. are Paddock's own "
                              f"({INVENTORY_LABEL} is how it finds the node)")
            elif isinstance(value, (dict, list)) or value is None:
                got = "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else "nothing"
                errors.append(f"{origin(value, origins.get('swarm_labels') or file)}: host {host['name']}: "
                              f"swarm_labels.{key}: must be a string, number or boolean, got {got}")
    errors += _duplicate_addresses(hosts)
    nodes = {h["name"] for h in hosts if set(h.get("groups", [])) & set(ROLE_GROUPS)
             and h.get("state", "present") == "present"}
    source = next((h.get("inventory_file") for h in hosts), None) or "inventory"
    errors += [f"{source}: group {lb_group}: host {name} is not a present Swarm node (in swarm_managers "
               "or swarm_workers, without node_state: absent); the load balancer runs only on nodes"
               for name in load_balancers if name not in nodes]
    managers = [h["name"] for h in hosts if "swarm_managers" in h.get("groups", [])
                and h.get("state", "present") == "present"]
    in_swarm = [h for h in hosts if set(h.get("groups", [])) & set(ROLE_GROUPS)]
    if not in_swarm:
        return errors  # plain Docker hosts: no swarm to describe
    if not managers:
        errors.append(f"{source}: group swarm_managers: has no present host; a Swarm needs a manager")
    elif len(managers) % 2 == 0:
        errors.append(f"{source}: group swarm_managers: has {len(managers)} present managers "
                      f"({', '.join(managers)}); the count must be odd so that a majority survives "
                      "a failure")
    return errors


def _is_ip(value):
    """An IP address written as one (ipaddress would take the integer 167969543 too)."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_unicast(value):
    address = ipaddress.ip_address(value)
    return not (address.is_unspecified or address.is_loopback or address.is_multicast)


def _duplicate_addresses(hosts):
    seen, errors = {}, []
    for host in hosts:
        addr = host.get("addr")
        if addr is None or host.get("state") == "absent":
            continue
        if addr in seen:
            errors.append(f"{host.get('inventory_file') or 'inventory'}: host {host['name']}: advertise "
                          f"address {addr} is also the advertise address of {seen[addr]}")
        else:
            seen[addr] = host["name"]
    return errors


def _is_manager(info):
    return bool(info and info.get("ControlAvailable"))


def _cluster_id(info):
    return ((info or {}).get("Cluster") or {}).get("ID")


def bootstrap(hosts):
    """Choose the manager that every cluster operation goes through.

    Returns ``{"host", "init", "cluster_id", "errors"}``. Init happens only when no listed
    host is in any swarm; otherwise a manager already in the (single) swarm is used,
    preferring one the inventory wants as a manager.
    """
    present = [h for h in hosts if h.get("state") == "present"]
    clusters = {}
    for host in hosts:
        if _is_manager(host.get("info")) and _cluster_id(host["info"]):
            clusters.setdefault(_cluster_id(host["info"]), []).append(host)
    if len(clusters) > 1:
        described = "; ".join(f"{cid[:12]}: {', '.join(h['name'] for h in members)}"
                              for cid, members in sorted(clusters.items()))
        return _failed(f"the inventory's hosts are managers of different swarms ({described}); "
                       "one inventory is one swarm")
    if clusters:
        cluster_id, managers = next(iter(clusters.items()))
        live = [h for h in managers if h.get("state") == "present"] or managers
        wanted = [h for h in live if h.get("want") == "manager"]
        return {"host": (wanted or live)[0]["name"], "init": False, "cluster_id": cluster_id, "errors": []}
    silent = [h["name"] for h in present if h.get("info") is None]
    if silent:
        return _failed(f"can not tell whether a swarm exists: {', '.join(silent)} did not report its "
                       "swarm state (unreachable, or stopped by a failure shown above); a new swarm is only "
                       "initialised when every present host answers: bring the host back, or mark it "
                       "node_state: absent")
    locked = [h["name"] for h in hosts if (h.get("info") or {}).get("LocalNodeState") == "locked"]
    if locked:
        return _failed(f"{', '.join(locked)}: the swarm is locked (autolock) and no manager can operate it; "
                       "give swarm_unlock_key (the vaulted key Paddock saved) so that site.yml unlocks it")
    joined = [h["name"] for h in hosts if (h.get("info") or {}).get("LocalNodeState") not in (None, "inactive")]
    if joined:
        return _failed(f"{', '.join(joined)} already in a swarm that no host of the inventory manages; "
                       "list one of its managers in swarm_managers, or make the host leave it")
    first = next((h for h in present if h.get("want") == "manager"), None)
    if first is None:
        return _failed("no present manager to initialise the swarm on")
    return {"host": first["name"], "init": True, "cluster_id": None, "errors": []}


def _failed(message):
    return {"host": None, "init": False, "cluster_id": None, "errors": [message]}


def index_nodes(nodes):
    """Index ``docker node inspect`` output once, so matching every host costs O(hosts + nodes)."""
    index = {"id": {}, "label": {}, "hostname": {}, "addr": {}}
    for node in nodes:
        keys = {"id": node["ID"],
                "label": (node.get("Spec", {}).get("Labels") or {}).get(INVENTORY_LABEL),
                "hostname": node.get("Description", {}).get("Hostname"),
                "addr": node.get("Status", {}).get("Addr")}
        for kind, key in keys.items():
            if key:
                index[kind].setdefault(key, node)  # the first node listed wins, as a scan would
    return index


def find_node(host, index):
    """The node of the cluster that is this host: by its own node ID, then our label, name, address."""
    candidates = (("id", (host.get("info") or {}).get("NodeID")), ("label", host["name"]),
                  ("hostname", host["name"]), ("addr", host.get("addr")))
    for kind, key in candidates:
        if key and key in index[kind]:
            return index[kind][key]
    return None


def plan(hosts, nodes, operator):
    """Decide, per host, what the cluster must do. ``nodes`` is ``docker node inspect`` of all nodes.

    Joins and promotions go through ``operator``, a manager already. Demotions and removals go
    through ``lead``, the first present host the inventory wants as a manager: it is one by
    then, so a hand-made swarm whose only manager must become a worker can be adopted.

    Returns ``{"actions": {name: action}, "errors": [...], "lead": name}``; an action has ``do`` (one of
    ``join``, ``keep``, ``remove``, ``leave``, ``none``), ``role`` (the wanted role), ``node_id``,
    ``promote``/``demote`` (bool), and for removals ``manager`` and ``reachable``.
    """
    actions, errors, index = {}, [], index_nodes(nodes)
    for host in hosts:
        info = host.get("info") or {}
        node = find_node(host, index)
        local = info.get("LocalNodeState")
        if host.get("state") == "absent":
            actions[host["name"]] = _removal(host, node, local)
            continue
        if local in ("locked", "pending", "error"):
            errors.append(f"{host['name']}: its engine reports swarm state '{local}'"
                          + ("; unlock it with its unlock key" if local == "locked" else ""))
            continue
        if local == "active" and node is None:
            errors.append(f"{host['name']}: is in a different swarm (node {info.get('NodeID', '?')[:12]} "
                          "is not a node of this cluster); make it leave that swarm first (a manager lost "
                          "with the swarm's majority and back since: playbooks/recover.yml does that)")
            continue
        if node is None:
            actions[host["name"]] = {"do": "join", "role": host["want"], "node_id": None, "addr": host["addr"]}
            continue
        is_manager = node.get("Spec", {}).get("Role") == "manager"
        spec = node.get("Spec", {})
        actions[host["name"]] = {"do": "keep", "role": host["want"], "node_id": node["ID"], "addr": host["addr"],
                                 "promote": host["want"] == "manager" and not is_manager,
                                 "demote": host["want"] == "worker" and is_manager,
                                 "labels": spec.get("Labels") or {}, "availability": spec.get("Availability")}
    lead = next((h["name"] for h in hosts if h.get("want") == "manager" and h.get("state") == "present"), None)
    return {"actions": actions, "errors": errors, "lead": lead}


def recovery(hosts, led):
    """Decide how ``playbooks/recover.yml`` makes a swarm that lost its manager majority
    writable again. ``hosts``: the inventory's present managers (``describe_hosts``); ``led``:
    the names of those where ``docker node ls`` worked, i.e. whose swarm has a leader.

    Returns ``{"survivor", "force", "errors"}``. With a leader seen by any manager, nothing is
    forced and ``survivor`` is that manager; without one, ``survivor`` is the first manager the
    inventory lists that still answers as a manager of the swarm, and ``force`` is true (it
    runs ``docker swarm init --force-new-cluster``). A host that answers but is no manager is
    never chosen: forcing a new cluster on it would start an empty swarm.
    """
    # A manager still trying to rejoin a majority it lost is "pending"; one without a leader may
    # not name its cluster (Docker reads that through the leader).
    managers = [h for h in hosts if h.get("state") == "present" and _is_manager(h.get("info"))
                and h["info"].get("LocalNodeState") == "active"]
    clusters = sorted({_cluster_id(h["info"]) for h in managers} - {None, ""})
    if len(clusters) > 1:
        return {"survivor": None, "force": False,
                "errors": [f"the inventory's managers are in different swarms ({', '.join(c[:12] for c in clusters)}); "
                           "recover one swarm, with an inventory of its own hosts"]}
    leading = [h["name"] for h in managers if h["name"] in led]
    if leading:
        return {"survivor": leading[0], "force": False, "errors": []}
    if not managers:
        silent = [h["name"] for h in hosts if h.get("state") == "present" and h.get("info") is None]
        return {"survivor": None, "force": False,
                "errors": ["no manager of the swarm answers" + (f" ({', '.join(silent)} did not)" if silent else "")
                           + ": there is nothing to recover from; bring back one manager with its data"]}
    return {"survivor": managers[0]["name"], "force": True, "errors": []}


def lost_managers(nodes, forced=False):
    """The nodes of a recovered swarm that are managers in name only: their spec says manager,
    but they are no member of the raft (no manager status). Right after ``--force-new-cluster``
    (``forced``) these are exactly the managers left behind, whatever state the swarm last saw
    them in; on a later run only those not up are, since a node being promoted is up and has no
    manager status yet either."""
    return [node for node in nodes
            if (node.get("Spec") or {}).get("Role") == "manager" and not node.get("ManagerStatus")
            and (forced or (node.get("Status") or {}).get("State") != "ready")]


def _removal(host, node, local):
    if node is not None:
        return {"do": "remove", "role": None, "node_id": node["ID"],
                "manager": node.get("Spec", {}).get("Role") == "manager",
                "reachable": host.get("info") is not None}
    if local == "active":
        return {"do": "leave", "role": None, "node_id": None, "reachable": True}
    return {"do": "none", "role": None, "node_id": None}


LB_NODE_LABEL = "paddock.lb"


def host_labels(facts, docker_info, name, labels, group_names=(), lb_group="load_balancers"):
    """The labels a node carries: the inventory's, plus automatic host labels as Rancher set them.

    Hosts in the load-balancer group also carry paddock.lb=true: the load balancers run there."""
    automatic = {
        INVENTORY_LABEL: name,
        "paddock.host.kernel": facts.get("kernel", docker_info.get("KernelVersion", "")),
        "paddock.host.docker_version": docker_info.get("ServerVersion", ""),
        "paddock.host.os": docker_info.get("OperatingSystem", ""),
        "paddock.host.cpus": str(docker_info.get("NCPU", "")),
        "paddock.host.memory_mb": str(int(docker_info.get("MemTotal", 0)) // (1024 * 1024)),
        # The names Rancher 1.x gave the same facts, so its stacks' host_label rules still match.
        "io.rancher.host.linux_kernel_version": facts.get("kernel", docker_info.get("KernelVersion", "")),
        "io.rancher.host.docker_version": docker_info.get("ServerVersion", ""),
    }
    if lb_group in (group_names or ()):
        automatic[LB_NODE_LABEL] = "true"
    return {**automatic, **{str(k): str(v) for k, v in (labels or {}).items()}}


def advertise_address(hostvars):
    """Rancher's CATTLE_AGENT_IP: explicit, else a named interface, else ansible_host, else the default route's."""
    if hostvars.get("swarm_advertise_addr"):
        return hostvars["swarm_advertise_addr"]
    facts = hostvars.get("ansible_facts") or {}
    interface = hostvars.get("swarm_advertise_interface")
    if interface:
        return ((facts.get(interface.replace("-", "_")) or {}).get("ipv4") or {}).get("address")
    if _is_ip(str(hostvars.get("ansible_host", ""))):
        return hostvars["ansible_host"]
    return (facts.get("default_ipv4") or {}).get("address")


def describe_hosts(names, hostvars, info_var="swarm_docker_info"):
    """Build the host descriptions the planners take, from Ansible's hostvars."""
    hosts = []
    for name in names:
        variables = hostvars[name]
        groups = [g for g in ROLE_GROUPS if g in (variables.get("group_names") or [])]
        registered = variables.get(info_var) or {}
        info = None
        if registered.get("rc") == 0 and registered.get("stdout"):
            info = json.loads(registered["stdout"]).get("Swarm")
        hosts.append({
            "name": name,
            "groups": groups,
            "want": ROLE_GROUPS[groups[0]] if groups else None,
            "state": variables.get("node_state", "present"),
            "addr": advertise_address(variables),
            "listen_addr": variables.get("swarm_listen_addr"),
            "labels": variables.get("swarm_labels", {}),
            "inventory_file": shown_path(variables["inventory_file"]) if variables.get("inventory_file") else None,
            "origins": {key: origin(variables.get(key)) for key in
                        ("node_state", "swarm_advertise_addr", "swarm_listen_addr", "swarm_labels")
                        if key in variables},
            "info": info,
        })
    return hosts
