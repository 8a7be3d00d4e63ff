"""What a user sees on hosts provisioned from bare containers by site.yml."""

import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
import labtest  # noqa: E402
from labtest import (  # noqa: E402
    TEST_IMAGE,
    build_test_image,
    failures,
    nodes,
    on_host,
    on_hosts,
    playbook_recording_ssh,
    recap,
)

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))
INVENTORY = os.path.join(SCENARIO, "inventory")


def hostvars(host):
    return host.ansible.get_variables()


def playbook(*args):
    """Run a playbook against this scenario's hosts the way a user would."""
    return labtest.playbook(INVENTORY, *args)


def ssh(host, key, command):
    variables = hostvars(host)
    key_path = os.path.expanduser(os.path.join(variables["lab_state_dir"], key))
    return subprocess.run(
        ["ssh", "-i", key_path, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         f"root@{variables['ansible_host']}", command],
        capture_output=True, text=True, timeout=30)


def test_hostname_comes_from_the_cloud_config(host):
    assert host.check_output("hostname") == hostvars(host)["inventory_hostname"]


def test_the_cloud_config_key_logs_in_over_ssh(host):
    login = ssh(host, "operator", "hostname")
    assert login.returncode == 0, login.stderr
    assert login.stdout.strip() == hostvars(host)["inventory_hostname"]


def test_a_key_not_in_the_cloud_config_is_refused(host, tmp_path):
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    variables = hostvars(host)
    login = subprocess.run(
        ["ssh", "-i", str(stranger), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         f"root@{variables['ansible_host']}", "true"], capture_output=True, text=True, timeout=30)
    assert login.returncode == 255
    assert "Permission denied" in login.stderr


def test_write_files_lands_with_its_content_mode_and_owner(host):
    motd = host.file("/etc/motd")
    assert motd.content_string == "This host is provisioned by Paddock from its cloud-config.\n"
    assert (motd.mode, motd.user, motd.group) == (0o644, "root", "root")
    release = host.file("/etc/paddock/release")
    assert release.content_string == "paddock 0.1.0\n"  # decoded from gz+b64
    assert release.mode == 0o640


def test_the_resolver_uses_the_cloud_config_nameservers_and_search(host):
    assert host.file("/etc/resolv.conf").content_string.splitlines()[1:] == [
        "search lab.paddock.internal", "nameserver 127.0.0.11"]
    peer = f"{hostvars(host)['lab_name']}-mol02"
    assert host.run(f"getent hosts {peer}").rc == 0


def test_the_second_interface_gets_addresses_mtu_and_gateway(host):
    variables = hostvars(host)
    link = json.loads(host.check_output("ip -j addr show dev eth1"))[0]
    addresses = {f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"]}
    last = variables["ansible_host"].split(".")[-1]
    data = variables["lab_data_address"].rsplit(".", 1)[0]
    assert {f"{data}.{int(last) + 100}/24", f"10.6.0.{last}/24"} <= addresses
    assert link["mtu"] == 1450
    routes = json.loads(host.check_output("ip -j route show default"))
    assert {(r["dev"], r.get("gateway")) for r in routes} >= {
        ("eth0", variables["lab_network"]["gateway"]), ("eth1", variables["lab_data_network"]["gateway"])}
    assert host.service("paddock-network").is_enabled


def test_mounts_are_mounted_and_in_fstab(host):
    mount = host.mount_point("/mnt/scratch")
    assert mount.exists and mount.filesystem == "tmpfs"
    assert "tmpfs /mnt/scratch tmpfs size=16m,mode=1777 0 0" in host.file("/etc/fstab").content_string


def test_check_mode_on_the_converged_hosts_changes_nothing():
    """Molecule's own check step is left out of this scenario: it fails only on an error, this
    asserts that nothing would change."""
    run = playbook("site.yml", "--check", "--diff")
    assert run.returncode == 0, run.stdout[-3000:]
    hosts = recap(run.stdout)
    assert set(hosts) == {"localhost", "mol01", "mol02", "mol03"}  # localhost: the swarm planning plays
    assert all(counts["changed"] == 0 and counts["failed"] == 0 for counts in hosts.values()), hosts


def test_runcmd_ran_exactly_once_across_converge_idempotence_and_the_check_run(host):
    assert host.file("/var/log/paddock-runcmd.log").content_string == "runcmd ran in lab\n"


def test_docker_runs_with_the_configured_daemon_json(host):
    assert host.service("docker").is_running
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["LoggingDriver"] == "json-file"
    # The platform's registry (on mol01) is trusted through the environment's CA, not as insecure.
    assert all(index["Secure"] for index in info["RegistryConfig"]["IndexConfigs"].values())
    assert host.file("/etc/docker/certs.d/10.3.1.4:5000/ca.crt").contains("BEGIN CERTIFICATE")
    daemon = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert daemon["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert daemon["live-restore"] is False  # every lab host is a Swarm node
    assert daemon["cgroup-parent"] == f"/paddock-lab/{hostvars(host)['inventory_hostname']}"


def audit_report(output):
    """{host: {check id: (PASS or FAIL, detail)}} from the audit playbook's report."""
    report, host = {}, None
    for line in output.splitlines():
        started = re.match(r"^ok: \[(\w+)\] =>", line)
        if started:
            host = started.group(1)
            continue
        found = re.match(r"^\s+(PASS|FAIL) (\S+)\s+(.*?): (.*)$", line)
        if found and host:
            report.setdefault(host, {})[found.group(2)] = (found.group(1), found.group(4))
    return report


def test_the_audit_passes_every_hardening_check_the_lab_can_hold():
    run = playbook("playbooks/audit.yml", "-e", "audit_fail_on_failed=false")
    assert run.returncode == 0, failures(run.stdout)
    report = audit_report(run.stdout)
    assert set(report) == {"mol01", "mol02", "mol03", "localhost"}
    common = {"2.1", "2.2", "2.4", "2.6", "2375", "2.13", "2.15", "2.16", "2.18", "3.17", "3.15", "3.x"}
    # Every engine's own TLS files and Swarm's node certificates; the registry's on its host.
    certs = {f"cert:{path}" for path in ("/etc/docker/tls/ca.pem", "/etc/docker/tls/server-cert.pem",
                                         "/var/lib/docker/swarm/certificates/swarm-node.crt",
                                         "/var/lib/docker/swarm/certificates/swarm-root-ca.crt")}
    registry = "cert:/etc/docker/registry/tls/cert.pem"
    for host in ("mol01", "mol02", "mol03"):
        results = report[host]
        checks = {check for check in results if not check.startswith("cert:")}
        assert checks == common | ({"7.3", "7.6"} if host == "mol01" else set()), (host, results)
        assert certs <= set(results), (host, sorted(results))
        failed = {check: detail for check, (verdict, detail) in results.items() if verdict == "FAIL"}
        # The lab keeps the userland proxy: /proc/sys is read-only in its host containers
        # (docs/access-control.md, Hardening).
        assert failed == {"2.16": "userland-proxy True, 0 docker-proxy processes"}, (host, failed)
        assert results["2.4"] == ("PASS", "none")
        assert results["2375"] == ("PASS", "closed")
        assert results["2.6"] == ("PASS", "dockerd listens on 2376 with tlsverify True")
        assert results["2.18"] == ("PASS", "on")
        assert re.match(r"\S+: expires \d{4}-\d\d-\d\d \(8[0-9][0-9] days left; site.yml renews it within 30 days\)$",
                        results["cert:/etc/docker/tls/server-cert.pem"][1])
    assert [host for host in ("mol01", "mol02", "mol03") if registry in report[host]] == ["mol01"]  # 10.3.1.4
    assert report["mol01"]["7.3"] == ("PASS", "2377 on one address")
    # On the controller: the CA and each user's bundle, nothing else (never a key).
    pki = os.path.expanduser("~/.paddock/paddock-mol-default/pki")
    assert {f"cert:{pki}/ca.pem", f"cert:{pki}/users/alice/cert.pem", f"cert:{pki}/users/bob/cert.pem"} <= set(
        report["localhost"]), sorted(report["localhost"])
    assert not [check for check in report["localhost"] if "key" in check]
    assert all(verdict == "PASS" for verdict, _ in report["localhost"].values()), report["localhost"]
    # What each certificate has left on a fresh lab: years for the CAs (3,650 days) and the
    # engines' (825), a year for the users' (365), and Swarm's 90 days, which Swarm renews itself.
    # Nothing the suite relies on ends within days of its run.
    left = {(host, check): int(re.search(r"\((\d+) days left", detail).group(1))
            for host, results in report.items() for check, (_, detail) in results.items() if check.startswith("cert:")}
    floors = [("/swarm/", 85), ("/users/", 360), ("ca.pem", 3600), ("", 820)]
    short = {key: days for key, days in left.items()
             if days < next(floor for part, floor in floors if part in key[1])}
    assert not short, short
    earliest = re.search(r"The earliest certificate expiry: (\w+): (\S+): .*?\((\d+) days left",
                         re.sub(r"\s+", " ", run.stdout))  # the report's line, as the YAML output folds it
    assert earliest, run.stdout[-2000:]
    assert int(earliest.group(3)) == min(left.values()), (earliest.group(0), min(left.values()))
    assert "/swarm/certificates/" in earliest.group(2), earliest.group(0)  # Swarm's 90 days come first
    # By default a failed check fails the run, after every host has reported. A threshold past
    # the users' one-year certificates fails those, on the controller, and nothing else.
    strict = playbook("playbooks/audit.yml", "-e", "audit_renew_days=400")
    assert strict.returncode != 0
    strict_report = audit_report(strict.stdout)
    for host in ("mol01", "mol02", "mol03"):
        assert f"1 of {len(strict_report[host])} checks failed: 2.16" in strict.stdout, failures(strict.stdout)
    users = sorted(check for check in strict_report["localhost"] if "/users/" in check)
    assert {check for check, (verdict, _) in strict_report["localhost"].items() if verdict == "FAIL"} == set(users)
    assert re.match(r"alice: expires .* \(36[0-9] days left; site.yml renews it within 400 days\)$",
                    strict_report["localhost"][f"cert:{pki}/users/alice/cert.pem"][1])
    assert all(counts["changed"] == 0 for counts in recap(strict.stdout).values())


def test_a_bad_cloud_config_stops_the_run_before_any_host_changes():
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as bad:
        bad.write("rancher:\n  network:\n    interfaces:\n      eth1: {mtu: big}\n")
    marker = "/etc/paddock-must-not-exist"
    sources = {"mol02": "cloud-config/missing.yml", "mol03": bad.name}
    others = ["cloud-config/common.yml", {"write_files": [{"path": marker, "content": "x"}]}]
    extra = {"cloud_config_defaults": "{{ %r.get(inventory_hostname, %r) }}" % (sources, others)}  # noqa: UP031 Jinja braces
    run, ssh_calls = playbook_recording_ssh(INVENTORY, "site.yml", "-e", json.dumps(extra))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "mol02: molecule/default/inventory/cloud-config/missing.yml: file not found (named by " \
           "cloud_config_defaults in -e (the command line's extra vars))" in output
    assert f"mol03: {bad.name}:4: rancher.network.interfaces.eth1.mtu: must be an integer, " \
           "got string 'big'" in output
    assert ssh_calls == []  # stopped in validation, before any connection to a host
    assert on_host(INVENTORY, "mol01", f"test -e {marker} && echo present || echo absent") == "absent"
    os.unlink(bad.name)


def test_then_a_swarm_made_by_hand_replaces_it_and_is_adopted_without_reinit_or_restarts():
    """It replaces the swarm site.yml formed with one made by hand, run by mol02, a worker in the inventory."""
    build_test_image(INVENTORY, "paddock")
    on_hosts(INVENTORY, "paddock", "docker swarm leave --force")
    on_host(INVENTORY, "mol02", "docker swarm init --advertise-addr 10.3.1.5")
    token = on_host(INVENTORY, "mol02", "docker swarm join-token -q worker")
    on_hosts(INVENTORY, "mol01:mol03", f"docker swarm join --token {token} 10.3.1.5:2377")
    on_host(INVENTORY, "mol02", f"docker service create -q --name handmade --replicas 3 --no-resolve-image "
                                f"{TEST_IMAGE}")
    cluster = on_host(INVENTORY, "mol02", "docker info --format '{{.Swarm.Cluster.ID}}'")
    containers = on_hosts(INVENTORY, "paddock", "docker ps -q --filter label=com.docker.swarm.service.name=handmade")

    check = playbook("site.yml", "--check", "--diff")
    assert check.returncode == 0, failures(check.stdout)
    assert recap(check.stdout)["mol01"]["changed"] > 0  # it reports the promotion it would make...
    assert nodes(INVENTORY, "mol02")["mol01"]["ManagerStatus"] == ""  # ...and makes none

    run = playbook("site.yml")
    assert run.returncode == 0, failures(run.stdout)
    assert on_host(INVENTORY, "mol01", "docker info --format '{{.Swarm.Cluster.ID}}'") == cluster
    listing = nodes(INVENTORY, "mol01")
    assert listing["mol01"]["ManagerStatus"] == "Leader" or listing["mol01"]["ManagerStatus"] == "Reachable"
    assert listing["mol02"]["ManagerStatus"] == ""  # the inventory says worker
    assert on_hosts(INVENTORY, "paddock", "docker ps -q --filter label=com.docker.swarm.service.name=handmade") \
        == containers  # no running task restarted
    again = playbook("site.yml")
    assert {h: c["changed"] for h, c in recap(again.stdout).items()} == dict.fromkeys(
        ["localhost", "mol01", "mol02", "mol03"], 0)


def test_after_the_adoption_autolock_keeps_the_unlock_key_in_vault_and_unlocks_a_restarted_manager(tmp_path):
    """After the adoption test: mol01 is the manager."""
    password, key_file = tmp_path / "vault-pass", tmp_path / "unlock.yml"
    password.write_text("paddock-test-vault-password\n")
    os.environ["ANSIBLE_VAULT_PASSWORD_FILE"] = str(password)
    try:
        on = playbook("site.yml", "-e", "swarm_autolock=true", "-e", f"swarm_unlock_key_file={key_file}")
        assert on.returncode == 0, failures(on.stdout)
        key = on_host(INVENTORY, "mol01", "docker swarm unlock-key -q")
        vaulted = key_file.read_text()
        assert "$ANSIBLE_VAULT;1.1;AES256" in vaulted and key not in vaulted
        assert key not in on.stdout and key not in on.stderr

        on_host(INVENTORY, "mol01", "systemctl restart docker")
        assert on_host(INVENTORY, "mol01", "docker info --format '{{.Swarm.LocalNodeState}}'") == "locked"
        unlocked = playbook("site.yml", "-e", "swarm_autolock=true", "-e", f"@{key_file}",
                            "-e", f"swarm_unlock_key_file={key_file}")
        assert unlocked.returncode == 0, failures(unlocked.stdout)
        assert on_host(INVENTORY, "mol01", "docker info --format '{{.Swarm.LocalNodeState}}'") == "active"
        assert key not in unlocked.stdout

        off = playbook("site.yml", "-e", "swarm_autolock=false", "-e", f"@{key_file}")
        assert off.returncode == 0, failures(off.stdout)
        assert on_host(INVENTORY, "mol01", "docker info --format "
                                           "'{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}'") == "false"
    finally:
        del os.environ["ANSIBLE_VAULT_PASSWORD_FILE"]
