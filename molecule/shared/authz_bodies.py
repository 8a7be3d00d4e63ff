"""The differential test of paddock-authz's reading of a body against the engine's own.

For each route whose body the policy reads, bodies are generated from a seed: a valid request
in the engine's terms, then spelled and bent as a client could send it (each key's letters in
any case, U+017F for s and U+212A for k, characters as \\u escapes, keys given twice or in another
case, keys the engine does not have, a HostConfig field at the top of a create, values of
another kind, nulls, numbers spelled otherwise, data after the object). Each body goes to
``_gojson.read``: what the policy believes the engine will record, or a refusal. A body read is
then sent to a real engine as an admin (the plugin lets an admin through; nothing is started:
a container is only created, a service has no replica) and what the engine recorded is read
back and compared with what the policy believed, field by field. A body whose two readings
differ is a failure, whether or not the difference matters to the policy.

Used by molecule/default/tests/test_authz_differential.py (a seeded subset) and
bench/authz_differential.py (the full run).
"""

from __future__ import annotations

import base64
import copy
import json
import random

LABEL = "io.paddock.differential"


class Obj(list):
    """A JSON object as (key, value) pairs: a key may be given twice, in any spelling."""


def obj(mapping):
    return Obj((key, value) for key, value in mapping.items())


# -- writing JSON as a client could --------------------------------------------------------------

def _char(c, rng, escape):
    if escape and rng.random() < 0.15:
        return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else json.dumps(c)[1:-1]
    return json.dumps(c, ensure_ascii=False)[1:-1]


def spell_key(key, rng, odd):
    """A key as Go matches it to the same field: letters in any case, long s and Kelvin sign."""
    if not odd:
        return key
    out = []
    for c in key:
        roll = rng.random()
        if c in "sS" and roll < 0.2:
            out.append("\u017f")
        elif c in "kK" and roll < 0.3:
            out.append("\u212a")
        elif c.isalpha() and roll < 0.5:
            out.append(c.swapcase())
        else:
            out.append(c)
    return "".join(out)


def write(value, rng, odd=True, data_keys=False):
    """JSON text for ``value`` (Obj for objects), with random escapes and whitespace. When
    ``odd``, a struct's keys are spelled as Go still matches them; a map's keys (``data_keys``:
    labels, options, sysctls) are data, which the engine keeps as written, and are left alone."""
    space = " " if rng.random() < 0.3 else ""
    if isinstance(value, Obj):
        return "{" + f",{space}".join(
            '"' + "".join(_char(c, rng, odd) for c in spell_key(k, rng, odd and not data_keys)) + f'":{space}'
            + write(v, rng, odd, k in MAPS) for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + f",{space}".join(write(v, rng, odd) for v in value) + "]"
    if isinstance(value, str):
        return '"' + "".join(_char(c, rng, odd) for c in value) + '"'
    return json.dumps(value)


# -- the routes -----------------------------------------------------------------------------------

def _choice(rng, *options):
    return rng.choice(options)


def _container(rng, image):
    host = {
        "Binds": rng.sample(["/tmp:/mnt/tmp", "/:/host:ro", "/etc:/host-etc", "paddock-diff:/data"], rng.randint(0, 2)),
        "Privileged": rng.random() < 0.5,
        "CapAdd": rng.choice([["NET_ADMIN"], ["SYS_ADMIN", "NET_RAW"], "SYS_PTRACE", []]),
        "PidMode": _choice(rng, "", "host"),
        "IpcMode": _choice(rng, "private", "host", "shareable"),
        "NetworkMode": _choice(rng, "bridge", "none", "host"),
        "ReadonlyRootfs": rng.random() < 0.5,
        "Memory": rng.choice([0, 64 * 2 ** 20]),
        "Mounts": rng.sample([{"Type": "tmpfs", "Target": "/m1"}, {"Type": "bind", "Source": "/tmp", "Target": "/m2"},
                              {"Type": "volume", "Source": "paddock-diff", "Target": "/m3"}], rng.randint(0, 2)),
        "SecurityOpt": rng.choice([[], ["no-new-privileges"], ["seccomp=unconfined"]]),
        "Sysctls": rng.choice([{}, {"net.ipv4.ip_unprivileged_port_start": "0"}]),
        "Devices": rng.choice([[], [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/n",
                                     "CgroupPermissions": "rwm"}]]),
        "UsernsMode": _choice(rng, "", "host"),
    }
    if host["NetworkMode"] == "host" or host["PidMode"] == "host":
        host["Sysctls"] = {}  # the engine refuses a namespaced sysctl in the host's namespaces
    body = {"Image": image, "Cmd": rng.choice([["true"], "true", ["sh", "-c", "exit 0"]]),
            "Labels": {LABEL: "1", "k" + str(rng.randint(0, 9)): "v"}, "Env": ["A=1"],
            "HostConfig": {k: v for k, v in host.items() if rng.random() < 0.7}}
    return body


def _service(rng, image, name):
    spec = {
        "Image": image, "Command": ["true"],
        "Mounts": rng.sample([{"Type": "tmpfs", "Target": "/m1"}, {"Type": "bind", "Source": "/tmp", "Target": "/m2"},
                              {"Type": "volume", "Source": "paddock-diff", "Target": "/m3"}], rng.randint(0, 2)),
        "CapabilityAdd": rng.choice([["NET_ADMIN"], ["SYS_ADMIN"], []]),
        "CapabilityDrop": rng.choice([["MKNOD"], []]),
        "Sysctls": rng.choice([{}, {"net.ipv4.ip_unprivileged_port_start": "0"}]),
        "ReadOnly": rng.random() < 0.5,
        "Env": ["A=1"],
        "Labels": {LABEL: "1"},
    }
    return {"Name": name, "Labels": {LABEL: "1", "k" + str(rng.randint(0, 9)): "v"},
            "TaskTemplate": {"ContainerSpec": {k: v for k, v in spec.items() if k == "Image" or rng.random() < 0.7},
                             "Placement": {"Constraints": ["node.labels.paddock-differential==never"]}},
            "Mode": {"Replicated": {"Replicas": 0}}}


def _volume(rng, name):
    return {"Name": name, "Driver": "local", "Labels": {LABEL: "1"},
            "DriverOpts": rng.choice([{}, {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"},
                                      {"type": "none", "o": "bind", "device": "/tmp"}])}


def _network(rng, name):
    return {"Name": name, "Driver": _choice(rng, "bridge", "overlay"), "Internal": rng.random() < 0.5,
            "Attachable": rng.random() < 0.5, "Labels": {LABEL: "1"}, "CheckDuplicate": True,
            "Options": rng.choice([{}, {"com.docker.network.driver.mtu": "1400"}])}


def _exec(rng):
    return {"Cmd": rng.choice([["true"], ["sh", "-c", "id"]]), "Privileged": rng.random() < 0.5,
            "User": _choice(rng, "", "root", "nobody"), "Tty": rng.random() < 0.5, "AttachStdout": True}


def _update(rng):
    body = {k: v for k, v in {"CpuShares": rng.choice([512, 1024]), "PidsLimit": rng.choice([100, 200]),
                              "RestartPolicy": {"Name": _choice(rng, "no", "on-failure"), "MaximumRetryCount": 0}
                              }.items() if rng.random() < 0.7}
    if rng.random() < 0.5:  # the engine takes a memory limit only with its swap limit
        body.update(Memory=rng.choice([64 * 2 ** 20, 128 * 2 ** 20]), MemorySwap=-1)
    return body


ROUTES = ("container_create", "container_update", "exec_create", "service_create", "service_update",
          "volume_create", "network_create", "secret_create")


def base(route, rng, image, name):
    """A valid body of ``route`` in the engine's terms (a mapping)."""
    if route == "container_create":
        return _container(rng, image)
    if route in ("service_create", "service_update"):
        return _service(rng, image, name)
    if route == "volume_create":
        return _volume(rng, name)
    if route == "network_create":
        return _network(rng, name)
    if route == "exec_create":
        return _exec(rng)
    if route == "container_update":
        return _update(rng)
    return {"Name": name, "Labels": {LABEL: "1"}, "Data": base64.b64encode(b"paddock").decode()}


def _objects(value):
    if isinstance(value, dict):
        return obj({k: _objects(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_objects(v) for v in value]
    return value


def _paths(value, prefix=()):
    """Every object inside ``value`` (an Obj tree), with its path."""
    if isinstance(value, Obj):
        yield prefix, value
        for key, item in value:
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


# Struct fields (never map keys: those the engine keeps as written) by the objects that hold them.
MAPS = {"Labels", "DriverOpts", "Options", "Sysctls", "ExposedPorts", "Volumes"}


def _struct_objects(body):
    return [(path, found) for path, found in _paths(body) if not path or path[-1] not in MAPS]


def bend(body, rng):
    """One or more of the ways a client may write the same body, or another one; returns
    (body as an Obj tree, trailing text)."""
    tree, trailing = _objects(body), ""
    structs = _struct_objects(tree)
    for _ in range(rng.randint(0, 3)):
        path, found = rng.choice(structs)
        if not found:
            continue
        index = rng.randrange(len(found))
        key, value = found[index]
        kind = rng.random()
        if kind < 0.25:  # the same key again, as written or in another case, with another value
            found.insert(rng.randrange(len(found) + 1), (spell_key(key, rng, True), _other(value, rng)))
        elif kind < 0.4:  # a key the engine has no field for
            found.append((key + _choice(rng, "s", "_", "x", "\u0131"), value))
        elif kind < 0.55:  # a value of another kind
            found[index] = (key, _other(value, rng))
        elif kind < 0.7:  # null
            found[index] = (key, None)
        elif kind < 0.8 and path == ("HostConfig",):  # a HostConfig field at the top of a create
            tree.append(found.pop(index))
        elif kind < 0.85:
            trailing = _choice(rng, " ", "\n", " {}", "x")
        elif kind < 0.95 and isinstance(value, list) and value:  # null inside a list
            found[index] = (key, value[:-1] + [None])
    return tree, trailing


def _other(value, rng):
    if isinstance(value, bool):
        return rng.choice([not value, 1, "true", None, [value]])
    if isinstance(value, int):
        return rng.choice([value + 1, str(value), float(value), -0, 1e3])
    if isinstance(value, str):
        return rng.choice([value + "x", [value], 1, True])
    if isinstance(value, list):
        return rng.choice([[], value[:1], value[0] if value else "x", {}])
    return rng.choice([Obj(), [], "x", None])


def generate(route, count, seed, image, name_prefix="paddock-diff"):
    """``count`` bodies of ``route``: [(name, raw bytes)], the same for the same seed."""
    rng = random.Random(f"{route}:{seed}")
    out = []
    for number in range(count):
        name = f"{name_prefix}-{route.replace('_', '-')}-{seed}-{number}"
        body = base(route, rng, image, name)
        if route == "service_update":
            body["Name"] = f"{name_prefix}-updated"
        tree, trailing = bend(body, rng)
        out.append((name, (write(tree, rng, odd=rng.random() < 0.8) + trailing).encode()))
    return out


# -- what the engine recorded, as the policy believes it ----------------------------------------

EMPTY = (None, "", [], {}, False, 0)


def _at(value, path):
    for part in path:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return None
    return value


def leaves(value, path=()):
    """(path, value) of every leaf of a decoded body (dicts and lists walked)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, path + (key,))
    elif isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value):
        for index, item in enumerate(value):
            yield from leaves(item, path + (index,))
    else:
        yield path, value


# For each route: where the engine's inspect keeps each top-level field of the body, and the
# fields the policy reads, compared whether the body gave them or not.
def recorded_path(route, path):
    if route == "container_create":
        if path[0] == "HostConfig":
            return path
        if path[0] == "NetworkingConfig":
            return None
        return ("Config",) + path
    if route == "container_update":
        return ("HostConfig",) + path
    if route == "exec_create":
        mapped = {"Privileged": ("ProcessConfig", "privileged"), "User": ("ProcessConfig", "user"),
                  "Tty": ("ProcessConfig", "tty")}
        return mapped.get(path[0]) if len(path) == 1 else None
    if route == "secret_create" and path[0] == "Data":
        return None  # the engine never shows a secret's data
    if route in ("service_create", "service_update", "secret_create"):
        return ("Spec",) + path
    if route == "volume_create":
        return {"DriverOpts": ("Options",)}.get(path[0], (path[0],)) + path[1:]
    if route == "network_create":
        return None if path[0] in ("CheckDuplicate",) else path
    return path


POLICY_FIELDS = {
    "container_create": [("HostConfig", f) for f in ("Privileged", "Binds", "CapAdd", "PidMode", "IpcMode", "UTSMode",
                                                     "UsernsMode", "Mounts", "Devices", "SecurityOpt", "Sysctls",
                                                     "CgroupParent", "VolumesFrom", "DeviceCgroupRules")]
    + [("Labels",)],
    "exec_create": [("Privileged",)],
    "service_create": [("TaskTemplate", "ContainerSpec", f) for f in ("Mounts", "CapabilityAdd", "Sysctls")]
    + [("Labels",)],
    "service_update": [("TaskTemplate", "ContainerSpec", f) for f in ("Mounts", "CapabilityAdd", "Sysctls")]
    + [("Labels",)],
    "volume_create": [("DriverOpts",), ("Driver",), ("Labels",)],
    "network_create": [("Driver",), ("Options",), ("Labels",), ("ConfigOnly",)],
    "secret_create": [("Labels",)],
    "container_update": [],
}
# What the engine writes where a body said nothing, or how it spells what it was given: each is
# an equality, never a loosening of what the engine recorded.
DEFAULTS = {("HostConfig", "IpcMode"): "private", ("Driver",): "local"}


def _equal(believed, recorded):
    """Equal, an empty value (absent, null, "", [], {}, false, 0) being equal to any other."""
    if believed in EMPTY and recorded in EMPTY:
        return True
    if isinstance(believed, dict) and isinstance(recorded, dict):
        return all(_equal(believed.get(k), recorded.get(k)) for k in set(believed) | set(recorded))
    if isinstance(believed, list) and isinstance(recorded, list):
        return len(believed) == len(recorded) and all(map(_equal, believed, recorded))
    return believed == recorded


def _same(route, path, believed, recorded):
    if route == "container_update" and believed in EMPTY:
        return True  # an update leaves what it does not set (a zero is "leave it") as it was
    if route == "network_create" and path == ("Driver",) and believed in EMPTY:
        return recorded == "bridge"
    if believed in EMPTY and path in DEFAULTS:
        return recorded in (DEFAULTS[path], None, "")
    return _equal(believed, recorded)


def engine_additions(route, believed, inspected):
    """What the engine adds to a record from what it read (never from the body's spelling),
    taken off before comparing, each as the policy also reads it:
    - a create of a privileged container, or one in the host's PID or IPC namespace, gets
      ``label=disable`` in SecurityOpt unless it gave a label option (daemon/create.go's
      generateSecurityOpt);
    - a service's mount with no type is a bind mount (the swarm's zero value; its type is read
      in any case): the plugin's _mounts reads it so too;
    - an overlay network gets the VXLAN id the swarm allocated in its options
      (``com.docker.network.driver.overlay.vxlanid_list``), whatever the body gave."""
    if route == "network_create":
        recorded = copy.deepcopy(inspected)
        (recorded.get("Options") or {}).pop("com.docker.network.driver.overlay.vxlanid_list", None)
        return recorded
    if route in ("service_create", "service_update"):
        recorded = copy.deepcopy(inspected)
        mounts = (((recorded.get("Spec") or {}).get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Mounts")
        given = ((believed.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Mounts") or []
        for mine, theirs in zip(given, mounts or [], strict=False):
            if not mine.get("Type") and theirs.get("Type") == "bind":
                theirs.pop("Type")
        return recorded
    if route != "container_create":
        return inspected
    host, recorded = believed.get("HostConfig") or {}, copy.deepcopy(inspected)
    given = host.get("SecurityOpt") or []
    if (host.get("Privileged") or host.get("PidMode") == "host" or host.get("IpcMode") == "host") \
            and not any(o.split("=")[0] == "label" for o in given):
        options = (recorded.get("HostConfig") or {}).get("SecurityOpt") or []
        if options[-1:] == ["label=disable"]:
            recorded["HostConfig"]["SecurityOpt"] = options[:-1]
    return recorded


def differences(route, believed, inspected):
    """Where the engine's record (``inspected``: its inspect of what the body made) differs from
    what the policy believed (``believed``: _gojson.read of the body): [(path, believed, recorded)]."""
    found, inspected = [], engine_additions(route, believed, inspected)
    paths = [p for p, _ in leaves(believed)] + [p for p in POLICY_FIELDS.get(route, []) if p[:1] != ("Labels",)]
    for path in dict.fromkeys(paths):
        where = recorded_path(route, path)
        if where is None:
            continue
        mine, theirs = _at(believed, path), _at(inspected, where)
        if isinstance(mine, dict) and isinstance(theirs, dict):  # a map given whole: its keys are compared
            theirs = {k: theirs.get(k) for k in mine}
        if not _same(route, path, copy.deepcopy(mine), theirs):
            found.append((".".join(map(str, path)), mine, theirs))
    return found
