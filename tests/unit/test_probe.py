"""A role's read-only probe of a host (plugins/modules/host_probe.py) and what roles read from it."""

import hashlib
import os

from ansible_collections.paddock.platform.plugins.module_utils._probe import (
    differs,
    directories_differ,
    file_digests,
    files_differ,
    running_at_boot,
)
from ansible_collections.paddock.platform.plugins.modules.host_probe import (
    parse_packages,
    parse_units,
    pid_alive,
    read_file,
    read_tree,
)

SHA1_OF_X = hashlib.sha1(b"x\n").hexdigest()


def test_the_wanted_files_travel_as_digests_never_as_content():
    wanted = {"/etc/a": {"content": "x\n", "mode": "0600", "owner": "root", "path": "ignored"}}
    assert file_digests(wanted) == {"/etc/a": {"mode": "0600", "owner": "root", "sha1": SHA1_OF_X}}


def test_a_file_differs_when_missing_or_its_content_mode_or_owner_differ():
    found = {"mode": "0644", "owner": "root", "group": "root", "sha1": SHA1_OF_X}
    assert differs(found, {"sha1": SHA1_OF_X, "mode": "644"}) is False
    assert differs(found, {"sha1": SHA1_OF_X, "mode": "0600"}) is True
    assert differs(found, {"sha1": "0" * 40, "mode": "0644"}) is True
    assert differs(found, {"sha1": SHA1_OF_X, "group": "docker-registry"}) is True
    assert differs(None, {"sha1": SHA1_OF_X}) is True


def test_files_compared_on_the_controller_name_the_paths_that_differ():
    found = {"/etc/a": {"mode": "0644", "owner": "root", "group": "root", "sha1": SHA1_OF_X}}
    wanted = {"/etc/a": {"content": "x\n", "mode": "0644"}, "/etc/b": {"content": "y", "mode": "0644"}}
    assert files_differ(wanted, found) == ["/etc/b"]


def test_a_file_is_read_with_its_mode_owner_and_digest(tmp_path):
    path = tmp_path / "f"
    path.write_text("x\n")
    os.chmod(path, 0o640)
    found = read_file(str(path))
    assert (found["mode"], found["sha1"]) == ("0640", SHA1_OF_X)
    assert read_file(str(tmp_path / "missing")) is None
    assert read_file(str(tmp_path)) is None


def test_installed_packages_only_are_reported():
    text = "docker.io 20.10.24+dfsg1-1+deb12u1 installed\ndocker-ce  not-installed\nstrongswan 5.9 config-files\n"
    assert parse_packages(text) == {"docker.io": "20.10.24+dfsg1-1+deb12u1"}


def test_units_are_read_in_the_order_asked_and_running_at_boot_needs_active_and_enabled():
    text = ("ActiveState=active\nUnitFileState=enabled\n\nActiveState=inactive\nUnitFileState=enabled\n\n"
            "ActiveState=active\nUnitFileState=disabled\n")
    units = parse_units(text, ["docker", "strongswan", "paddock-authz"])
    assert units["docker"] == {"active": True, "enabled": True}
    state = {"units": units}
    assert [running_at_boot(state, u) for u in ("docker", "strongswan", "paddock-authz", "gone")] == \
        [True, False, False, False]
    assert running_at_boot({"units": {}}, "docker") is False


def test_a_pidfile_is_alive_only_while_its_process_is(tmp_path):
    alive, dead = tmp_path / "alive.pid", tmp_path / "dead.pid"
    alive.write_text(f"{os.getpid()}\n")
    dead.write_text("999999999\n")
    assert pid_alive(str(alive)) is True
    assert pid_alive(str(dead)) is False
    assert pid_alive(str(tmp_path / "none.pid")) is False


def test_a_tree_is_read_whole_its_directories_with_their_modes_and_a_missing_one_is_empty(tmp_path):
    lb = tmp_path / "lb" / "web_lb"
    (lb / "certs").mkdir(parents=True)
    os.chmod(lb / "certs", 0o700)
    (lb / "haproxy.cfg").write_text("x\n")
    (lb / "certs" / "site.pem").write_text("x\n")
    os.symlink(lb / "haproxy.cfg", lb / "link")
    directories, files = read_tree(str(tmp_path / "lb"))
    assert directories == {str(tmp_path / "lb"): "0755", str(lb): "0755", str(lb / "certs"): "0700"}
    assert sorted(files) == [str(lb / "certs" / "site.pem"), str(lb / "haproxy.cfg")]
    assert files[str(lb / "haproxy.cfg")]["sha1"] == SHA1_OF_X
    assert read_tree(str(tmp_path / "missing")) == ({}, {})


def test_a_directory_differs_when_missing_or_its_mode_differs():
    found = {"/etc/paddock/lb/web": "0755", "/etc/paddock/lb/web/certs": "0755"}
    wanted = {"/etc/paddock/lb/web": "755", "/etc/paddock/lb/web/certs": "0700", "/etc/paddock/lb/api": "0755"}
    assert directories_differ(wanted, found) == ["/etc/paddock/lb/web/certs", "/etc/paddock/lb/api"]
    assert directories_differ({}, None) == []
