"""A role's read-only probe of a host, parsed."""

from ansible_collections.paddock.platform.plugins.module_utils._probe import parse_probe, running_at_boot


def test_the_probe_reads_files_installed_packages_and_service_state():
    state = parse_probe([
        "file /etc/docker/daemon.json 644 3f786850e387550fdab836ed7e6dc881de23001b",
        "pkg docker.io 20.10.24+dfsg1-1+deb12u1+b6 installed",
        "pkg docker-ce  not-installed",
        "systemd docker active enabled",
        "pidfile docker 0",
    ])
    assert state == {"files": {"/etc/docker/daemon.json": "644 3f786850e387550fdab836ed7e6dc881de23001b"},
                     "packages": {"docker.io": "20.10.24+dfsg1-1+deb12u1+b6"},
                     "systemd": {"docker": {"active": True, "enabled": True}}, "pidfiles": {"docker": True}}
    assert running_at_boot(state, "docker") is True


def test_a_stopped_or_disabled_unit_is_not_running_at_boot():
    assert running_at_boot(parse_probe(["systemd docker inactive enabled"]), "docker") is False
    assert running_at_boot(parse_probe(["systemd docker active disabled"]), "docker") is False


def test_a_host_without_systemd_or_engine_probes_empty():
    assert parse_probe(["pidfile docker 3"]) == {"files": {}, "packages": {}, "systemd": None,
                                                 "pidfiles": {"docker": False}}
    assert running_at_boot(parse_probe([]), "docker") is False
