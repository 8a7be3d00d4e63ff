"""What backup.yml and restore.yml decide: the manager copied, the backups kept, and whether a
backup fits the inventory (plugins/module_utils/_backup.py)."""

from __future__ import annotations

import pytest

from ansible_collections.paddock.platform.plugins.module_utils._backup import (
    data_problems,
    expired,
    manifest_parts,
    part_files,
    restore_problems,
    source,
    volume_selection,
)


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


def volume(name, labels=None, options=None, driver="local"):
    return {"Name": name, "Driver": driver, "Labels": labels, "Options": options,
            "Mountpoint": f"/var/lib/docker/volumes/{name}/_data"}


def test_the_named_local_volumes_matching_a_pattern_are_copied_and_the_others_say_why_not():
    anonymous = "0123456789abcdef" * 4
    listed = [volume("wordpress_db", {"com.docker.stack.namespace": "wordpress"}), volume("other"),
              volume("wordpress_nfs", options={"type": "nfs", "o": "addr=10.0.0.1", "device": ":/srv"}),
              volume(anonymous), volume("wordpress_plugin", driver="rexray"), volume("wordpress_cache")]
    chosen = volume_selection(listed, ["wordpress_*", anonymous])
    assert chosen["chosen"] == [{"name": "wordpress_cache", "labels": {}},
                                {"name": "wordpress_db", "labels": {"com.docker.stack.namespace": "wordpress"}}]
    assert chosen["skipped"] == [f"{anonymous}: anonymous (a task started after a restore gets a new one)",
                                 "wordpress_nfs: mounts storage of its own (device=:/srv, type=nfs): back it up "
                                 "where it lives"]
    assert volume_selection(listed, []) == {"chosen": [], "skipped": []}
    assert [v["name"] for v in volume_selection(listed, ["*"])["chosen"]] == [
        "other", "wordpress_cache", "wordpress_db"]


@pytest.mark.parametrize(("volumes", "registry", "problems"), [
    (["wordpress_*"], True, []),
    ([], "yes", []),
    ("wordpress_*", False, ["paddock_backup_volumes: must be a list of volume names or patterns (such as "
                            "wordpress_* or *), got 'wordpress_*'"]),
    ([""], "maybe", ["paddock_backup_volumes: must be a list of volume names or patterns (such as wordpress_* "
                     "or *), got ['']", "paddock_backup_registry: must be true or false, got 'maybe'"]),
])
def test_the_data_asked_for_is_checked_before_any_host_is_touched(volumes, registry, problems):
    assert data_problems(volumes, registry) == problems


def test_the_manifest_names_each_part_by_its_file():
    stats = [{"path": "/b/20261130T120000Z/volumes-sw04.tar.gz.gpg", "checksum": "c3", "size": 30},
             {"path": "/b/20261130T120000Z/swarm.tar.gz.vault", "checksum": "c1", "size": 10},
             {"path": "/b/20261130T120000Z/key.vault", "checksum": "c2", "size": 20}]
    parts = manifest_parts(stats)
    assert parts == {"key": {"file": "key.vault", "checksum": "c2", "size": 20},
                     "swarm": {"file": "swarm.tar.gz.vault", "checksum": "c1", "size": 10},
                     "volumes-sw04": {"file": "volumes-sw04.tar.gz.gpg", "checksum": "c3", "size": 30}}
    manifest = {"format": 1, "environment": "prod", "parts": parts,
                "volumes": {"sw04": [{"name": "app_data", "labels": {}}]}}
    assert restore_problems(manifest, "prod", False) == []
    # A backup taken before 0.11 names no file: each part is PART.tar.gz.vault.
    assert part_files({"parts": {"swarm": {"checksum": "c1"}}}) == {"swarm": "swarm.tar.gz.vault"}


@pytest.mark.parametrize(("change", "problem"), [
    ({"parts": {"swarm": {"file": "../../etc/shadow.vault"}}, "volumes": {}},
     "parts: swarm: not a file of the backup's directory"),
    ({"parts": {"swarm": {"file": "swarm.tar.gz.vault"}, "registry": {"file": "registry.tar.gz.gpg"}}, "volumes": {}},
     "parts: key: the data parts' key is missing"),
    ({"volumes": {"sw04": [{"name": "app; rm -rf /", "labels": {}}]}}, "volumes: sw04: 'app; rm -rf /': not a volume"),
    ({"volumes": {"sw05": [{"name": "app_data", "labels": {}}]}}, "volumes: sw05: no list of volumes with its part"),
])
def test_a_manifest_whose_names_would_reach_a_command_unchecked_is_refused(change, problem):
    manifest = {"format": 1, "environment": "prod",
                "parts": {"swarm": {"file": "swarm.tar.gz.vault"}, "key": {"file": "key.vault"},
                          "volumes-sw04": {"file": "volumes-sw04.tar.gz.gpg"}},
                "volumes": {"sw04": [{"name": "app_data", "labels": {}}]}}
    problems = restore_problems({**manifest, **change}, "prod", False)
    assert len(problems) == 1 and problems[0].startswith(f"manifest.json: {problem}"), problems


def test_hosts_joining_a_restored_swarm_get_back_their_managed_subnets():
    """restore.yml removes the backup's other nodes and keeps their documents; swarm.yml plans the
    managed network with them before the swarm's own nodes, so each host that joins again gets
    the subnet it had, not the next free one in join order."""
    from ansible_collections.paddock.platform.plugins.module_utils._network import plan

    def node(host, subnet):
        return {"Spec": {"Labels": {"paddock.inventory_hostname": host, "paddock.managed.subnet": subnet}}}

    removed = [node("n2", "10.42.2.0/24"), node("n3", "10.42.1.0/24"), node("n1", "10.42.9.0/24")]
    live = [node("n1", "10.42.0.0/24")]  # the restored manager, its node kept
    addresses = {"n1": "192.0.2.1", "n2": "192.0.2.2", "n3": "192.0.2.3"}
    planned = plan(["n1", "n2", "n3"], addresses, removed + live, "10.42.0.0/16", 24)
    assert planned["errors"] == []
    assert planned["subnets"] == {"n1": "10.42.0.0/24", "n2": "10.42.2.0/24", "n3": "10.42.1.0/24"}
    # Without them, the hosts would be numbered by the order they join.
    assert plan(["n1", "n2", "n3"], addresses, live, "10.42.0.0/16", 24)["subnets"]["n2"] == "10.42.1.0/24"


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
