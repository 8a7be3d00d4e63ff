"""What backup.yml and restore.yml decide: the manager copied, the backups kept, and whether a
backup fits the inventory (plugins/module_utils/_backup.py)."""

from __future__ import annotations

import pytest

from ansible_collections.paddock.platform.plugins.module_utils._backup import expired, restore_problems, source


def manager(host, leader=False, answered=True, reachable=True, cluster="c1", autolock=False):
    return {"host": host, "answered": answered, "leader": leader, "reachable": reachable, "cluster": cluster,
            "autolock": autolock}


def test_a_follower_is_copied_so_that_the_leader_and_the_quorum_stay():
    chosen = source([manager("m1", leader=True), manager("m2"), manager("m3")])
    assert (chosen["host"], chosen["keeps_quorum"], chosen["errors"]) == ("m3", True, [])
    assert "warning" not in chosen
    # A follower that does not answer is not chosen; the quorum is counted on those that do.
    chosen = source([manager("m1"), manager("m2", leader=True), manager("m3", answered=False)])
    assert (chosen["host"], chosen["keeps_quorum"]) == ("m1", False)
    assert "leaves no quorum" in chosen["warning"]


def test_one_manager_is_copied_with_a_warning_that_the_swarm_pauses():
    chosen = source([manager("m1", leader=True, autolock=True)])
    assert (chosen["host"], chosen["keeps_quorum"], chosen["autolock"]) == ("m1", False, True)
    assert chosen["warning"].startswith("with 1 manager(s) answering, stopping m1's engine")


@pytest.mark.parametrize(("states", "message"), [
    ([], "no manager of the inventory answers"),
    ([manager("m1", answered=False)], "no manager of the inventory answers"),
    ([manager("m1", leader=True), manager("m2", cluster="c2", leader=True)], "in 2 different swarms (c1, c2)"),
])
def test_no_swarm_or_two_swarms_is_refused(states, message):
    assert message in source(states)["errors"][0]


def test_the_newest_backups_are_kept_and_nothing_else_is_touched():
    names = ["20261130T120000Z", "20261129T120000Z", "notes.txt", "20261130T110000Z", "20261128T000000Z.partial"]
    assert expired(names, 2) == ["20261129T120000Z"]
    assert expired(names, 7) == []
    with pytest.raises(ValueError, match="keep must be at least 1"):
        expired(names, 0)


def test_a_backup_of_another_environment_or_a_locked_swarm_without_its_key_is_refused():
    manifest = {"format": 1, "environment": "prod", "autolock": True, "parts": {"swarm": {}, "pki": {}}}
    assert restore_problems(manifest, "prod", True) == []
    problems = restore_problems(manifest, "staging", False)
    assert problems[0].startswith("manifest.json: environment: the backup is of 'prod', the inventory's is 'staging'")
    assert "its unlock key is needed" in problems[1]
    assert restore_problems({"format": 2}, "prod", True) == ["manifest.json: not a Paddock backup manifest (format 1)"]
    assert restore_problems({**manifest, "parts": {"pki": {}}}, "prod", True) == [
        "manifest.json: parts: the backup holds no swarm state"]


def test_restore_runs_site_yml_s_playbooks_after_provisioning_in_the_same_order():
    """restore.yml runs validation, the PKI and provisioning, restores the swarm, then the rest of
    site.yml: a playbook added to site.yml must be added there too."""
    import os

    import yaml

    root = os.path.join(os.path.dirname(__file__), "..", "..")

    def imports(path):
        with open(os.path.join(root, path)) as handle:
            plays = yaml.safe_load(handle)
        return [os.path.basename(p["ansible.builtin.import_playbook"]) for p in plays
                if "ansible.builtin.import_playbook" in p]

    site, restore = imports("site.yml"), imports("playbooks/restore.yml")
    assert restore[:3] == site[:3] == ["validate.yml", "pki.yml", "provision.yml"]
    assert restore[3:] == site[3:]
