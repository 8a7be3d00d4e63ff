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
KEYS = {"name", "role", "ssh_authorized_keys", "password_hash"}
# The console's identities on the engines, one per role its users have (console_identities).
CONSOLE_PREFIX = "paddock-console-"
# crypt(3) hashes the console verifies (passlib): sha512-crypt and sha256-crypt (mkpasswd -m
# sha-512, Ansible's password_hash filter) and bcrypt.
CRYPT = re.compile(r"^(\$6\$(rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}"
                   r"|\$5\$(rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{43}"
                   r"|\$2[aby]\$\d\d\$[./0-9A-Za-z]{53})$")


def console_identities(users, enabled=True, ldap=None):
    """The console's users on the engines: one identity per role that a user with a console
    password has, or that a directory group maps to (``paddock_ldap.roles``), so that the console
    never holds a role none of its users can have. None when the console is not ``enabled``."""
    if not enabled:
        return []
    roles = {u.get("role") for u in users or [] if isinstance(u, dict) and u.get("password_hash")}
    if isinstance(ldap, dict):
        roles |= {r.get("role") for r in ldap.get("roles") or [] if isinstance(r, dict)}
    return [{"name": CONSOLE_PREFIX + role, "role": role, "context": False} for role in ROLES if role in roles]


def engine_users(users, console_enabled=False, ldap=None):
    """Everyone the engines know: the inventory's users and the console's identities
    (roles/pki issues them certificates; roles/docker writes them into the engines' policy)."""
    return list(users or []) + console_identities(users, console_enabled, ldap)


def console_users(users):
    """The console's login list: ``{name: {role, hash}}`` of the users with a password_hash."""
    return {u["name"]: {"role": u["role"], "hash": str(u["password_hash"])}
            for u in users or [] if isinstance(u, dict) and u.get("password_hash")}


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
        elif name.startswith(CONSOLE_PREFIX):
            errors.append(f"{where}.name: {name}: names starting with {CONSOLE_PREFIX} are the console's own")
        else:
            seen[name] = index
        if user.get("role") is None:
            errors.append(f"{where}.role: missing: one of {', '.join(ROLES)}")
        elif user.get("role") not in ROLES:
            errors.append(f"{where}.role: must be one of {', '.join(ROLES)}, got {user.get('role')!r}")
        hashed = user.get("password_hash")
        if hashed is not None and not (isinstance(hashed, str) and CRYPT.match(str(hashed))):
            # Never the value: a hash is a secret too.
            errors.append(f"{where}.password_hash: must be a crypt hash: $6$ (mkpasswd -m sha-512, or Ansible's "
                          "password_hash('sha512')), $5$ or bcrypt's $2b$")
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


# Ports a manager already serves (roles' defaults); the console listens on the host's network.
TAKEN_PORTS = {22: "SSH", 2376: "the engines' TLS API", 2377: "Swarm's cluster management", 7946: "Swarm's gossip",
               9100: "the host agent", 5000: "the registry", 5001: "the registry's push port"}


CONSOLE_SETTINGS = ("paddock_console_enabled", "paddock_console_port", "paddock_console_session_minutes",
                    "paddock_console_graph_seconds", "paddock_console_catalog_images", "paddock_ldap",
                    "paddock_console_names", "paddock_tls", "paddock_users")


def console_errors(settings):
    """Every problem of the console's settings (paddock_console_*), read from the first host."""
    where = "inventory"
    enabled = settings.get("paddock_console_enabled", False)
    if not isinstance(enabled, bool):
        return [f"{origin(enabled, where)}: paddock_console_enabled: must be true or false, got {enabled!r}"]
    if not enabled:
        return []
    errors = []
    if settings.get("paddock_tls", True) in (False, "false", "no"):
        errors.append(f"{where}: paddock_console_enabled: the console acts through the engines' TLS API with "
                      "each user's role; it needs paddock_tls: true")
    users = settings.get("paddock_users") or []
    ldap = settings.get("paddock_ldap")
    if ldap is not None:
        errors += ldap_errors(ldap)
    elif not any(isinstance(u, dict) and u.get("password_hash") for u in users if isinstance(users, list)):
        errors.append(f"{origin(users, where)}: paddock_console_enabled: no user of paddock_users has a "
                      "password_hash and no paddock_ldap directory is set, so nobody could log in to the console")
    port = settings.get("paddock_console_port", 8443)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        errors.append(f"{origin(port, where)}: paddock_console_port: must be a port number (1-65535), got {port!r}")
    elif port in TAKEN_PORTS:
        errors.append(f"{origin(port, where)}: paddock_console_port: {port} is {TAKEN_PORTS[port]}'s port "
                      "on the managers")
    minutes = settings.get("paddock_console_session_minutes", 480)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
        errors.append(f"{origin(minutes, where)}: paddock_console_session_minutes: must be a whole number of "
                      f"minutes (at least 1), got {minutes!r}")
    every = settings.get("paddock_console_graph_seconds", 15)
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 3600:
        errors.append(f"{origin(every, where)}: paddock_console_graph_seconds: must be a whole number of seconds "
                      f"(1-3600) between two readings of the hosts' exporters, got {every!r}")
    images = settings.get("paddock_console_catalog_images", False)
    if not isinstance(images, bool):
        errors.append(f"{origin(images, where)}: paddock_console_catalog_images: must be true or false (build "
                      f"every on_demand image of paddock_images, so that the console can launch any catalog app), "
                      f"got {images!r}")
    names = settings.get("paddock_console_names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and re.match(r"^[A-Za-z0-9.:-]+$", n)
                                              for n in names):
        errors.append(f"{origin(names, where)}: paddock_console_names: must be a list of DNS names and "
                      "addresses clients use (console.example.com, 192.0.2.10)")
    return errors


LDAP_KEYS = ("url", "start_tls", "ca_file", "bind_dn", "bind_password", "user_base", "user_attribute", "group_base",
             "roles")
DN = re.compile(r"^[A-Za-z][A-Za-z0-9-]*=[^,]+(,\s*[A-Za-z][A-Za-z0-9-]*=[^,]+)*$")


def ldap_errors(ldap):
    """Every problem of paddock_ldap: the directory (LDAP or Active Directory) the console's
    users log in with, its groups mapped to roles. Never echoes the bind password."""
    where = origin(ldap, "inventory")
    if not isinstance(ldap, dict):
        return [f"{where}: paddock_ldap: must be a mapping with url, bind_dn, bind_password, user_base, group_base "
                "and roles"]
    errors = [f"{origin(ldap[key], where)}: paddock_ldap.{key}: unknown key; known: {', '.join(LDAP_KEYS)}"
              for key in ldap if key not in LDAP_KEYS]
    for key in ("url", "bind_dn", "bind_password", "user_base", "group_base", "roles"):
        if key not in ldap:
            errors.append(f"{where}: paddock_ldap.{key}: missing")
    url = ldap.get("url")
    start_tls = ldap.get("start_tls", False)
    if not isinstance(start_tls, bool):
        errors.append(f"{origin(start_tls, where)}: paddock_ldap.start_tls: must be true or false, got {start_tls!r}")
    if url is not None:
        found = re.match(r"^(ldaps?)://([A-Za-z0-9.:\[\]-]+)(:\d{1,5})?/?$", str(url))
        if not found:
            errors.append(f"{origin(url, where)}: paddock_ldap.url: must be ldaps://HOST[:PORT] (or ldap:// with "
                          f"start_tls: true), got {url!r}")
        elif found.group(1) == "ldap" and start_tls is not True:
            errors.append(f"{origin(url, where)}: paddock_ldap.url: {url} without start_tls would send every "
                          "password in clear; use ldaps:// or start_tls: true")
    for key in ("bind_dn", "user_base", "group_base"):
        value = ldap.get(key)
        if value is not None and not (isinstance(value, str) and DN.match(value)):
            errors.append(f"{origin(value, where)}: paddock_ldap.{key}: must be a distinguished name such as "
                          f"ou=people,dc=example,dc=com, got {value!r}")
    password = ldap.get("bind_password")
    if "bind_password" in ldap and not (isinstance(password, str) and password):
        errors.append(f"{origin(password, where)}: paddock_ldap.bind_password: must be the bind DN's password "
                      "(from Vault), not empty")
    attribute = ldap.get("user_attribute", "uid")
    if not (isinstance(attribute, str) and re.match(r"^[A-Za-z][A-Za-z0-9-]*$", attribute)):
        errors.append(f"{origin(attribute, where)}: paddock_ldap.user_attribute: must be an attribute name such as "
                      f"uid or sAMAccountName, got {attribute!r}")
    ca_file = ldap.get("ca_file")
    if ca_file is not None:
        try:
            with open(os.path.expanduser(str(ca_file)), encoding="utf-8") as handle:
                readable = "-----BEGIN CERTIFICATE-----" in handle.read()
        except (OSError, UnicodeDecodeError):
            readable = False
        if not readable:
            errors.append(f"{origin(ca_file, where)}: paddock_ldap.ca_file: {ca_file} is not a readable PEM "
                          "certificate on the controller")
    roles = ldap.get("roles")
    if roles is not None:
        if not isinstance(roles, list) or not roles:
            errors.append(f"{origin(roles, where)}: paddock_ldap.roles: must list the directory's groups with the "
                          "role of their members ({group: cn=ops,ou=groups,dc=example,dc=com, role: member})")
        else:
            for index, entry in enumerate(roles):
                at = f"{origin(entry, where)}: paddock_ldap.roles[{index}]"
                if not isinstance(entry, dict) or set(entry) != {"group", "role"}:
                    errors.append(f"{at}: must be a mapping of group and role")
                    continue
                if not (isinstance(entry["group"], str) and DN.match(entry["group"])):
                    errors.append(f"{at}.group: must be a group's distinguished name, got {entry['group']!r}")
                if entry["role"] not in ROLES:
                    errors.append(f"{at}.role: must be one of {', '.join(ROLES)}, got {entry['role']!r}")
    return errors
