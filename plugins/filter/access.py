# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access-control filters. Each is documented in the YAML file of its name beside this one."""

from __future__ import annotations

import hashlib
import os
import re
import ssl

from ansible_collections.paddock.platform.plugins.module_utils._cloud_config_schema import ssh_key_problem
from ansible_collections.paddock.platform.plugins.module_utils._problems import origin

ROLES = ("admin", "member", "read-only")
NAME = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
KEYS = {"name", "role", "ssh_authorized_keys"}


def users_errors(users):
    """Every problem of the inventory's paddock_users, as ``<file>:<line>: paddock_users[i].key: problem``."""
    if users is None:
        return []
    if not isinstance(users, list):
        return [f"{origin(users, 'inventory')}: paddock_users: must be a list of users, each with a name and a role"]
    errors, seen = [], {}
    for index, user in enumerate(users):
        where = f"{origin(user, origin(users, 'inventory'))}: paddock_users[{index}]"
        if not isinstance(user, dict):
            errors.append(f"{where}: must be a mapping with a name and a role")
            continue
        errors += [f"{where}.{key}: unknown key (known: name, role, ssh_authorized_keys)"
                   for key in sorted(set(user) - KEYS)]
        name = user.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            errors.append(f"{where}.name: must be a lower-case user name (letters, digits, . _ -), got {name!r}")
        elif name in seen:
            errors.append(f"{where}.name: {name} is already listed as paddock_users[{seen[name]}]")
        else:
            seen[name] = index
        if user.get("role") not in ROLES:
            errors.append(f"{where}.role: must be one of {', '.join(ROLES)}, got {user.get('role')!r}")
        keys = user.get("ssh_authorized_keys", [])
        if not isinstance(keys, list):
            errors.append(f"{where}.ssh_authorized_keys: must be a list of public keys (ssh-ed25519 AAAA...)")
            continue
        for number, key in enumerate(keys):
            problem = ssh_key_problem(key) if isinstance(key, str) else "not a string"
            if problem:
                errors.append(f"{where}.ssh_authorized_keys[{number}]: not an SSH public key ({problem})")
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


def users_access(users, pki_dir):
    """Per user, what the engines' authorization plugin needs: the role and the SHA-256
    fingerprint of the certificate issued to the user (read on the controller)."""
    out = []
    for user in users or []:
        path = os.path.join(pki_dir, "users", user["name"], "cert.pem")
        prints = []
        if pki_dir and os.path.exists(path):
            with open(path) as handle:
                prints.append(hashlib.sha256(ssl.PEM_cert_to_DER_cert(handle.read())).hexdigest())
        out.append({"role": user["role"], "fingerprints": prints})
    return out


class FilterModule:
    def filters(self):
        return {"paddock_users_errors": users_errors, "paddock_users_access": users_access,
                "paddock_member_allow_errors": member_allow_errors}
