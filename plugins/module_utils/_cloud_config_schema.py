# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""The RancherOS cloud-config schema and its validation, run on the controller.

Validation is a JSON schema (the shape, as RancherOS's own config/schema.go does it)
followed by semantic checks that a schema cannot say: addresses and CIDRs parse, a
bond names an interface that exists, content decodes with its encoding. Every error
is collected (not just the first) as ``(key path, problem)``, so that a user fixes a
file in one pass.
"""

from __future__ import annotations

import base64
import ipaddress
import re

from jsonschema import Draft7Validator, FormatChecker, validators

from ansible_collections.paddock.platform.plugins.module_utils._cloud_config import (
    ENCODINGS,
    decode_content,
)

# RancherOS keys that Paddock accepts but does not apply on Debian/Ubuntu hosts:
# they configure RancherOS's own system containers. They are reported as warnings.
ROS_ONLY_TOP = ("bootcmd",)
ROS_ONLY_RANCHER = (
    "console", "services", "bootstrap", "cloud_init_services", "bootstrap_docker",
    "cloud_init", "debug", "rm_usr", "no_sharedroot", "log", "force_console_rebuild",
    "recovery", "disable", "services_include", "modules", "default_network",
    "repositories", "ssh", "state", "system_docker", "upgrade", "registry_auths",
    "defaults", "resize_device", "sysctl", "restart_services", "hypervisor_service",
    "shutdown_timeout",
)
ROS_ONLY_DOCKER = (
    "engine", "tls_args", "ca_key", "environment", "storage_context", "exec", "args",
    "bridge", "config_file", "containerd", "exec_root", "graph", "host", "pid_file",
    "restart", "selinux_enabled", "group",
)
ROS_ONLY_INTERFACE = ("dhcp_args", "ipv4ll", "bridge", "pre_up", "post_up")
ROS_ONLY_NETWORK = ("pre_cmds", "post_cmds")

BOND_OPTS = ("mode", "miimon", "lacp_rate", "xmit_hash_policy", "updelay", "downdelay",
             "primary", "ad_select", "arp_interval", "arp_ip_target")
BOND_MODES = ("0", "1", "2", "3", "4", "5", "6", "balance-rr", "active-backup", "balance-xor",
              "broadcast", "802.3ad", "balance-tlb", "balance-alb")

HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
                         r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
SSH_KEY_TYPES = ("ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                 "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
                 "sk-ecdsa-sha2-nistp256@openssh.com")
MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
OWNER_RE = re.compile(r"^[a-z_][a-z0-9_.-]*(:[a-z_][a-z0-9_.-]*)?$|^[0-9]+(:[0-9]+)?$")
OCTAL_RE = re.compile(r"^0?[0-7]{3,4}$")
VLANS_RE = re.compile(r"^\d+(:[A-Za-z0-9_.-]+)?(,\d+(:[A-Za-z0-9_.-]+)?)*$")

_STR = {"type": "string"}
_STRS = {"type": "array", "items": _STR}
_ANY_ROS = {}  # accepted, not applied (reported as a warning)

INTERFACE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "match": _STR,
        "dhcp": {"type": "boolean"},
        "address": {"type": "string", "format": "cidr"},
        "addresses": {"type": "array", "items": {"type": "string", "format": "cidr"}},
        "gateway": {"type": "string", "format": "ipv4"},
        "gateway_ipv6": {"type": "string", "format": "ipv6"},
        "mtu": {"type": "integer", "minimum": 68, "maximum": 65535},
        "bond": _STR,
        "bond_opts": {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
        "vlans": {"type": "string", "format": "vlans"},
        **{key: _ANY_ROS for key in ROS_ONLY_INTERFACE},
    },
}

DOCKER = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "storage_driver": _STR,
        "registry_mirror": {"type": "string", "format": "url"},
        "insecure_registry": _STRS,
        "log_driver": _STR,
        "log_opts": {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
        "extra_args": _STRS,
        "tls": {"type": "boolean"},
        "server_cert": _STR,
        "server_key": _STR,
        "ca_cert": _STR,
        "debug": {"type": "boolean"},
        "live_restore": {"type": "boolean"},
        "userland_proxy": {"type": "boolean"},
        **{key: _ANY_ROS for key in ROS_ONLY_DOCKER},
    },
}

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "hostname": {"type": "string", "format": "hostname"},
        "ssh_authorized_keys": {"type": "array", "items": {"type": "string", "format": "ssh-key"}},
        "write_files": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["path"],
                "properties": {
                    "path": {"type": "string", "format": "abspath"},
                    "content": _STR,
                    "permissions": {"type": "string", "format": "octal"},
                    "owner": {"type": "string", "format": "owner"},
                    "encoding": {"enum": list(ENCODINGS)},
                    "container": _STR,
                },
            },
        },
        "runcmd": {"type": "array", "items": {"type": ["string", "array"], "items": _STR}},
        "mounts": {
            "type": "array",
            "items": {"type": "array", "items": _STR, "minItems": 4, "maxItems": 4},
        },
        "rancher": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "environment": {"type": "object",
                                "additionalProperties": {"type": ["string", "number", "boolean"]}},
                "network": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "dns": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "nameservers": {"type": "array",
                                                "items": {"type": "string", "format": "ip"}},
                                "search": {"type": "array",
                                           "items": {"type": "string", "format": "hostname"}},
                            },
                        },
                        "interfaces": {"type": "object", "additionalProperties": INTERFACE},
                        "http_proxy": _STR,
                        "https_proxy": _STR,
                        "no_proxy": _STR,
                        **{key: _ANY_ROS for key in ROS_ONLY_NETWORK},
                    },
                },
                "docker": DOCKER,
                **{key: _ANY_ROS for key in ROS_ONLY_RANCHER},
            },
        },
        **{key: _ANY_ROS for key in ROS_ONLY_TOP},
    },
}

FORMAT_PROBLEMS = {
    "cidr": "is not an address with a prefix length, like 10.0.0.5/24",
    "ipv4": "is not an IPv4 address",
    "ipv6": "is not an IPv6 address",
    "ip": "is not an IP address",
    "hostname": "is not a valid host name (letters, digits and '-', labels of 1-63 characters)",
    "ssh-key": "is not an SSH public key ('<type> <base64> [comment]', type one of "
               + ", ".join(SSH_KEY_TYPES[:3]) + ", ...)",
    "abspath": "is not an absolute path",
    "octal": "is not an octal mode like '0644'",
    "owner": "is not 'user' or 'user:group'",
    "vlans": "is not a VLAN list like '100,200:name'",
    "url": "is not a URL like http://mirror.example:5000",
}

TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string",
              "integer": "an integer", "number": "a number", "boolean": "true or false"}

_checker = FormatChecker(formats=())


def _checks(name):
    """Register a format check; values of the wrong type are the ``type`` keyword's to report."""
    def register(func):
        _checker.checks(name)(lambda value: not isinstance(value, str) or func(value))
        return func
    return register


@_checks("cidr")
def _is_cidr(value):
    if "/" not in value:
        return False
    try:
        ipaddress.ip_interface(value)
    except ValueError:
        return False
    return True


def _ip_checker(version):
    def check(value):
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        return version is None or address.version == version
    return check


_checks("ipv4")(_ip_checker(4))
_checks("ipv6")(_ip_checker(6))
_checks("ip")(_ip_checker(None))
_checks("hostname")(lambda value: bool(HOSTNAME_RE.match(value)))
_checks("abspath")(lambda value: value.startswith("/"))
_checks("octal")(lambda value: bool(OCTAL_RE.match(value)))
_checks("owner")(lambda value: bool(OWNER_RE.match(value)))
_checks("vlans")(lambda value: bool(VLANS_RE.match(value)))
_checks("url")(lambda value: bool(re.match(r"^https?://[^\s/]+", value)))


@_checks("ssh-key")
def _is_ssh_key(value):
    return ssh_key_problem(value) is None


def ssh_key_problem(line):
    """Return why ``line`` is not a public key, or None. Options before the type are allowed."""
    if "\n" in line.rstrip("\n") or "\r" in line:
        return "a line break (a second key would ride along): one key per entry"
    fields = line.split()
    positions = [i for i, field in enumerate(fields) if field in SSH_KEY_TYPES]
    if not positions or positions[0] + 1 >= len(fields):
        return "no key type"
    key_type, blob = fields[positions[0]], fields[positions[0] + 1]
    try:
        raw = base64.b64decode(blob, validate=True)
    except ValueError:
        return "bad base64"
    length = int.from_bytes(raw[:4], "big")
    if raw[4:4 + length].decode("ascii", "replace") != key_type:
        return "key data does not match its type"
    return None


def key_path(parts):
    """Render a jsonschema path as the dotted key path a user reads in the file."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _describe(value):
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string '{value}'"
    return {dict: "a mapping", list: "a list", type(None): "null"}.get(type(value), repr(value))


def _problem(error):
    """Turn one jsonschema error into (path parts, problem)."""
    path = list(error.absolute_path)
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in value if k not in error.schema.get("properties", {})]
        hint = f"; known keys: {', '.join(allowed)}" if allowed else ""
        return [(path + [k], f"unknown key{hint}") for k in sorted(extra, key=str)]
    if kind == "type":
        types = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(TYPE_NAMES[t] for t in types)
        if path and path[-1] == "permissions" and isinstance(value, int):
            return [(path, f"must be a quoted octal string like '0644' (YAML reads an unquoted "
                           f"0644 as the number {value})")]
        return [(path, f"must be {wanted}, got {_describe(value)}")]
    if kind == "format":
        return [(path, f"'{value}' {FORMAT_PROBLEMS[expected]}")]
    if kind == "enum":
        return [(path, f"must be one of: {', '.join(map(str, expected))}; got {_describe(value)}")]
    if kind == "required":
        missing = error.message.split("'")[1]
        return [(path, f"missing required key '{missing}'")]
    if kind in ("minimum", "maximum"):
        low, high = error.schema.get("minimum"), error.schema.get("maximum")
        return [(path, f"must be between {low} and {high}, got {value}")]
    if kind in ("minItems", "maxItems"):
        return [(path, "must have exactly 4 fields [device, mountpoint, fstype, options], "
                       f"got {len(value)}")]
    return [(path, error.message)]


# JSON Schema calls 1450.0 an integer; YAML users who write it meant something else.
_TYPES = Draft7Validator.TYPE_CHECKER.redefine(
    "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool))
_Validator = validators.extend(Draft7Validator, type_checker=_TYPES)


def schema_errors(config):
    validator = _Validator(SCHEMA, format_checker=_checker)
    found = []
    for error in validator.iter_errors(config):
        found.extend(_problem(error))
    return found


def _semantic_write_files(config):
    for index, entry in enumerate(config.get("write_files") or []):
        if not isinstance(entry, dict) or entry.get("encoding") not in ENCODINGS:
            continue
        try:
            decode_content(entry.get("content", ""), entry["encoding"])
        except (ValueError, OSError, EOFError) as exc:
            yield (["write_files", index, "content"],
                   f"does not decode as {entry['encoding']}: {exc}")
    paths = [e.get("path") for e in config.get("write_files") or [] if isinstance(e, dict)]
    for index, path in enumerate(paths):
        if path is not None and paths.index(path) != index:
            yield (["write_files", index, "path"], f"'{path}' is also written by "
                                                   f"write_files[{paths.index(path)}]")


def _semantic_interfaces(config):
    interfaces = ((config.get("rancher") or {}).get("network") or {}).get("interfaces") or {}
    if not isinstance(interfaces, dict):
        return
    for name, iface in interfaces.items():
        if not isinstance(iface, dict):
            continue
        base = ["rancher", "network", "interfaces", name]
        match = iface.get("match", name)
        if isinstance(match, str) and match.startswith("mac=") and not MAC_RE.match(match[4:]):
            yield (base if "match" not in iface else base + ["match"],
                   f"'{match[4:]}' is not a MAC address like 0c:c4:d7:b2:14:d2")
        if iface.get("dhcp") and (iface.get("address") or iface.get("addresses")):
            yield (base, "sets both dhcp: true and a static address")
        bond = iface.get("bond")
        if isinstance(bond, str) and bond not in interfaces:
            yield (base + ["bond"], f"names bond '{bond}', which is not configured in "
                                    "rancher.network.interfaces")
        for key, value in (iface.get("bond_opts") or {}).items():
            if key not in BOND_OPTS:
                yield (base + ["bond_opts", key], f"unknown bond option; known: {', '.join(BOND_OPTS)}")
            elif key == "mode" and str(value) not in BOND_MODES:
                yield (base + ["bond_opts", key], f"'{value}' is not a bonding mode "
                                                  "(0-6 or balance-rr, active-backup, 802.3ad, ...)")
        for vlan in str(iface.get("vlans", "")).split(","):
            vid = vlan.split(":")[0]
            if vid.isdigit() and not 1 <= int(vid) <= 4094:
                yield (base + ["vlans"], f"VLAN id {vid} is outside 1-4094")
        gateway = iface.get("gateway")
        if isinstance(gateway, str) and _is_cidr(iface.get("address", "")):
            network = ipaddress.ip_interface(iface["address"]).network
            if _ip_checker(4)(gateway) and ipaddress.ip_address(gateway) not in network:
                yield (base + ["gateway"], f"{gateway} is not inside {network}, the network of "
                                           "this interface's address")


def _semantic_mounts(config):
    for index, mount in enumerate(config.get("mounts") or []):
        if isinstance(mount, list) and len(mount) == 4 and all(isinstance(f, str) for f in mount):
            if not mount[1].startswith("/"):
                yield (["mounts", index, 1], f"mount point '{mount[1]}' is not an absolute path")
            if not mount[0]:
                yield (["mounts", index, 0], "device is empty")


def _semantic_docker(config):
    docker = (config.get("rancher") or {}).get("docker") or {}
    if isinstance(docker, dict) and docker.get("tls"):
        for key in ("ca_cert", "server_cert", "server_key"):
            if not docker.get(key):
                yield (["rancher", "docker", key], "is required when rancher.docker.tls is true")


def semantic_errors(config):
    if not isinstance(config, dict):
        return []
    found = []
    for check in (_semantic_write_files, _semantic_interfaces, _semantic_mounts, _semantic_docker):
        found.extend(check(config))
    return found


def warnings(config):
    """Keys that RancherOS knows and Paddock accepts without applying them."""
    if not isinstance(config, dict):
        return []
    found = [([key], "is a RancherOS-only key; Paddock does not apply it on Debian/Ubuntu hosts")
             for key in ROS_ONLY_TOP if key in config]
    rancher = config.get("rancher") if isinstance(config.get("rancher"), dict) else {}
    found += [(["rancher", key], "is a RancherOS-only key; Paddock does not apply it")
              for key in ROS_ONLY_RANCHER if key in rancher]
    docker = rancher.get("docker") if isinstance(rancher.get("docker"), dict) else {}
    found += [(["rancher", "docker", key], "is a RancherOS-only engine key; Paddock does not apply it")
              for key in ROS_ONLY_DOCKER if key in docker]
    network = rancher.get("network") if isinstance(rancher.get("network"), dict) else {}
    found += [(["rancher", "network", key], "is a RancherOS-only key; Paddock does not apply it")
              for key in ROS_ONLY_NETWORK if key in network]
    interfaces = network.get("interfaces") if isinstance(network.get("interfaces"), dict) else {}
    found += [(["rancher", "network", "interfaces", name, key],
               "is a RancherOS-only interface key; Paddock does not apply it")
              for name, iface in interfaces.items() if isinstance(iface, dict)
              for key in ROS_ONLY_INTERFACE if key in iface]
    for index, entry in enumerate(config.get("write_files") or []):
        if isinstance(entry, dict) and "container" in entry:
            found.append((["write_files", index, "container"],
                          "is ignored: files are written on the host itself"))
    return found


def validate(config):
    """Return sorted ``[(key path, problem)]`` for a whole cloud-config; empty when valid."""
    if config is None:
        return []
    found = schema_errors(config)
    if not found:
        found = semantic_errors(config)
    return sorted(((key_path(p), problem) for p, problem in found), key=lambda e: e[0])
