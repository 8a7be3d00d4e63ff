# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Check the inventory's settings for Paddock's roles against the roles' own argument specs.

Every role declares its variables in ``meta/argument_specs.yml`` (type, choices, element
type). Ansible checks those only when the role starts, which for the swarm or managed
network role is after other roles have already changed the hosts. This module reads the
same declarations and checks, on the controller, every one of those variables that the
inventory or ``-e`` sets, so that ``swarm_availability: paused`` or
``managed_network_enabled: maybe`` stops the run before any host is touched and names the
file and line that set it.

It is stricter than Ansible's conversions where they lose the user's meaning: a float for a
string (``docker_version: 20.10`` is the number 20.1) and a mapping or list for a string are
refused, not turned into their ``str()``.
"""

from __future__ import annotations

import glob
import os

import yaml
from ansible.module_utils.parsing.convert_bool import BOOLEANS, boolean

from ansible_collections.paddock.platform.plugins.module_utils import (
    _access,
    _backup,
    _certificates,
    _images,
    _network,
    _pki,
    _swarm,
    _vips,
)
from ansible_collections.paddock.platform.plugins.module_utils._problems import describe, origin

# The texts Ansible takes as a boolean (its BOOLEANS, as strings): yes, no, on, off, 1, 0...
BOOLEAN_WORDS = frozenset(value for value in BOOLEANS if isinstance(value, str))
TYPE_NAMES = {"str": "a string", "path": "a path (a string)", "int": "a whole number",
              "float": "a number", "bool": "true or false", "list": "a list", "dict": "a mapping"}


def role_specs(roles_dir):
    """``{variable: (role, spec)}`` from every role's ``main`` entry point under ``roles_dir``. A
    spec also carries the role's default (``defaults/main.yml``) as ``default`` where that is a
    plain value, not a template: the checks that compare settings read the role's own figure."""
    specs = {}
    for path in sorted(glob.glob(os.path.join(roles_dir, "*", "meta", "argument_specs.yml"))):
        role_dir = os.path.dirname(os.path.dirname(path))
        with open(path) as handle:
            entry = ((yaml.safe_load(handle) or {}).get("argument_specs") or {}).get("main") or {}
        defaults = {}
        if os.path.exists(os.path.join(role_dir, "defaults", "main.yml")):
            with open(os.path.join(role_dir, "defaults", "main.yml")) as handle:
                defaults = yaml.safe_load(handle) or {}
        for name, spec in (entry.get("options") or {}).items():
            spec = dict(spec or {})
            if name in defaults and not (isinstance(defaults[name], str) and "{{" in defaults[name]):
                spec["default"] = defaults[name]
            specs.setdefault(name, (os.path.basename(role_dir), spec))
    return specs


def _type_problem(kind, value):
    """Why ``value`` is not of argument-spec type ``kind``, or None."""
    if kind in (None, "raw") or value is None:
        return None
    ok = {
        "str": isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)),
        "path": isinstance(value, str),
        "int": (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, str) and value.strip().lstrip("-").isdigit()),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool) or (isinstance(value, int) and value in (0, 1))
        or (isinstance(value, str) and value.lower() in BOOLEAN_WORDS),
        "list": isinstance(value, list),
        "dict": isinstance(value, dict),
    }.get(kind, True)
    if ok:
        return None
    hint = ""
    if kind == "str" and isinstance(value, float):
        hint = " (YAML reads an unquoted 20.10 as the number 20.1: quote the value)"
    elif kind == "bool" and isinstance(value, str):
        hint = " (true, false, yes or no)"
    elif kind in ("str", "path") and isinstance(value, bool):
        hint = " (YAML reads an unquoted yes, no, on or off as true or false: quote the value)"
    return f"must be {TYPE_NAMES.get(kind, kind)}, got {describe(value)}{hint}"


def _choice(value):
    return str(value).lower() if isinstance(value, bool) else str(value)


def value_problems(spec, value):
    """Problems of one value against one argument spec, as ``[(suffix, problem)]``."""
    problem = _type_problem(spec.get("type", "raw"), value)
    if problem:
        return [("", problem)]
    found = []
    choices = spec.get("choices")
    if choices and value is not None:
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if _choice(item) not in [_choice(c) for c in choices]:
                at = f"[{index}]" if isinstance(value, list) else ""
                found.append((at, f"must be one of: {', '.join(map(str, choices))}; got {describe(item)}"))
    if spec.get("type") == "list" and spec.get("elements") and isinstance(value, list):
        for index, item in enumerate(value):
            element = _type_problem(spec["elements"], item)
            if element:
                found.append((f"[{index}]", element))
    return found


def variable_errors(variables, specs, raw=None):
    """Every problem with the role variables set in ``variables`` (a host's values).

    ``raw`` holds the same variables before templating (they carry the origin tags); messages
    read ``<file>:<line>: <variable>: <problem> (role <role>)``."""
    raw = variables if raw is None else raw
    errors = []
    for name in sorted(set(variables) & set(specs)):
        role, spec = specs[name]
        where = origin(raw.get(name), "inventory")
        errors += [f"{where}: {name}{suffix}: {problem} (a setting of role {role})"
                   for suffix, problem in value_problems(spec, variables[name])]
    return errors


def _truthy(value, default):
    """A boolean setting as Ansible reads it (its value was checked against the spec first)."""
    return default if value is None else boolean(value, strict=False)


def check(names, hostvars, groups, inventory_dir, specs, now):
    """Every problem of the inventory, as validate.yml reports it, before any host is touched.

    ``names``: the hosts of group paddock, in inventory order; ``hostvars``: host -> its
    variables (Ansible's hostvars, or plain mappings); ``groups``: group -> hosts. Settings of
    the whole platform (users, the managed network, images) are read from the first host, as
    a ``run_once`` task reads them. ``now``: the time certificates are judged at. Linear in
    the number of hosts.
    """
    errors = []
    for name in names:
        variables = hostvars[name]
        present = {key: variables[key] for key in specs if key in variables}
        errors += [e for e in variable_errors(present, specs) if e not in errors]
    if errors:
        return errors  # the checks below read these settings
    hosts = _swarm.describe_hosts(names, hostvars)
    first = hostvars[names[0]] if names else {}
    lb_group = first.get("stack_lb_group") or "load_balancers"
    errors += _swarm.inventory_errors(hosts, groups.get(lb_group) or [], lb_group)
    if _truthy(first.get("managed_network_enabled"), True) and groups.get("swarm_managers"):
        tls = _truthy(first.get("paddock_tls"), True)
        settings = {
            "range": first.get("managed_network_range", "10.42.0.0/16"),
            "host_prefix": first.get("managed_network_host_prefix", 24),
            "auth": first.get("managed_network_auth", "certificate" if tls else "psk"),
            "tls": tls,
            "psk": first.get("managed_network_psk", ""),
        }
        errors += _network.config_errors(settings, hosts, first.get("docker_default_address_pools") or [])
    errors += _access.users_errors(first.get("paddock_users"))
    errors += _access.member_allow_errors(first.get("paddock_member_allow"))
    errors += _access.admin_networks_errors(first.get("paddock_admin_networks"))
    errors += _access.console_errors({key: first[key] for key in _access.CONSOLE_SETTINGS if key in first})
    errors += _images.errors(first.get("paddock_images") or [], inventory_dir)
    errors += _certificates.errors(first.get("paddock_certificates"), inventory_dir, now)
    errors += _pki.renewal_errors(first, {name: spec.get("default") for name, (_, spec) in specs.items()})
    errors += _backup.settings_errors(first)
    addresses = {}
    for host in hosts:
        addresses.setdefault(host["addr"], host["name"])
        addresses.setdefault(str(hostvars[host["name"]].get("ansible_host", "")), host["name"])
    errors += _vips.errors(first.get("paddock_lb_vips"), groups, addresses, lb_group)
    return errors
