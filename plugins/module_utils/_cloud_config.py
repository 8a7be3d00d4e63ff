# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Pure helpers for applying a cloud-config. They run on the managed host (standard
library only) and on the controller, and the unit tests import them directly."""

from __future__ import annotations

import base64
import fnmatch
import gzip
import hashlib
import json
import shlex

ENCODINGS = ("b64", "base64", "gz", "gzip", "gz+b64", "gz+base64", "gzip+b64", "gzip+base64")
BLOCK_BEGIN = "# BEGIN paddock cloud-config"
BLOCK_END = "# END paddock cloud-config"


def decode_content(content, encoding):
    """Decode write_files content as cloud-init and RancherOS do."""
    data = content.encode() if isinstance(content, str) else content
    if not encoding:
        return data
    parts = set(encoding.replace("base64", "b64").replace("gzip", "gz").split("+"))
    if "b64" in parts:
        data = base64.b64decode(data, validate=True)
    if "gz" in parts:
        data = gzip.decompress(data)
    return data


def merge(base, override):
    """Deep-merge cloud-configs in load order: mappings merge, everything else is replaced."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    merged = dict(base)
    for key, value in override.items():
        merged[key] = merge(base.get(key), value) if key in base else value
    return merged


def _precedence(key):
    """RancherOS's findMatch order: a mac= match beats an exact name, which beats a glob."""
    if key.startswith("mac="):
        return 0
    return 2 if any(c in key for c in "*?[") else 1


def _matches(pattern, name, mac):
    if pattern.startswith("mac="):
        return mac is not None and pattern[4:].lower() == mac.lower()
    return fnmatch.fnmatchcase(name, pattern)


def assign_interfaces(interfaces, links):
    """Map each link to the one interface config that applies to it.

    ``interfaces`` is rancher.network.interfaces; ``links`` is ``[(name, mac)]``.
    Returns ``{link name: (config key, config)}``; links that match nothing are absent.
    """
    assigned = {}
    for name, mac in links:
        candidates = [(_precedence(cfg.get("match", key)), key) for key, cfg in interfaces.items()
                      if _matches(cfg.get("match", key), name, mac)]
        if candidates:
            key = min(candidates)[1]
            assigned[name] = (key, interfaces[key])
    return assigned


def interface_addresses(config):
    addresses = list(config.get("addresses") or [])
    if config.get("address"):
        addresses.insert(0, config["address"])
    return list(dict.fromkeys(addresses))


def plan_addresses(desired, current, managed_before):
    """Addresses to add, and addresses to remove: only those Paddock added earlier."""
    add = [a for a in desired if a not in current]
    remove = [a for a in managed_before if a not in desired and a in current]
    return add, remove


def replace_block(text, lines):
    """Replace (or append) Paddock's managed block in a file, leaving other lines alone."""
    if not lines and BLOCK_BEGIN not in text:
        return text
    kept, inside = [], False
    for line in text.splitlines():
        if line.strip() == BLOCK_BEGIN:
            inside = True
        elif line.strip() == BLOCK_END:
            inside = False
        elif not inside:
            kept.append(line)
    if lines:
        kept += [BLOCK_BEGIN, *lines, BLOCK_END]
    return "\n".join(kept) + "\n" if kept else ""


def render_resolv_conf(nameservers, search):
    out = ["# Managed by Paddock (cloud-config rancher.network.dns)"]
    if search:
        out.append("search " + " ".join(search))
    out += [f"nameserver {server}" for server in nameservers]
    return "\n".join(out) + "\n"


def render_resolved_conf(nameservers, search):
    out = ["# Managed by Paddock (cloud-config rancher.network.dns)", "[Resolve]"]
    out.append("DNS=" + " ".join(nameservers))
    if search:
        out.append("Domains=" + " ".join(search))
    return "\n".join(out) + "\n"


def fstab_lines(mounts):
    return [" ".join([device, point, fstype, options or "defaults", "0", "0"])
            for device, point, fstype, options in mounts]


def digest(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def runcmd_argv(command):
    """A string runs through the shell; a list is an argv, as in cloud-init."""
    if isinstance(command, str):
        return ["/bin/sh", "-c", command]
    return [str(part) for part in command]


def render_environment(environment):
    return "".join(f"{key}={shlex.quote(str(value))}\n" for key, value in sorted(environment.items()))


def network_script(plan):
    """A boot-time script that re-applies the addresses, MTUs and gateways in ``plan``."""
    out = ["#!/bin/sh", "# Managed by Paddock (cloud-config rancher.network.interfaces)", ""]
    for link, item in sorted(plan.items()):
        if item.get("mtu"):
            out.append(f"ip link set dev {link} mtu {item['mtu']}")
        out += [f"ip addr replace {address} dev {link}" for address in item.get("addresses", [])]
        out.append(f"ip link set dev {link} up")
        for family, gateway in (("-4", item.get("gateway")), ("-6", item.get("gateway_ipv6"))):
            if gateway:
                out.append(f"ip {family} route replace default via {gateway} dev {link} "
                           f"metric {item.get('metric', 0)}")
    return "\n".join(out) + "\n"
