"""A host with no init system: Paddock still provisions it and starts its engine."""

import json


def test_the_host_really_has_no_init_system(host):
    assert host.file("/proc/1/comm").content_string.strip() == "sshd"
    assert not host.file("/run/systemd/system").exists


def test_dockerd_runs_and_answers(host):
    assert host.process.filter(comm="dockerd")
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["LoggingDriver"] == "json-file"


def test_live_restore_is_on_for_a_host_outside_the_swarm(host):
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["LiveRestoreEnabled"] is True


def test_the_cloud_config_applies_without_systemd(host):
    assert host.check_output("hostname") == "bare01"
    assert host.file("/etc/paddock/network.sh").contains("ip addr replace 10.6.0.4/24 dev eth1")
    assert host.mount_point("/mnt/scratch").exists


def test_the_host_agent_runs_without_an_init_system(host):
    metrics = host.check_output("python3 -c \"import urllib.request as u; "
                                "print(u.urlopen('http://127.0.0.1:9100/metrics').read().decode())\"")
    assert "node_memory_MemAvailable_bytes" in metrics
    assert 'paddock_containers{state="running"}' in metrics


def test_a_host_in_no_swarm_group_is_a_plain_docker_host(host):
    assert host.check_output("docker info --format '{{.Swarm.LocalNodeState}}'") == "inactive"
