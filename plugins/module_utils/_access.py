# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Checks of the inventory's access-control settings: users, what members may ask, admin networks.

Each problem names the file and line that set the value (``origin``), or ``inventory``.
"""

from __future__ import annotations

import ipaddress
import os
import re

from ansible_collections.paddock.platform.plugins.module_utils._cloud_config_schema import ssh_key_problem
from ansible_collections.paddock.platform.plugins.module_utils._problems import listed_mappings, origin

ROLES = ("admin", "member", "read-only")
NAME = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
KEYS = {"name", "role", "ssh_authorized_keys"}


def users_errors(users):
    """Every problem of the inventory's paddock_users, as ``<file>:<line>: paddock_users[i].key: problem``."""
    if users is None:
        return []
    errors, seen = [], {}
    for index, where, user in listed_mappings(users, "paddock_users", "a list of users, each with a name and a role",
                                              "a mapping with a name and a role", sorted(KEYS), errors):
        name = user.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            errors.append(f"{where}.name: must be a lower-case user name (letters, digits, . _ -), got {name!r}")
        elif name in seen:
            errors.append(f"{where}.name: {name} is already listed as paddock_users[{seen[name]}]")
        else:
            seen[name] = index
        if user.get("role") is None:
            errors.append(f"{where}.role: missing: one of {', '.join(ROLES)}")
        elif user.get("role") not in ROLES:
            errors.append(f"{where}.role: must be one of {', '.join(ROLES)}, got {user.get('role')!r}")
        keys = user.get("ssh_authorized_keys", [])
        if not isinstance(keys, list):
            errors.append(f"{where}.ssh_authorized_keys: must be a list of public keys (ssh-ed25519 AAAA...)")
            continue
        for number, key in enumerate(keys):
            problem = ssh_key_problem(key) if isinstance(key, str) else "not a string"
            if problem:
                errors.append(f"{where}.ssh_authorized_keys[{number}]: not an SSH public key: {problem}")
    return errors


CAPABILITY = re.compile(r"^[A-Z][A-Z_]+$")


def member_allow_errors(allow):
    """Every problem of paddock_member_allow: what members may ask of a host beyond the default."""
    if allow is None or allow == {}:
        return []
    where = origin(allow, "inventory")
    if not isinstance(allow, dict):
        return [f"{where}: paddock_member_allow: must be a mapping with host_paths and capabilities"]
    errors = [f"{where}: paddock_member_allow.{key}: unknown key (known: capabilities, host_paths)"
              for key in sorted(set(allow) - {"host_paths", "capabilities"})]
    for index, path in enumerate(allow.get("host_paths") or []):
        if not isinstance(path, str) or not path.startswith("/") or os.path.normpath(path) in ("/", "//"):
            errors.append(f"{origin(path, where)}: paddock_member_allow.host_paths[{index}]: must be an absolute "
                          f"path other than /, got {path!r}")
    for index, name in enumerate(allow.get("capabilities") or []):
        if not isinstance(name, str) or not CAPABILITY.match(name) or name.startswith("CAP_"):
            errors.append(f"{origin(name, where)}: paddock_member_allow.capabilities[{index}]: must be a "
                          f"capability name such as NET_ADMIN, got {name!r}")
    return errors



def admin_networks_errors(networks):
    """Every problem of paddock_admin_networks (addresses or networks that reach 2376 and 9100)."""
    if networks is None:
        return []
    errors, where = [], origin(networks, "inventory")
    if not isinstance(networks, list):
        return [f"{where}: paddock_admin_networks: must be a list of addresses or networks (192.0.2.0/24)"]
    for index, value in enumerate(networks):
        try:
            network = ipaddress.ip_network(str(value), strict=False) if isinstance(value, str) else None
        except ValueError:
            network = None
        if network is None:
            errors.append(f"{origin(value, where)}: paddock_admin_networks[{index}]: must be an IPv4 or IPv6 "
                          f"address or network such as 192.0.2.0/24, got {value!r}")
        elif network.prefixlen == 0:
            errors.append(f"{origin(value, where)}: paddock_admin_networks[{index}]: {value} is every address; "
                          "list the networks operators work from")
    return errors
