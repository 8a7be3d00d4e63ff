"""The bad-input suite: every case is a file (or a few) as a user writes it, run through the
same validation code as ``playbooks/validate.yml`` and ``playbooks/catalog.yml``, with no host.

Each case in ``bad_input/*.yml`` gives its input and either the exact messages a user reads
(``errors``) or ``valid: true`` (with the exact ``warnings``, if any). A case that expects an
error passes only if exactly those messages come out, in that order; a valid case passes only
if nothing is refused.

- ``cloud_config.yml``: ``text`` is one host's cloud-config file (``latin1: true`` saves it as
  Latin-1). It goes through ``cloud_config_validate``'s code.
- ``inventory.yml``: ``files`` is an inventory directory (``hosts.yml``, ``host_vars/``,
  ``group_vars/``, cloud-config files), ``extra_vars`` what ``-e`` would give. Ansible's own
  inventory and variable loaders read it (so values carry the file and line they came from),
  then ``inventory_validate``'s check and each host's cloud-config check run.
- ``stacks.yml``: ``compose`` and ``rancher`` are a stack's two files, listed in
  ``paddock_stacks`` as ``web``.
- ``answers.yml``: ``answers`` are given with ``-e answers=...`` to launch the catalog entry
  ``app`` of this file's ``catalog`` (``answers_file`` text is written and named instead).
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess

import pytest
import yaml

from ansible_collections.paddock.platform.plugins.module_utils._cloud_config_schema import check_sources
from ansible_collections.paddock.platform.plugins.module_utils._inventory import check as check_inventory
from ansible_collections.paddock.platform.plugins.module_utils._inventory import role_specs
from ansible_collections.paddock.platform.plugins.module_utils._stack_entries import Reader
from ansible_collections.paddock.platform.plugins.module_utils._stack_entries import check as check_stacks

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad_input")
ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "roles")
SPECS = role_specs(ROLES)
NOW = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)  # what certificates are judged at


def _load(name):
    with open(os.path.join(HERE, name)) as handle:
        return yaml.safe_load(handle)


def _cases(name):
    document = _load(name)
    cases = document["cases"] if isinstance(document, dict) else document
    return [pytest.param(case, id=case["name"]) for case in cases]


def _write(root, files):
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as handle:
            handle.write(text)


def _expect(case, errors, warnings=()):
    if case.get("valid"):
        assert errors == []
        assert list(warnings) == case.get("warnings", [])
    else:
        assert errors == case["errors"]


# ---------------------------------------------------------------------------------------------
# cloud-config


@pytest.mark.parametrize("case", _cases("cloud_config.yml"))
def test_cloud_config(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "node.yml").write_bytes(case["text"].encode("latin-1" if case.get("latin1") else "utf-8"))
    checked = check_sources([("node.yml", "cloud_config")], str(tmp_path))
    _expect(case, checked["errors"], checked["warnings"])


# ---------------------------------------------------------------------------------------------
# inventory


def _inventory(root, extra_vars):
    """(names, hostvars, groups) as Ansible loads them for validate.yml."""
    from ansible import context
    from ansible._internal._datatag._tags import Origin
    from ansible.inventory.manager import InventoryManager
    from ansible.module_utils.common.collections import ImmutableDict
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.vars import host_group_vars
    from ansible.utils.vars import load_extra_vars
    from ansible.vars.manager import VariableManager

    # The group_vars plugin caches paths by the name it was given (the playbook directory is the
    # working directory, which each case changes): forget the last case's, or they leak into this.
    for cache in (host_group_vars.FOUND, host_group_vars.NAK, host_group_vars.CANONICAL_PATHS):
        cache.clear()
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[os.path.join(root, "hosts.yml")])
    # As ansible-playbook's option parser gives it: the text tagged as coming from -e.
    given = Origin(description="<CLI option '-e'>").tag(json.dumps(extra_vars)) if extra_vars else None
    context.CLIARGS = ImmutableDict(extra_vars=(given,) if given else ())
    load_extra_vars.extra_vars = None  # it caches the first call's result
    variables = VariableManager(loader=loader, inventory=inventory)
    groups = {name: [h.name for h in group.get_hosts()] for name, group in inventory.groups.items()}
    names = groups.get("paddock", [])
    hostvars = {name: variables.get_vars(host=inventory.get_host(name)) for name in names}
    return names, hostvars, groups


def inventory_errors(root, extra_vars=None):
    names, hostvars, groups = _inventory(root, extra_vars)
    errors = check_inventory(names, hostvars, groups, root, SPECS, NOW)
    warnings = []
    if errors:  # validate.yml stops at the inventory's check
        return errors, warnings
    for name in names:
        variables = hostvars[name]
        if variables.get("node_state", "present") != "present":
            continue
        sources = [(s, variable) for variable in ("cloud_config_defaults", "cloud_config")
                   for s in _listed(variables.get(variable))]
        checked = check_sources(sources, root)
        errors += [f"{name}: {e}" for e in checked["errors"]]
        warnings += [f"{name}: {w}" for w in checked["warnings"]]
    return errors, warnings


def _listed(value):
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list) else [value]


@pytest.mark.parametrize("case", _cases("inventory.yml"))
def test_inventory(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = _load("inventory.yml")["base"]
    _write(tmp_path, {**base, **case.get("files", {})})
    errors, warnings = inventory_errors(str(tmp_path), case.get("extra_vars"))
    _expect(case, errors, warnings)


# ---------------------------------------------------------------------------------------------
# stacks and catalog answers


def stack_errors(root, stacks, launch=(), launch_answers=None, catalogs=()):
    reader = Reader(root, list(catalogs), launch_answers=launch_answers)
    checked = check_stacks(stacks, list(launch), reader, {})
    if not checked["errors"]:  # what Paddock accepts, Docker's own loader must take too
        for stack in checked["stacks"]:
            assert docker_refuses(stack.compose, root) is None
    return checked["errors"], checked["warnings"]


def docker_refuses(compose, root):
    """docker stack config's complaint about a rendered stack, or None (the oracle)."""
    path = os.path.join(root, "rendered-stack.json")
    with open(path, "w") as handle:
        json.dump(compose, handle)
    done = subprocess.run(["docker", "stack", "config", "--compose-file", path], capture_output=True, text=True,
                          env={**os.environ, "DOCKER_HOST": "unix:///nonexistent"})
    return None if done.returncode == 0 else done.stderr.strip()


@pytest.mark.parametrize("case", _cases("stacks.yml"))
def test_stack(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = {"web/docker-compose.yml": case["compose"]}
    if "rancher" in case:
        files["web/rancher-compose.yml"] = case["rancher"]
    _write(tmp_path, files)
    entry = {"name": case.get("stack", "web"), "path": "web"}
    if "variables" in case:
        entry["variables"] = case["variables"]
    errors, warnings = stack_errors(str(tmp_path), [entry])
    _expect(case, errors, warnings)


@pytest.mark.parametrize("case", _cases("answers.yml"))
def test_answers(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    catalog = _load("answers.yml")["catalog"]
    _write(tmp_path, {f"catalog/{path}": text for path, text in catalog.items()})
    launch = {"name": case.get("stack", "app"), "catalog": "app"}
    if "answers_file" in case:
        _write(tmp_path, {"answers.yml": case["answers_file"]})
        launch["answers_file"] = "answers.yml"
    errors, warnings = stack_errors(str(tmp_path), [], [launch], case.get("answers"), ["catalog"])
    _expect(case, errors, warnings)


def test_the_suite_has_the_promised_size():
    """At least 200 refusals and 30 valid-but-unusual inputs (issue 14)."""
    cases = [c for name in ("cloud_config.yml", "inventory.yml", "stacks.yml", "answers.yml")
             for c in (_load(name)["cases"] if isinstance(_load(name), dict) else _load(name))]
    assert len([c for c in cases if not c.get("valid")]) >= 200
    assert len([c for c in cases if c.get("valid")]) >= 30
