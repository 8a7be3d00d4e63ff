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
import os
import re

from jsonschema import Draft7Validator, FormatChecker, validators

from ansible_collections.paddock.platform.plugins.module_utils._cloud_config import (
    ENCODINGS,
    decode_content,
    merge,
)
from ansible_collections.paddock.platform.plugins.module_utils._problems import describe, either, key_path, origin
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import Lines
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import load as load_yaml

# RancherOS keys that Paddock accepts but does not apply on Debian/Ubuntu hosts:
# they configure RancherOS's own system containers. They are reported as warnings.
ROS_ONLY_TOP = ("bootcmd",)
ROS_ONLY_RANCHER = (
    "console", "services", "bootstrap", "cloud_init_services", "bootstrap_docker",
    "cloud_init", "debug", "rm_usr", "no_sharedroot", "log", "force_console_rebuild",
    "recovery", "disable", "services_include", "modules", "default_network",
    "repositories", "ssh", "state", "system_docker", "upgrade", "registry_auths",
    "defaults", "resize_device", "sysctl", "restart_services", "hypervisor_service",
    "shutdown_timeout", "autoformat", "http_load_retries", "preload_wait",
)
ROS_ONLY_DOCKER = (
    "engine", "tls_args", "ca_key", "environment", "storage_context", "exec", "args",
    "bridge", "config_file", "containerd", "exec_root", "graph", "host", "pid_file",
    "restart", "selinux_enabled", "group",
)
# Checked, but not applied: the engine's proxy is not set by Paddock (RancherOS gave it to its
# Docker daemons' environment).
NOT_APPLIED_NETWORK = ("http_proxy", "https_proxy", "no_proxy")
# Checked, but not applied: Paddock sets addresses, MTUs and gateways on existing links only.
NOT_CREATED_INTERFACE = ("vlans", "bond", "bond_opts")
ROS_ONLY_INTERFACE = ("dhcp_args", "ipv4ll", "bridge", "pre_up", "post_up", "wifi_network")
# dhcp_timeout: the host's own DHCP client runs, not RancherOS's dhcpcd.
ROS_ONLY_NETWORK = ("pre_cmds", "post_cmds", "dhcp_timeout", "wifi_networks", "modem_networks")

# dockerd's built-in drivers (dockerd --help, Docker 20.10-26). A log driver plugin is
# named by its reference, which has a '/' (grafana/loki-docker-driver:latest).
STORAGE_DRIVERS = ("overlay2", "fuse-overlayfs", "btrfs", "zfs", "vfs", "devicemapper", "aufs",
                   "overlay")
LOG_DRIVERS = ("json-file", "local", "journald", "syslog", "gelf", "fluentd", "awslogs", "splunk",
               "etwlogs", "gcplogs", "logentries", "none")

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
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# RancherOS reads these as Go strings, and Go's YAML decoder takes a number for a string
# (`vlans: 100`, `extra_args: [--mtu, 1460]`); Paddock does the same and writes str(value).
_STR_OR_NUMBER = {"type": ["string", "integer"]}

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
        "vlans": {"type": ["string", "integer"], "format": "vlans"},
        **{key: _ANY_ROS for key in ROS_ONLY_INTERFACE},
    },
}

DOCKER = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "storage_driver": {"type": "string", "format": "storage-driver"},
        "registry_mirror": {"type": "string", "format": "url"},
        "insecure_registry": _STRS,
        "log_driver": {"type": "string", "format": "log-driver"},
        "log_opts": {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
        "extra_args": {"type": "array", "items": _STR_OR_NUMBER},
        "bip": {"type": "string", "format": "cidr"},
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
                    "path": {"type": "string", "format": "file-path"},
                    "content": _STR,
                    "permissions": {"type": "string", "format": "octal"},
                    "owner": {"type": "string", "format": "owner"},
                    "encoding": {"enum": list(ENCODINGS)},
                    "container": _STR,
                },
            },
        },
        "runcmd": {"type": "array", "items": {"type": ["string", "array"], "format": "command",
                                              "items": _STR_OR_NUMBER}},
        "mounts": {
            "type": "array",
            "items": {"type": "array", "minItems": 4, "maxItems": 4,
                      "items": {"type": "string", "format": "fstab-field"}},
        },
        "rancher": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "environment": {"type": "object", "propertyNames": {"format": "env-name"},
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
    "abspath": "is not an absolute path",
    "octal": "is not an octal mode like '0644'",
    "owner": "is not 'user' or 'user:group'",
    "vlans": "is not a VLAN list like '100,200:name'",
    "storage-driver": "is not one of dockerd's storage drivers: " + ", ".join(STORAGE_DRIVERS),
    "log-driver": "is not one of dockerd's log drivers (" + ", ".join(LOG_DRIVERS)
                  + ") or a log driver plugin's reference (with a '/')",
    "file-path": "is not an absolute path to a file (starts with '/', does not end with '/', "
                 "has no '..' and no line break)",
    "fstab-field": "is not an fstab field: it has a space or a line break (write a space as \\040)",
    "env-name": "is not an environment variable name (letters, digits and '_', not starting "
                "with a digit)",
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
_checks("file-path")(lambda value: value.startswith("/") and not value.endswith("/")
                     and ".." not in value.split("/") and not re.search(r"[\n\r\0]", value))
_checks("storage-driver")(lambda value: value in STORAGE_DRIVERS)
_checks("log-driver")(lambda value: value in LOG_DRIVERS or "/" in value)
_checks("fstab-field")(lambda value: not re.search(r"\s", value))
_checks("env-name")(lambda value: bool(ENV_NAME_RE.match(value)))
_checks("octal")(lambda value: bool(OCTAL_RE.match(value)))
_checks("owner")(lambda value: bool(OWNER_RE.match(value)))
_checks("vlans")(lambda value: bool(VLANS_RE.match(value)))
_checks("url")(lambda value: bool(re.match(r"^https?://[^\s/]+", value)))


@_checker.checks("command")
def _is_command(value):
    """A runcmd entry: a non-blank shell line, or an argv whose program is named."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return bool(value) and bool(str(value[0]).strip())
    return True


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
        return ("no key type ('<type> <base64> [comment]', type one of " + ", ".join(SSH_KEY_TYPES[:3])
                + ", ...)")
    key_type, blob = fields[positions[0]], fields[positions[0] + 1]
    try:
        raw = base64.b64decode(blob, validate=True)
    except ValueError:
        return "bad base64"
    length = int.from_bytes(raw[:4], "big")
    if raw[4:4 + length].decode("ascii", "replace") != key_type:
        return "key data does not match its type"
    return None


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
        wanted = either(TYPE_NAMES[t] for t in (expected if isinstance(expected, list) else [expected]))
        if path and path[-1] == "permissions" and isinstance(value, int):
            return [(path, f"must be a quoted octal string like '0644' (YAML reads an unquoted "
                           f"0644 as the number {value})")]
        return [(path, f"must be {wanted}, got {describe(value)}")]
    if kind == "format":
        if expected == "command":
            return [(path, "is an empty command: a shell line, or a list whose first item is the program")]
        shown = f"'{value}'" if isinstance(value, (str, int)) and "\n" not in str(value) else repr(value)
        if expected == "ssh-key":
            return [(path, f"{shown} is not an SSH public key: {ssh_key_problem(value)}")]
        return [(path, f"{shown} {FORMAT_PROBLEMS[expected]}")]
    if kind == "enum":
        return [(path, f"must be one of: {', '.join(map(str, expected))}; got {describe(value)}")]
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
    first = {}
    for index, entry in enumerate(config.get("write_files") or []):
        path = entry.get("path") if isinstance(entry, dict) else None
        if isinstance(path, str) and first.setdefault(path, index) != index:
            yield (["write_files", index, "path"], f"'{path}' is also written by write_files[{first[path]}]")


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
            for field, name in ((0, "device"), (2, "filesystem type")):
                if not mount[field]:
                    yield (["mounts", index, field], f"{name} is empty")


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
    found += [(["rancher", "network", key], "is checked but not applied: Paddock does not set the engine's "
                                            "proxy; give it in the host's own configuration")
              for key in NOT_APPLIED_NETWORK if key in network]
    interfaces = network.get("interfaces") if isinstance(network.get("interfaces"), dict) else {}
    found += [(["rancher", "network", "interfaces", name, key],
               "is a RancherOS-only interface key; Paddock does not apply it")
              for name, iface in interfaces.items() if isinstance(iface, dict)
              for key in ROS_ONLY_INTERFACE if key in iface]
    found += [(["rancher", "network", "interfaces", name, key],
               "is checked but not applied: Paddock does not create VLAN or bond devices; the host's own "
               "network configuration must")
              for name, iface in interfaces.items() if isinstance(iface, dict)
              for key in NOT_CREATED_INTERFACE if key in iface]
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


def _load_source(source, variable, base_dir):
    """(name for messages, document, problem, lines) for one cloud-config source of the inventory;
    ``lines`` finds a key's line in a file (None for an inline mapping)."""
    set_in = origin(source)
    where = set_in or "inventory"
    if isinstance(source, dict):
        return f"{where}: {variable} (inline)", source, None, None
    if not isinstance(source, str):
        return f"{where}: {variable}", None, ("must be a file path, an inline mapping or a list of them, "
                                              f"got {describe(source)}"), None
    path = source if os.path.isabs(source) else os.path.join(base_dir, source)
    shown = os.path.relpath(path) if not os.path.isabs(source) else source
    document, problem = load_yaml(path, shown)
    if problem:
        problem = problem[len(shown) + 2:]
        named = f"named by {variable}" + (f" in {set_in}" if set_in else "")
        return shown, None, f"{problem} ({named})" if problem == "file not found" else problem, None
    if document is None:
        return shown, {}, None, None
    if not isinstance(document, dict):
        return shown, None, f"must be a mapping at the top level, got {describe(document)}", None
    return shown, document, None, Lines(path)


def _has_path(document, parts):
    node = document
    for part in parts:
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if not (in_mapping or in_list):
            return False
        node = node[part]
    return True


def check_sources(sources, base_dir):
    """Load, check and merge a host's cloud-config sources, ``[(value, variable name)]`` in order.

    Returns ``{"errors", "warnings", "config", "sources"}``: messages as ``<file>: <key>: <problem>``,
    the merged document, and the names of what was merged. Semantic checks run on the merged
    document (a bond may name an interface of another file) and blame the last file that sets
    the key, which is where the merged value came from.
    """
    loaded, errors, lines = [], [], {}

    def at(name, parts):
        """``file:line`` where the file's YAML says it, else the source's name."""
        line = lines[name].line(parts) if lines.get(name) else None
        return f"{name}:{line}" if line else name

    for source, variable in sources:
        name, document, problem, lines[name] = _load_source(source, variable, base_dir)
        if problem:
            errors.append(f"{name}: {problem}")
            continue
        errors += [f"{at(name, p)}: {key_path(p)}: {msg}"
                   for p, msg in sorted(schema_errors(document), key=lambda e: key_path(e[0]))]
        loaded.append((name, document))
    merged = {}
    for _name, document in loaded:
        merged = merge(merged, document)
    if not errors:
        for parts, message in semantic_errors(merged):
            owners = [name for name, document in loaded if _has_path(document, parts)]
            owner = at(owners[-1], parts) if owners else " + ".join(name for name, _document in loaded)
            errors.append(f"{owner}: {key_path(parts)}: {message}")
    notes = []
    for parts, message in warnings(merged) if not errors else []:
        owners = [name for name, document in loaded if _has_path(document, parts)]
        notes.append(f"{at(owners[-1], parts) if owners else 'cloud-config'}: {key_path(parts)}: {message}")
    return {"errors": errors, "warnings": notes, "config": merged,
            "sources": [name for name, _document in loaded]}
