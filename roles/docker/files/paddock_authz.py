#!/usr/bin/env python3
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paddock's Docker authorization plugin: who may do what through the TLS API, and a trail of it.

dockerd asks it about every API request (authorization-plugins in daemon.json). A request
over TLS carries the user: the common name of the client certificate, which Paddock issues
per user from the environment's CA. The policy file lists the users of the inventory and
their roles; a user removed from the inventory is refused at once, without restarting the
engine or rotating the CA.

Deny by default: each role is an allow-list of the engine's routes (ROUTES), matched on the
path as Docker's router sees it (percent-decoded, dot segments and duplicate slashes
resolved, an absolute-form target reduced to its path, the API version prefix optional).

  admin      everything: admin means root on every host
  member     runs workloads, and nothing that reaches the host: the body of every call that
             creates or changes a workload is read as the engine reads it (_gojson: Go's
             encoding/json into the engine's own types) and checked (no host paths,
             privileged mode, host namespaces, added capabilities, devices or unconfined
             profiles, unless the policy's `member_allow` names a host path or capability);
             no swarm, node or plugin changes, not the swarm's join tokens, no image push
             (an engine may hold the platform registry's credentials), and nothing of the
             platform's own stacks (`platform_stacks`: the console), whose secrets hold the
             console's certificates
  read-only  metadata: listing and inspecting, info, version, events and logs (not the
             platform's); never attach, exec, archive, export, image save, the join tokens
             or a config's data

Each user is also bound to the fingerprints of the certificates Paddock issued them, so a
certificate replaced by playbooks/rotate_secrets.yml is refused even though the CA signed it.
Requests without a user come over the unix socket, which only root can open: allowed, and not
recorded. Anything the plugin cannot decide (a policy it cannot read, a body it cannot read,
an error) is refused for TLS users.

Every request over TLS is recorded in the audit trail (_trail: hash-chained JSON lines in
/var/log/paddock/api-audit.log) before it is answered, with its decision and the rule that
made it; its response's status is recorded when the engine has answered. A request whose
record cannot be written is refused.
"""
import base64
import datetime
import hashlib
import http.server
import json
import os
import posixpath
import re
import secrets
import socket
import socketserver
import sys
import threading
import urllib.parse
from collections import OrderedDict

sys.path.insert(0, os.environ.get("PADDOCK_AUTHZ_LIB", "/usr/local/lib/paddock-authz"))
try:
    from ansible_collections.paddock.platform.plugins.module_utils._gojson import Unreadable, read
    from ansible_collections.paddock.platform.plugins.module_utils._trail import Trail
except ImportError:  # on a host: the modules beside it
    from _gojson import Unreadable, read  # type: ignore[no-redef]
    from _trail import Trail  # type: ignore[no-redef]

POLICY = os.environ.get("PADDOCK_AUTHZ_POLICY", "/etc/paddock/authz.json")
SOCKET = os.environ.get("PADDOCK_AUTHZ_SOCKET", "/run/docker/plugins/paddock-authz.sock")
TRAIL = os.environ.get("PADDOCK_AUTHZ_TRAIL", "/var/log/paddock/api-audit.log")
ID = r"[^/]+"
NAME = r".+"  # image, plugin and distribution names carry slashes
STACK_LABEL = "com.docker.stack.namespace"
# The header the console sets on its engine calls with the user it acts for; believed only from
# the console's own identities (CONSOLE_PREFIX), recorded, never used to decide.
ON_BEHALF = "X-Paddock-On-Behalf-Of"
CONSOLE_PREFIX = "paddock-console-"
CONSOLE_OWN_LOGS = "io.paddock.console.own-logs"
CONSOLE_UID = 10001  # the console image's user, which writes its own trail in console/ (plugins/filter/console.py)

# The policy, one table per role: (methods, path pattern, checks). Paths are without the
# version prefix. Each check names a function of CHECKS, each called as check(call, context):
# a route's name (a key of _gojson's ROOTS) reads the body as the engine reads it for that route
# and judges it; the others judge the path (the object it names) or the query.
ADMIN = [("*", r"/.*", ())]
READ_ONLY = [
    ("GET HEAD", r"/_ping", ()),
    ("GET", r"/(version|info|events|system/df)", ()),
    ("GET", r"/containers/json", ()),
    ("GET", rf"/containers/{ID}/(json|top|changes|stats)", ()),
    ("GET", rf"/containers/{ID}/logs", ("container_logs",)),
    ("GET", r"/images/(json|search)", ()),
    ("GET", rf"/images/{NAME}/(json|history)", ()),
    ("GET", rf"/(networks|volumes|nodes|services|tasks|secrets|plugins)(/{ID})?", ()),
    ("GET", rf"/services/{ID}/logs", ("service_logs",)),
    ("GET", rf"/tasks/{ID}/logs", ("task_logs",)),
    ("GET", rf"/plugins/{NAME}/json", ()),
    ("GET", rf"/distribution/{NAME}/json", ()),
    ("GET", rf"/exec/{ID}/json", ()),
]
MEMBER = READ_ONLY + [
    ("POST", r"/containers/create", ("container_create",)),
    ("POST", rf"/containers/{ID}/(start|stop|restart|kill|pause|unpause|wait|rename|resize)", ()),
    ("POST", rf"/containers/{ID}/attach", ("target",)),
    ("GET", rf"/containers/{ID}/attach/ws", ("target",)),
    ("POST", rf"/containers/{ID}/update", ("container_update",)),
    ("DELETE", rf"/containers/{ID}", ()),
    ("POST", r"/containers/prune", ()),
    ("POST", rf"/containers/{ID}/exec", ("target", "exec_create")),
    ("POST", rf"/exec/{ID}/(start|resize)", ()),
    ("GET HEAD PUT", rf"/containers/{ID}/archive", ("target",)),
    ("GET", rf"/containers/{ID}/export", ("target",)),
    ("POST", r"/build", ("build",)),
    ("POST", r"/(build/prune|images/create|images/load|images/prune|auth|commit)", ()),
    ("POST", rf"/images/{NAME}/tag", ()),
    ("DELETE", rf"/images/{NAME}", ()),
    ("GET", rf"/images/({NAME}/)?get", ()),
    ("POST", r"/networks/create", ("network_create",)),
    ("POST", rf"/networks/{ID}/(connect|disconnect)", ("network_not_platform",)),
    ("DELETE", rf"/networks/{ID}", ("network_not_platform",)),
    ("DELETE", rf"/volumes/{ID}", ()),
    ("POST", r"/(networks|volumes)/prune", ()),
    ("POST", r"/volumes/create", ("volume_create",)),
    ("POST", r"/services/create", ("service_create",)),
    ("POST", rf"/services/{ID}/update", ("service_not_platform", "service_update")),
    ("DELETE", rf"/services/{ID}", ("service_not_platform",)),
    ("POST", r"/secrets/create", ("secret_create",)),
    ("POST", r"/configs/create", ("config_create",)),
    ("POST", rf"/secrets/{ID}/update", ("secret_not_platform", "secret_update")),
    ("POST", rf"/configs/{ID}/update", ("config_not_platform", "config_update")),
    ("DELETE", rf"/secrets/{ID}", ("secret_not_platform",)),
    ("DELETE", rf"/configs/{ID}", ("config_not_platform",)),
    ("GET", rf"/configs(/{ID})?", ()),
]
ROUTES = {role: [(set(m.split()), re.compile(f"^{p}$"), f"{role}: {m} {p}", checks) for m, p, checks in table]
          for role, table in (("admin", ADMIN), ("read-only", READ_ONLY), ("member", MEMBER))}
# The cgroup namespace is the host's by default on cgroup v1 engines: not a privilege of its own.
HOST_MODES = ("PidMode", "IpcMode", "NetworkMode", "UTSMode", "UsernsMode")
UNCONFINED = re.compile(r"^(seccomp[=:]unconfined|apparmor[=:]unconfined|label[=:]disable|systempaths=unconfined)$")
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range"}
NETWORK_DRIVERS = {"", "bridge", "overlay", "null"}


def route_path(uri):
    """The path Docker's router matches, without the API version, and the query. A target that
    starts with / is a path even when it starts with // (as Go reads a request URI); any other
    is absolute-form, reduced to its path."""
    if uri.startswith("/"):
        raw, _, query = uri.partition("?")
    else:
        parts = urllib.parse.urlsplit(uri)
        raw, query = parts.path, parts.query
    path = posixpath.normpath(re.sub(r"/+", "/", "/" + urllib.parse.unquote(raw)))
    path = re.sub(r"^/v[0-9][0-9.]*(?=/)", "", path)
    return path, urllib.parse.parse_qs(query)


class Refused(Exception):
    pass


class Context:
    """What a check may consult besides the request: the policy's grants to members, the host
    network's IDs, the platform's stacks, and ``lookup(kind, id)``, the engine's inspect of a
    container, service, task, secret, config or network (None when there is none)."""

    def __init__(self, allow=None, host_networks=frozenset(), platform=frozenset(), lookup=None, user=""):
        self.allow, self.host_networks, self.platform = allow or {}, host_networks, platform
        self.lookup, self.user = lookup or engine_lookup, user

    def platform_labels(self, labels, what):
        if (labels or {}).get(STACK_LABEL) in self.platform:
            raise Refused(f"may not {what} the platform's stack {labels[STACK_LABEL]}")


def _host_path(source, allow):
    """A bind source that is a host path must be an allowed one (or under one)."""
    source = posixpath.normpath(source)
    if not any(source == a or source.startswith(a.rstrip("/") + "/") for a in allow.get("host_paths", [])):
        raise Refused(f"may not bind-mount host path {source}")


def _capabilities(added, allow):
    extra = sorted({c.upper().removeprefix("CAP_") for c in added or []} - set(allow.get("capabilities", [])))
    if extra:
        raise Refused(f"may not add capabilities {', '.join(extra)}")


def _sysctls(sysctls):
    unsafe = sorted(set(sysctls or {}) - SAFE_SYSCTLS)
    if unsafe:
        raise Refused(f"may not set sysctls {', '.join(unsafe)}")


def _volume_options(driver, options):
    options = options or {}
    if (driver or "local") == "local" and (options.get("type") == "none" or "bind" in str(options.get("o", ""))
                                           or str(options.get("device", "")).startswith("/")):
        raise Refused("may not create a volume that binds a host path")


def _mounts(mounts, allow, untyped):
    """``untyped``: what a mount with no type is to the engine. A service's is a bind mount (the
    swarm's zero value, found by the differential test: its type is read in any case, and ""
    is BIND); a container's is refused by the engine."""
    for mount in mounts or []:
        kind = str(mount.get("Type") or untyped).lower()
        if kind == "bind":
            _host_path(mount.get("Source", ""), allow)
        elif kind == "volume":
            config = (mount.get("VolumeOptions") or {}).get("DriverConfig") or {}
            _volume_options(config.get("Name"), config.get("Options"))
        elif kind not in ("tmpfs",):
            raise Refused(f"may not mount a {kind}")


def check_container(body, context):
    context.platform_labels(body.get("Labels"), "label a container as")
    host = body.get("HostConfig") or {}
    allow, host_networks = context.allow, context.host_networks
    if host.get("Privileged"):
        raise Refused("may not run a privileged container (HostConfig.Privileged)")
    for key in HOST_MODES:
        mode = str(host.get(key) or "")
        if mode == "host" or (key == "NetworkMode" and mode in host_networks):
            raise Refused(f"may not use the host's namespace (HostConfig.{key} host)")
        if mode.startswith("container:"):  # another container's namespace may be the host's
            raise Refused(f"may not join another container's namespace (HostConfig.{key} {mode})")
    if host.get("VolumesFrom"):
        raise Refused("may not take another container's volumes (HostConfig.VolumesFrom: its host mounts would "
                      "come too)")
    for bind in host.get("Binds") or []:
        source = bind.split(":", 1)[0]
        if source.startswith("/"):
            _host_path(source, allow)
    _mounts(host.get("Mounts"), allow, "")
    _capabilities(host.get("CapAdd"), allow)
    if host.get("Capabilities"):
        raise Refused("may not set the container's whole capability set (HostConfig.Capabilities)")
    check_resources(host, context)
    for option in host.get("SecurityOpt") or []:
        if UNCONFINED.match(option.replace(" ", "")):
            raise Refused(f"may not run unconfined (HostConfig.SecurityOpt {option})")
    _sysctls(host.get("Sysctls"))
    if host.get("CgroupParent"):
        raise Refused("may not choose the container's cgroup parent (HostConfig.CgroupParent)")
    if host.get("Runtime") not in (None, "", "runc"):
        raise Refused(f"may not choose the runtime {host['Runtime']} (HostConfig.Runtime)")
    endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
    if "host" in endpoints or set(endpoints) & host_networks:
        raise Refused("may not attach to the host's network (NetworkingConfig.EndpointsConfig)")


def check_resources(resources, context):
    for field in ("Devices", "DeviceCgroupRules", "DeviceRequests"):
        if resources.get(field):
            raise Refused(f"may not give a container the host's devices ({field})")


def check_exec(body, context):
    if body.get("Privileged"):
        raise Refused("may not run a privileged exec (Privileged)")


def check_target(path, context):
    """A container a member reaches into (exec, attach, archive, export) must be one a member
    could have made: otherwise its host mounts or namespaces become the member's."""
    container = context.lookup("containers", path.split("/")[2])
    if container is None:
        raise Refused("may not reach into a container the plugin cannot inspect")
    config = dict(container, HostConfig=dict(container.get("HostConfig") or {},
                                             Mounts=[{"Type": m.get("Type"), "Source": m.get("Source")}
                                                     for m in container.get("Mounts") or []
                                                     if m.get("Type") == "bind"]),
                  Labels=(container.get("Config") or {}).get("Labels"))
    config["HostConfig"].pop("Binds", None)
    try:
        check_container(config, context)
    except Refused as exc:
        raise Refused(f"may not reach into container {container.get('Name', '?').lstrip('/')}: it {exc}") from None


def _references(references, kind, context):
    """A service may not mount the platform's secrets or configs (the console's keys)."""
    for reference in references or []:
        found = context.lookup(kind, reference.get(f"{kind[:-1].capitalize()}ID") or "")
        if found is None:
            raise Refused(f"may not mount {kind[:-1]} {reference.get(f'{kind[:-1].capitalize()}Name')!r}, which the "
                          "plugin cannot inspect")
        context.platform_labels((found.get("Spec") or {}).get("Labels"), f"mount a {kind[:-1]} of")


def check_service(body, context):
    context.platform_labels(body.get("Labels"), "label a service as")
    template = body.get("TaskTemplate") or {}
    if template.get("PluginSpec") or (template.get("Runtime") not in (None, "", "container")):
        raise Refused("may not run a plugin as a service (TaskTemplate.PluginSpec, TaskTemplate.Runtime)")
    spec = template.get("ContainerSpec") or {}
    _mounts(spec.get("Mounts"), context.allow, "bind")
    _capabilities(spec.get("CapabilityAdd"), context.allow)
    _sysctls(spec.get("Sysctls"))
    privileges = spec.get("Privileges") or {}
    if (privileges.get("SELinuxContext") or {}).get("Disable") \
            or (privileges.get("Seccomp") or {}).get("Mode") == "unconfined" \
            or (privileges.get("AppArmor") or {}).get("Mode") == "disabled":
        raise Refused("may not run a service unconfined (TaskTemplate.ContainerSpec.Privileges)")
    for network in (template.get("Networks") or []) + (body.get("Networks") or []):
        if network.get("Target") == "host" or network.get("Target") in context.host_networks:
            raise Refused("may not attach a service to the host's network (TaskTemplate.Networks)")
    _references(spec.get("Secrets"), "secrets", context)
    _references(spec.get("Configs"), "configs", context)


def check_network(body, context):
    context.platform_labels(body.get("Labels"), "label a network as")
    if str(body.get("Driver") or "") not in NETWORK_DRIVERS:
        raise Refused(f"may not create a {body['Driver']} network (Driver: it reaches the host's interfaces)")
    if body.get("ConfigFrom") or body.get("ConfigOnly") or "com.docker.network.bridge.name" in (body.get("Options")
                                                                                                  or {}):
        raise Refused("may not create a network on a bridge or configuration of the host's")


def check_volume(body, context):
    context.platform_labels(body.get("Labels"), "label a volume as")
    _volume_options(body.get("Driver"), body.get("DriverOpts"))


def check_labels(body, context):
    context.platform_labels(body.get("Labels"), "label a secret or config as")


def check_build(query, context):
    if (query.get("networkmode") or [""])[0] == "host":
        raise Refused("may not build with the host's network")


def _labels(kind, found, context):
    """The labels of an object as the engine's inspect shows them (a task: its service's)."""
    if kind == "tasks":
        return _labels("services", context.lookup("services", found.get("ServiceID", "")) or {}, context)
    if kind == "containers":
        return (found.get("Config") or {}).get("Labels")
    return found.get("Labels") if kind == "networks" else (found.get("Spec") or {}).get("Labels")


def _not_platform(kind, logs=False):
    """A check that the object the path names is not the platform's (absent: the engine says so).
    The platform's logs (the console's actions, every host's audit records) are read by admins;
    the console's own identities also read the logs of a service labelled CONSOLE_OWN_LOGS (the
    console's, whose actions and logouts its replicas read back), never the audit service's."""
    def check(call, context):
        found = context.lookup(kind, call.path.split("/")[2])
        labels = _labels(kind, found, context) if found else None
        if logs and context.user.startswith(CONSOLE_PREFIX) and (labels or {}).get(CONSOLE_OWN_LOGS) == "true":
            return
        if found:
            context.platform_labels(labels, f"read the logs of the {kind} of" if logs else f"change the {kind} of")
    return check


class Call:
    """One request as the checks see it: its method, its path and query as the router decodes
    them, and its body as the engine reads it for a route (read once per route)."""

    def __init__(self, method, path, query, raw):
        self.method, self.path, self.query, self.raw = method, path, query, raw

    def body(self, route):
        if self.raw is None:
            raise Refused(f"may not {self.method} {self.path} without a body the plugin was given (the engine "
                          "gives it only an application/json body under 1 MiB)")
        return read(self.raw, route)


def _body(route, judge):
    """The check of a route's body: read as the engine reads it, then judged."""
    return lambda call, context: judge(call.body(route), context)


CHECKS = {
    "container_create": _body("container_create", check_container),
    "container_update": _body("container_update", check_resources),
    "exec_create": _body("exec_create", check_exec),
    "network_create": _body("network_create", check_network),
    "volume_create": _body("volume_create", check_volume),
    **{route: _body(route, check_service) for route in ("service_create", "service_update")},
    **{route: _body(route, check_labels) for route in ("secret_create", "secret_update", "config_create",
                                                       "config_update")},
    "target": lambda call, context: check_target(call.path, context),
    "build": lambda call, context: check_build(call.query, context),
    **{f"{kind[:-1]}_not_platform": _not_platform(kind) for kind in ("services", "secrets", "configs", "networks")},
    **{f"{kind[:-1]}_logs": _not_platform(kind, logs=True) for kind in ("containers", "services", "tasks")},
}


class Policy:
    def __init__(self, path):
        self.path, self.mtime, self.data = path, None, {}

    def read(self):
        try:
            mtime = os.stat(self.path).st_mtime_ns
            if mtime != self.mtime:
                with open(self.path) as handle:
                    self.data = json.load(handle)
                self.mtime = mtime
        except (OSError, ValueError) as exc:
            print(f"paddock-authz: cannot read {self.path}: {exc}; refusing every TLS user", file=sys.stderr)
            self.data, self.mtime = {}, None
        return self.data

    def roles(self):
        return self.read().get("users", {})


def fingerprints(request):
    """SHA-256 fingerprints of the client's certificates (dockerd sends each as base64 of its PEM)."""
    found = set()
    for encoded in request.get("RequestPeerCertificates") or []:
        try:
            pem = base64.b64decode(encoded).decode()
            body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
            found.add(hashlib.sha256(base64.b64decode(body)).hexdigest())
        except ValueError:
            continue
    return found


def request_body(request):
    """The body dockerd forwarded (bytes), or None when it sent none: it sends only an
    application/json body under 1 MiB."""
    raw = request.get("RequestBody")
    return base64.b64decode(raw) if raw else None


def match(role, method, path):
    """The first row of ``role``'s table that allows ``method`` on ``path``: (rule, checks), or None."""
    for methods, pattern, rule, checks in ROUTES[role]:
        if ("*" in methods or method in methods) and pattern.match(path):
            return rule, checks
    return None


def role_refusal(role, method, uri, request, context):
    """(rule, why): the rule that decided, and why the request is refused (None: allowed)."""
    path, query = route_path(uri)
    found = match(role, method, path)
    if found is None:
        return f"{role}: no route", f"may not {method} {path}"
    rule, checks = found
    call = Call(method, path, query, request_body(request))
    try:
        for check in checks:
            CHECKS[check](call, context)
    except Unreadable as exc:
        return rule, f"may not {method} {path}: the engine would read its body otherwise than it is written: {exc}"
    except Refused as exc:
        why = str(exc)
        if context.allow:
            granted = context.allow.get("host_paths", []) + context.allow.get("capabilities", [])
            why += f" (this environment allows: {', '.join(granted)})"
        return rule, why
    return rule, None


def refusal(policy, request, host_networks=frozenset(), lookup=None):
    """(user's role or None, rule, why refused or None when allowed)."""
    user = request.get("User") or ""
    if not user:
        return None, "unix socket", None
    entry = policy.roles().get(user)
    role = entry.get("role") if isinstance(entry, dict) else None
    if role is None:
        return None, "no such user", f"user {user} has no access to this environment"
    if not fingerprints(request) & set(entry.get("fingerprints") or []):
        return role, "fingerprint", f"user {user} presented a certificate this environment no longer issues to them"
    if role not in ROUTES:
        return role, "no such role", f"user {user} has an unknown role {role}"
    data = policy.read()
    context = Context(data.get("member_allow"), host_networks, frozenset(data.get("platform_stacks") or []), lookup,
                      user)
    method, uri = request.get("RequestMethod", ""), request.get("RequestUri", "")
    try:
        rule, why = role_refusal(role, method, uri, request, context)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        rule, why = f"{role}: error", f"may not {method}: the request could not be read ({exc.__class__.__name__})"
    return role, rule, f"user {user} ({role}) {why}" if why else None


def decide(policy, request, host_networks=frozenset(), lookup=None):
    """(allowed, why, role, rule); every refusal is logged. An error refuses (fails closed)."""
    try:
        role, rule, why = refusal(policy, request, host_networks, lookup)
    except Exception as exc:  # noqa: BLE001 - any failure refuses the request
        role, rule, why = None, "error", f"the plugin failed ({exc.__class__.__name__}); refused"
    if why:
        print(f"paddock-authz: denied: {why}", file=sys.stderr, flush=True)
    return why is None, why or "", role, rule


def engine_get(path, query=""):
    """GET from the engine over the unix socket (its requests carry no user, so the engine does
    not ask this plugin about them); the decoded JSON, or None."""
    target = urllib.parse.quote(path) + (f"?{query}" if query else "")
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect("/var/run/docker.sock")
            sock.sendall(f"GET {target} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        return json.loads(body) if head.split(b" ")[1:2] == [b"200"] else None
    except (OSError, ValueError, IndexError):
        return None


def engine_lookup(kind, object_id):
    return engine_get(f"/{kind}/{object_id}" + ("/json" if kind == "containers" else "")) if object_id else None


def host_network_ids():
    """The IDs of the `host` network, the engine's own and the swarm's (a service names the
    swarm's): a container or service may name it by ID."""
    return {found.get("Id") for found in (engine_get("/networks/host"), engine_get("/networks/host", "scope=swarm"))
            if found and found.get("Id")}


def _now():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _header(request, name):
    for key, value in (request.get("RequestHeaders") or {}).items():
        if key.lower() == name.lower():
            return str(value)[:256]
    return None


class Recorder:
    """The trail of one engine: a record per request as it is decided, and one when the engine
    has answered it, joined by ``id``. A response is matched to its request by what dockerd
    sends of both (the same user, method, URI, headers and body)."""

    def __init__(self, policy, path=TRAIL):
        self.policy, self.path, self.trail, self.settings = policy, path, None, None
        self.pending, self.lock = OrderedDict(), threading.Lock()
        self.host = socket.gethostname()

    def _trail(self):
        settings = self.policy.read().get("audit") or {}
        wanted = (self.path, int(settings.get("max_bytes", 64 * 2 ** 20)),
                  int(settings.get("keep", 8)), bool(settings.get("sync", True)))
        if wanted != self.settings:
            self.trail, self.settings = Trail(*wanted), wanted
        return self.trail

    @staticmethod
    def key(request):
        parts = [request.get(k) for k in ("User", "RequestMethod", "RequestUri", "RequestBody")]
        parts.append(sorted((request.get("RequestHeaders") or {}).items()))
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

    def requested(self, request, allowed, why, role, rule):
        """Record a decision; raises OSError when it could not be written."""
        user = request.get("User")
        record = {"time": _now(), "id": secrets.token_hex(8), "stage": "request", "host": self.host, "user": user,
                  "role": role, "method": request.get("RequestMethod", ""),
                  "path": route_path(request.get("RequestUri", ""))[0][:2048],
                  "decision": "allow" if allowed else "deny",
                  "rule": rule, "fingerprint": ",".join(sorted(f[:16] for f in fingerprints(request)))}
        if not allowed:
            record.update(reason=why, status=403)
        if (user or "").startswith(CONSOLE_PREFIX) and _header(request, ON_BEHALF):
            record["on_behalf_of"] = _header(request, ON_BEHALF)
        self._trail().append(record)
        if allowed:
            with self.lock:
                self.pending.setdefault(self.key(request), []).append(record)
                while len(self.pending) > 10000:  # answers that never came (the engine restarted)
                    self.pending.popitem(last=False)

    def answered(self, request):
        with self.lock:
            waiting = self.pending.get(self.key(request))
            first = waiting.pop(0) if waiting else None
            if waiting == []:
                del self.pending[self.key(request)]
        if first is None:
            return
        record = {key: first[key] for key in ("id", "host", "user", "role", "method", "path") if key in first}
        # The engine reports a status only where its handler set one: an error is written after
        # the plugin is asked, and a stream's status is sent before, so both come as none.
        record.update(time=_now(), stage="response", status=request.get("ResponseStatusCode") or None)
        if "on_behalf_of" in first:
            record["on_behalf_of"] = first["on_behalf_of"]
        try:
            self._trail().append(record, wait=False)  # on disk with the next decision's sync
        except OSError as exc:  # the call is done: its decision is recorded, its status is not
            print(f"paddock-authz: the audit trail could not record a response: {exc}", file=sys.stderr, flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    policy = Policy(POLICY)
    recorder = Recorder(policy)
    host_networks = frozenset()

    def authorize(self, request):
        if not request.get("User"):
            return {"Allow": True}
        if not Handler.host_networks:
            Handler.host_networks = frozenset(host_network_ids())
        allowed, why, role, rule = decide(self.policy, request, Handler.host_networks)
        try:
            self.recorder.requested(request, allowed, why, role, rule)
        except OSError as exc:
            print(f"paddock-authz: denied: the audit trail could not be written: {exc}", file=sys.stderr, flush=True)
            return {"Allow": False, "Msg": "refused: the engine's audit trail cannot be written (ask an admin)"}
        return {"Allow": True} if allowed else {"Allow": False, "Msg": why}

    def do_POST(self):  # noqa: N802 (the http.server interface)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = json.loads(body or b"{}")
        if self.path == "/Plugin.Activate":
            answer = {"Implements": ["authz"]}
        elif self.path == "/AuthZPlugin.AuthZReq":
            answer = self.authorize(request)
        elif self.path == "/AuthZPlugin.AuthZRes":
            if request.get("User"):
                self.recorder.answered(request)
            answer = {"Allow": True}
        else:
            self.send_error(404)
            return
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.docker.plugins.v1.2+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def address_string(self):
        return "dockerd"

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    # dockerd asks once per API call, all at once under load: with socketserver's backlog of 5
    # the 6th concurrent connection was refused, and dockerd retried it after 1 s or more
    # (51 concurrent calls on the lab: 11 took over 0.9 s, the slowest 3.2 s; with this, none).
    request_queue_size = 1024


def trail_directories(root):
    """The hosts' trails' directory (root's alone), and the console's in it, which its container
    mounts (its user's alone): made before the engine starts, so that the console's and the
    audit service's mounts find them on every node."""
    os.makedirs(root, mode=0o700, exist_ok=True)
    os.chmod(root, 0o700)
    console = os.path.join(root, "console")
    os.makedirs(console, mode=0o700, exist_ok=True)
    os.chown(console, CONSOLE_UID, CONSOLE_UID)
    os.chmod(console, 0o700)


def main():
    try:
        trail_directories(os.path.dirname(TRAIL))
    except OSError as exc:  # every call is then refused for its record, until the disk is mended
        print(f"paddock-authz: cannot make the trail's directories: {exc}", file=sys.stderr, flush=True)
    os.makedirs(os.path.dirname(SOCKET), exist_ok=True)
    if os.path.exists(SOCKET):
        os.unlink(SOCKET)
    old = os.umask(0o077)
    server = Server(SOCKET, Handler)
    os.umask(old)
    server.serve_forever()


if __name__ == "__main__":
    main()
