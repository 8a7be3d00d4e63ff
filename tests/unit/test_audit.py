"""The hardening checks of playbooks/audit.yml, judged from a host's probe."""

import copy

import pytest

from ansible_collections.paddock.platform.plugins.module_utils._audit import checks

GOOD = {
    "daemon_json": {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}, "icc": False,
                    "userland-proxy": False, "no-new-privileges": True, "live-restore": False},
    "info": {"LoggingDriver": "json-file", "LiveRestoreEnabled": False,
             "SecurityOptions": ["name=seccomp,profile=default", "name=no-new-privileges"],
             "RegistryConfig": {"InsecureRegistryCIDRs": ["127.0.0.0/8"],
                                "IndexConfigs": {"docker.io": {"Secure": True}}},
             "Swarm": {"Cluster": {"Spec": {"EncryptionConfig": {"AutoLockManagers": False}}}}},
    "bridge": {"com.docker.network.bridge.enable_icc": "false"},
    "listeners": [{"port": 22, "any": True, "process": "sshd"}, {"port": 2377, "any": False, "process": "dockerd"}],
    "docker_proxies": 0,
    "files": {"/etc/docker/daemon.json": {"mode": "644", "owner": "root", "group": "root"},
              "/var/run/docker.sock": {"mode": "660", "owner": "root", "group": "docker"}},
}


def failed(probe, swarm_node=True, autolock=False):
    return {c["id"]: c["detail"] for c in checks(probe, swarm_node, autolock) if not c["passed"]}


def test_a_hardened_swarm_manager_passes_every_check():
    results = checks(GOOD, True, False)
    assert [c["id"] for c in results] == ["2.1", "2.2", "2.4", "2.6", "2375", "2.13", "2.15", "2.16", "2.18",
                                          "3.17", "3.15", "3.x", "7.3", "7.6"]
    assert all(c["passed"] for c in results), results


def change(path, value):
    probe = copy.deepcopy(GOOD)
    node = probe
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return probe


@pytest.mark.parametrize("path,value,check,detail", [
    (["bridge", "com.docker.network.bridge.enable_icc"], "true", "2.1", "the bridge network's enable_icc is true"),
    (["daemon_json", "log-level"], "debug", "2.2", "log-level debug, debug False"),
    (["info", "RegistryConfig", "IndexConfigs", "10.3.0.4:5000"], {"Secure": False}, "2.4",
     "insecure: 10.3.0.4:5000"),
    (["listeners"], [*GOOD["listeners"], {"port": 2376, "any": True, "process": "dockerd"}], "2.6",
     "dockerd listens on 2376 with tlsverify False"),
    (["listeners"], [*GOOD["listeners"], {"port": 2375, "any": True, "process": "socat"}], "2375", "open, by socat"),
    (["daemon_json", "log-opts"], {}, "2.13", "log driver json-file, max-size unlimited, max-file 1"),
    (["info", "LiveRestoreEnabled"], True, "2.15", "live-restore on on a Swarm node"),
    (["docker_proxies"], 2, "2.16", "userland-proxy False, 2 docker-proxy processes"),
    (["info", "SecurityOptions"], [], "2.18", "in daemon.json, but the engine has not restarted since"),
    (["files", "/etc/docker/daemon.json"], {"mode": "666", "owner": "root", "group": "root"}, "3.17",
     "root:root 666"),
    (["files", "/var/run/docker.sock"], {"mode": "666", "owner": "root", "group": "docker"}, "3.15",
     "root:docker 666"),
    (["files", "/etc/docker/tls/server-key.pem"], {"mode": "644", "owner": "root", "group": "root"}, "3.x",
     "too open: /etc/docker/tls/server-key.pem"),
    (["listeners", 1, "any"], True, "7.3", "2377 on every address"),
    (["listeners"], GOOD["listeners"][:1], "7.3", "2377 not listening"),
    (["info", "Swarm", "Cluster", "Spec", "EncryptionConfig", "AutoLockManagers"], True, "7.6",
     "autolock on, inventory swarm_autolock False"),
])
def test_each_weakness_fails_its_own_check_only(path, value, check, detail):
    assert failed(change(path, value)) == {check: detail}


def test_no_new_privileges_counts_from_daemon_json_once_the_engine_restarted_after_it():
    probe = change(["info", "SecurityOptions"], [])
    probe.update(dockerd_started=1000.0, daemon_json_changed=900.0)
    assert failed(probe) == {}
    probe["daemon_json"] = {**probe["daemon_json"], "no-new-privileges": False}
    assert failed(probe) == {"2.18": "off"}


def test_live_restore_must_be_on_outside_swarm_and_autolock_is_not_judged_there():
    assert failed(GOOD, swarm_node=False, autolock=None) == {
        "2.15": "live-restore off on a host outside Swarm"}


def test_an_engine_that_does_not_answer_is_one_failed_check():
    assert failed({**GOOD, "info": None}) == {"engine": "docker info failed: is the engine running?"}
