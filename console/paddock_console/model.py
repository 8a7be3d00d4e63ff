"""What the console's pages show, from what the Swarm API returns: pure functions, no I/O.

The engine's JSON (``GET /nodes``, ``/services``, ``/tasks``) goes in; the rows a page renders
come out. Kept apart from the web application so that it can be tested without a server.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import re

from ansible_collections.paddock.platform.plugins.module_utils._trail import matches

ROLES = ("admin", "member", "read-only")
# What each role may ask of the console. The engines' authorization plugin decides again for
# every request the console makes with the role's identity; this only hides what would be refused.
CAN = {
    "admin": {"view", "scale", "update", "logs", "launch", "remove", "audit"},
    "member": {"view", "scale", "update", "logs", "launch", "remove"},
    "read-only": {"view", "logs"},
}
STACK_LABEL = "com.docker.stack.namespace"
# The header the console's engine calls carry with the user they are made for: the engines'
# authorization plugin records it beside the console's identity (roles/docker/files/paddock_authz.py).
ON_BEHALF = "X-Paddock-On-Behalf-Of"
# A crypt(3) hash as passlib verifies it: sha512-crypt, sha256-crypt or bcrypt.
HASH = re.compile(r"^(\$6\$|\$5\$|\$2[aby]\$)")


def can(role, action):
    return action in CAN.get(role, ())


def load_users(text):
    """``{"alice": {"role": "admin", "hash": "$6$..."}}`` from the users file; a user whose role
    or hash is not one the console knows is left out (never let in with a guessed role)."""
    users = json.loads(text or "{}")
    return {name: {"role": user["role"], "hash": user["hash"]} for name, user in users.items()
            if isinstance(user, dict) and user.get("role") in ROLES and HASH.match(str(user.get("hash", "")))}


def same_token(expected, given):
    """A form's CSRF token against the session's, in constant time; neither may be empty."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def session_key(session):
    """What a logout records of a session: a digest of its random id, never the id itself."""
    return hashlib.sha256(str(session.get("sid", "")).encode()).hexdigest()[:32] if session.get("sid") else None


def session_over(session, now, lifetime):
    """Whether a session begun at ``session["at"]`` (Unix seconds) is older than ``lifetime``
    seconds at ``now``. A session with no start is over."""
    return now - session.get("at", 0) > lifetime


def recheck_due(session, now, every):
    """Whether a directory user's role is due to be asked of the directory again at ``now``."""
    return now - session.get("checked", 0) > every


class Failures:
    """The refused logins of each name in the last ``window`` seconds: a name with ``limit`` of
    them is refused whatever its password until the oldest leaves the window. The time is
    always given (``now``), never read here. Past ``most`` names, those with no failure in the
    window are forgotten, so that names tried at random cannot grow it without end."""

    def __init__(self, limit=10, window=60, most=10000):
        self.limit, self.window, self.most = limit, window, most
        self.times = {}

    def recent(self, name, now):
        """How many logins of ``name`` were refused in the window before ``now``."""
        if len(self.times) > self.most:
            for stale in [n for n, times in self.times.items() if now - times[-1] >= self.window]:
                del self.times[stale]
        recent = [t for t in self.times.pop(name, []) if now - t < self.window]
        if recent:
            self.times[name] = recent
        return len(recent)

    def locked(self, name, now):
        return self.recent(name, now) >= self.limit

    def add(self, name, now):
        self.times.setdefault(name, []).append(now)


LOCAL_PATH = re.compile(r"^/(?![/\\])[A-Za-z0-9_\-./?=&%:+~]*$")


def safe_next(target):
    """Where to go after a login: a path of this console, else ``/``. ``//host`` and ``/\\host``
    (which browsers read as ``//host``) lead elsewhere and are refused."""
    target = str(target or "")
    return target if LOCAL_PATH.match(target) else "/"


def scaled(replicas, delta):
    """The replica count after pressing + or - (never below 0)."""
    return max(0, int(replicas) + int(delta))


def _running(task):
    return task.get("DesiredState") == "running" and (task.get("Status") or {}).get("State") == "running"


def replicas_of(service):
    """The wanted replica count, or None for a global service."""
    mode = (service.get("Spec") or {}).get("Mode") or {}
    return (mode.get("Replicated") or {}).get("Replicas") if "Replicated" in mode else None


def image_of(service):
    """The image without its digest: ``registry:5000/apacz:1``."""
    image = (((service.get("Spec") or {}).get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image", "")
    return image.split("@", 1)[0]


def ports_of(service):
    ports = ((service.get("Endpoint") or {}).get("Ports") or
             ((service.get("Spec") or {}).get("EndpointSpec") or {}).get("Ports") or [])
    return [f"{p.get('PublishedPort', '')}:{p.get('TargetPort', '')}/{p.get('Protocol', 'tcp')}"
            + (" (host)" if p.get("PublishMode") == "host" else "") for p in ports]


def node_names(nodes):
    return {n["ID"]: (n.get("Description") or {}).get("Hostname", n["ID"][:12]) for n in nodes}


def hosts_view(nodes, tasks, services):
    """Each node as the Infrastructure page lists it, with the task containers it runs."""
    names = {s["ID"]: s["Spec"]["Name"] for s in services}
    rows = []
    for node in sorted(nodes, key=lambda n: (n.get("Description") or {}).get("Hostname", "")):
        spec, status = node.get("Spec") or {}, node.get("Status") or {}
        manager = node.get("ManagerStatus") or {}
        running = sorted(
            ({"name": f"{names.get(t.get('ServiceID'), t.get('ServiceID', '')[:12])}."
                      f"{t.get('Slot') or t.get('NodeID', '')[:12]}",
              "image": ((t.get("Spec") or {}).get("ContainerSpec") or {}).get("Image", "").split("@", 1)[0],
              "state": (t.get("Status") or {}).get("State", "")}
             for t in tasks if t.get("NodeID") == node["ID"] and _running(t)),
            key=lambda c: c["name"])
        rows.append({
            "id": node["ID"],
            "hostname": (node.get("Description") or {}).get("Hostname", ""),
            "state": status.get("State", ""),
            "address": status.get("Addr", ""),
            "role": spec.get("Role", ""),
            "leader": bool(manager.get("Leader")),
            "reachability": manager.get("Reachability", ""),
            "availability": spec.get("Availability", ""),
            "labels": dict(sorted((spec.get("Labels") or {}).items())),
            "engine": ((node.get("Description") or {}).get("Engine") or {}).get("EngineVersion", ""),
            "cpus": round(((node.get("Description") or {}).get("Resources") or {}).get("NanoCPUs", 0) / 1e9, 1),
            "memory_gib": round(((node.get("Description") or {}).get("Resources") or {}).get("MemoryBytes", 0)
                                / 2 ** 30, 1),
            "containers": running,
        })
    return rows


def service_row(service, tasks, names):
    mine = [t for t in tasks if t.get("ServiceID") == service["ID"]]
    running = [t for t in mine if _running(t)]
    labels = (service.get("Spec") or {}).get("Labels") or {}
    row = {
        "id": service["ID"],
        "name": service["Spec"]["Name"],
        "short": service["Spec"]["Name"].removeprefix(labels.get(STACK_LABEL, "") + "_") if labels.get(
            STACK_LABEL) else service["Spec"]["Name"],
        "image": image_of(service),
        "replicas": replicas_of(service),
        "running": len(running),
        "ports": ports_of(service),
        "nodes": sorted({names.get(t.get("NodeID"), "") for t in running}),
        "lb": labels.get("io.paddock.lb") == "true",
        "updating": ((service.get("UpdateStatus") or {}).get("State") or "") in ("updating", "rollback_started"),
        "previous": bool(service.get("PreviousSpec")),
    }
    row["health"] = health(row)
    row["drift"] = drift(row, labels)
    return row


def drift(row, labels):
    """How a service differs from what its files say (labels Paddock's rendering writes): a scale
    or an image set outside the files, which holds until the files change. Empty for a service
    that matches them, or that no Paddock files deployed."""
    found = []
    wanted = labels.get("io.paddock.files.replicas")
    if wanted is not None and row["replicas"] is not None and str(row["replicas"]) != wanted:
        found.append(f"scale {row['replicas']} here, {wanted} in its files")
    image = labels.get("io.paddock.files.image")
    if image and row["image"] != image:
        found.append(f"image {row['image']} here, {image} in its files")
    return found


def stacks_view(services, tasks, nodes, managed):
    """Services grouped by stack (``com.docker.stack.namespace``); those outside any stack under
    ``None``. ``managed``: the stacks the inventory (Git) deploys."""
    names = node_names(nodes)
    stacks = {}
    for service in services:
        stack = ((service.get("Spec") or {}).get("Labels") or {}).get(STACK_LABEL)
        stacks.setdefault(stack, []).append(service_row(service, tasks, names))
    return [{"name": name, "managed": name in managed,
             "services": sorted(rows, key=lambda r: r["name"])}
            for name, rows in sorted(stacks.items(), key=lambda item: (item[0] is None, item[0] or ""))]


def task_rows(tasks, names):
    """A service's tasks, newest first, as ``docker service ps`` lists them."""
    rows = []
    for task in sorted(tasks, key=lambda t: t.get("CreatedAt", ""), reverse=True):
        status = task.get("Status") or {}
        rows.append({"id": task["ID"][:12], "slot": task.get("Slot", ""), "node": names.get(task.get("NodeID"), ""),
                     "desired": task.get("DesiredState", ""), "state": status.get("State", ""),
                     "since": status.get("Timestamp", "")[:19].replace("T", " "), "error": status.get("Err", ""),
                     "image": ((task.get("Spec") or {}).get("ContainerSpec") or {}).get("Image", "").split("@")[0]})
    return rows


def event_row(event):
    """One engine event (``GET /events``) as the Events page lists it."""
    actor = event.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    return {"time": int(event.get("time", 0)), "who": "engine", "type": event.get("Type", ""),
            "action": event.get("Action", ""),
            "target": attributes.get("name") or attributes.get("com.docker.swarm.service.name")
            or actor.get("ID", "")[:12]}


def image_with_tag(image, tag):
    """``registry:5000/apacz:1`` with tag 2 -> ``registry:5000/apacz:2`` (a port is not a tag)."""
    image = image.split("@", 1)[0]
    slash = image.rfind("/")
    colon = image.rfind(":")
    base = image[:colon] if colon > slash else image
    return f"{base}:{tag}"


TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def tag_problem(tag):
    return None if TAG.match(tag or "") else "a tag is letters, digits, _ . - (at most 128), not starting with . or -"


# -- host graphs: the host agent's node exporter, sampled by the console ----------------------
SAMPLE = re.compile(r'^(node_cpu_seconds_total|node_memory_MemTotal_bytes|node_memory_MemAvailable_bytes|'
                    r'node_filesystem_size_bytes|node_filesystem_avail_bytes)(\{[^}]*\})?\s+(\S+)')
IDLE_MODES = ('mode="idle"', 'mode="iowait"')
MOUNT = re.compile(r'mountpoint="([^"]*)"')
# The disk a container host fills: Docker's data root (images, volumes, logs), else the root.
DISK_MOUNTS = ("/var/lib/docker", "/")


def exporter_sample(text):
    """What the graphs need from a node exporter's ``/metrics`` text: CPU seconds (busy and all,
    summed over the cores), memory, and the size and free space of the disk (``DISK_MOUNTS``).
    A value the exporter does not report is left out."""
    sample, disks = {"cpu_busy": 0.0, "cpu_all": 0.0}, {}
    seen_cpu = False
    for line in text.splitlines():
        found = SAMPLE.match(line)
        if not found:
            continue
        name, labels, value = found.group(1), found.group(2) or "", found.group(3)
        try:
            number = float(value)
        except ValueError:
            continue
        if name == "node_cpu_seconds_total":
            seen_cpu = True
            sample["cpu_all"] += number
            if not any(mode in labels for mode in IDLE_MODES):
                sample["cpu_busy"] += number
        elif name.startswith("node_memory_"):
            sample[name.removeprefix("node_memory_").removesuffix("_bytes").lower()] = number
        else:
            mount = MOUNT.search(labels)
            if mount and mount.group(1) in DISK_MOUNTS:
                disks.setdefault(mount.group(1), {})[name.removeprefix("node_filesystem_")
                                                     .removesuffix("_bytes")] = number
    if not seen_cpu:
        del sample["cpu_busy"], sample["cpu_all"]
    for mount in DISK_MOUNTS:  # the engine's data root where it is a filesystem of its own, else /
        if {"size", "avail"} <= set(disks.get(mount, ())):
            sample.update(disk_size=disks[mount]["size"], disk_avail=disks[mount]["avail"])
            break
    return sample


def usage(previous, current):
    """CPU, memory and disk use in percent, between two samples of one host. CPU needs both
    samples (it is a rate) and is None for the first; a counter that went back (the exporter
    restarted) gives None too."""
    def share(used, whole):
        return round(100 * used / whole, 1) if whole else None

    cpu = None
    if previous and "cpu_all" in previous and "cpu_all" in current:
        elapsed = current["cpu_all"] - previous["cpu_all"]
        busy = current["cpu_busy"] - previous["cpu_busy"]
        if elapsed > 0 and busy >= 0:
            cpu = share(busy, elapsed)
    memory = share(current["memtotal"] - current["memavailable"], current["memtotal"]) \
        if "memtotal" in current and "memavailable" in current else None
    disk = share(current["disk_size"] - current["disk_avail"], current["disk_size"]) \
        if "disk_size" in current and "disk_avail" in current else None
    return {"cpu": cpu, "memory": memory, "disk": disk}


def sparkline(points, now, span=3600, width=120, height=24):
    """An SVG polyline's ``points`` for ``[(time, percent), ...]`` over the last ``span`` seconds:
    time runs left to right ending at ``now``, 0 % at the bottom and 100 % at the top. Gaps (None)
    are left out."""
    drawn = []
    for when, value in points:
        if value is None or when < now - span:
            continue
        x = width * (1 - (now - when) / span)
        y = height * (1 - min(max(value, 0), 100) / 100)
        drawn.append(f"{x:.1f},{y:.1f}")
    return " ".join(drawn)


def graphs(series, now, span=3600):
    """Each metric of one host's samples ``[(time, {cpu, memory, disk}), ...]`` as the page draws
    it: its value in the latest sample (None when that one is a gap) and its line."""
    out = {}
    for metric in ("cpu", "memory", "disk"):
        points = [(when, values.get(metric)) for when, values in series]
        latest = points[-1][1] if points else None  # a host silent now shows no figure, not its last
        out[metric] = {"latest": latest, "line": sparkline(points, now, span)}
    return out


# -- load balancers: their rules and the tasks each reaches -----------------------------------
LB_RULES_LABEL = "io.paddock.lb.rules"


def _address_on(task, network):
    """The task's address on the network named ``network``, else on its first other network."""
    found = []
    for attachment in task.get("NetworksAttachments") or []:
        name = ((attachment.get("Network") or {}).get("Spec") or {}).get("Name", "")
        for address in attachment.get("Addresses") or []:
            found.append((name != network, name == "ingress", address.split("/", 1)[0]))
    return min(found)[2] if found else ""


def lb_rules(service, services, tasks, names):
    """A load balancer's port rules (its ``io.paddock.lb.rules`` label, written by Paddock's
    stack rendering), each with the running tasks it reaches now: those of its target service,
    which HAProxy finds through Swarm's DNS (``tasks.STACK_SERVICE``). None for a service that
    is not one of Paddock's load balancers."""
    labels = (service.get("Spec") or {}).get("Labels") or {}
    try:
        rules = json.loads(labels.get(LB_RULES_LABEL) or "null")
    except ValueError:
        rules = None
    if not isinstance(rules, list):
        return None
    ids = {s["Spec"]["Name"]: s["ID"] for s in services}
    rows = []
    for rule in rules:
        stack, _, target = str(rule.get("target", "")).rpartition("/")
        name = f"{stack}_{target}"
        reached = sorted(
            ({"node": names.get(t.get("NodeID"), ""), "address": _address_on(t, f"{stack}_default"),
              "slot": t.get("Slot", "")}
             for t in tasks if t.get("ServiceID") == ids.get(name) and _running(t)),
            key=lambda r: (r["node"], str(r["slot"])))
        rows.append({"port": rule.get("port"), "protocol": rule.get("protocol", ""),
                     "match": f"{rule.get('hostname') or '*'}{rule.get('path') or ''}",
                     "target": rule.get("target", ""), "target_id": ids.get(name),
                     "target_port": rule.get("target_port"), "reaches": reached})
    return rows


def health(row):
    """A service's health as the Stacks page shows it, from its running tasks against its scale."""
    if row["updating"]:
        return "updating"
    wanted = row["replicas"]
    if wanted is None:  # global: healthy with a task running, down without
        return "healthy" if row["running"] else "down"
    if row["running"] >= wanted:
        return "healthy"
    return "degraded" if row["running"] else "down"


def _tagged(text, tag):
    """The values of ``{"<tag>": value}`` JSON lines in a service's logs, after whatever prefix
    each log line carries. A line that only looks like one is left out."""
    opening = f'{{"{tag}"'
    for line in text.splitlines():
        start = line.find(opening)
        if start < 0:
            continue
        try:
            yield json.loads(line[start:])[tag]
        except (ValueError, KeyError, TypeError):
            continue


def actions_logged(text):
    """The console's actions from its service's logs: the lines it printed as
    ``{"paddock_console_action": {...}}``."""
    return [entry for entry in _tagged(text, "paddock_console_action")
            if isinstance(entry, dict) and isinstance(entry.get("time"), int) and entry.get("type") == "console"
            and all(isinstance(entry.get(k), str) for k in ("id", "who", "action", "target", "result"))
            and isinstance(entry.get("session") or "", str)]


def audit_logged(text):
    """The audit trail's records from the audit service's logs (paddock_console/audit_tail.py):
    ``{"paddock_audit": {host, trail, record}}`` lines, each record a mapping with a time."""
    return [entry for entry in _tagged(text, "paddock_audit")
            if isinstance(entry, dict) and isinstance(entry.get("record"), dict)
            and isinstance(entry["record"].get("time"), str)]


def unix_time(text):
    """An ISO date or time typed in a form (2026-12-07, 2026-12-07T10:30, UTC) as Unix seconds, or
    None when it is not one."""
    try:
        moment = datetime.datetime.fromisoformat(str(text).removesuffix("Z"))
    except ValueError:
        return None
    return int(moment.replace(tzinfo=datetime.UTC).timestamp())


def audit_rows(entries, user="", since="", until="", path=""):
    """The Audit page's rows, newest first: each record once (by host, trail and seq), those of
    ``user`` (as themselves or as the one the console acted for), between ``since`` and ``until``
    (ISO times, compared as text) and whose path or target holds ``path``."""
    rows, seen = [], set()
    for entry in entries:
        record = entry["record"]
        key = (entry.get("host"), entry.get("trail"), record.get("seq"))
        if key in seen:
            continue
        seen.add(key)
        if not matches(record, user, since, until, re.escape(path)):  # the playbook's filters, a path as text
            continue
        where = str(record.get("path") or record.get("target") or "")
        rows.append({"time": record["time"], "host": entry.get("host", ""), "trail": entry.get("trail", ""),
                     "user": record.get("user") or "", "for": record.get("on_behalf_of") or "",
                     "what": " ".join(str(record.get(k)) for k in ("method", "action") if record.get(k)),
                     "where": where, "stage": record.get("stage", ""),
                     "decision": record.get("decision") or record.get("result") or "",
                     "status": record.get("status") or "", "reason": record.get("reason") or record.get("rule") or ""})
    return sorted(rows, key=lambda row: row["time"], reverse=True)
