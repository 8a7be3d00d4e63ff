"""The hardening checks of playbooks/audit.yml, judged from a host's probe."""

import copy
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.paddock.platform.plugins.module_utils._audit import certificate_checks, checks, pem_blocks

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


# Certificates: real ones, made here with the dates each case needs.
NOW = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
KEY = ec.generate_private_key(ec.SECP256R1())


def certificate(name, days_left, lifetime=365):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    after = NOW + datetime.timedelta(days=days_left)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(KEY.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(after - datetime.timedelta(days=lifetime)).not_valid_after(after)
            .sign(KEY, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def judged(files, **options):
    return {c["id"]: (c["passed"], c["detail"])
            for c in certificate_checks(files, 30, NOW, "/var/lib/docker/swarm", **options)}


def test_a_certificate_passes_until_the_renewal_threshold_and_fails_within_it():
    assert judged({"/etc/docker/tls/cert.pem": [certificate("mol01", 31)]}) == {
        "cert:/etc/docker/tls/cert.pem": (True, "mol01: expires 2026-12-31 (31 days left; site.yml renews it "
                                                "within 30 days)")}
    assert judged({"/etc/docker/tls/cert.pem": [certificate("mol01", 29)]}) == {
        "cert:/etc/docker/tls/cert.pem": (False, "mol01: expires 2026-12-29 (29 days left; site.yml renews it "
                                                 "within 30 days)")}


def test_an_expired_certificate_says_so():
    assert judged({"/etc/docker/tls/ca.pem": [certificate("paddock CA", -3)]}) == {
        "cert:/etc/docker/tls/ca.pem": (False, "paddock CA: EXPIRED on 2026-11-27")}


def test_a_file_is_judged_by_the_certificate_in_it_that_expires_first():
    bundle = [certificate("leaf", 400), certificate("intermediate", 10)]
    assert judged({"/etc/docker/certs.d/r:5000/client.cert": bundle})[
        "cert:/etc/docker/certs.d/r:5000/client.cert"][0] is False


def test_swarms_own_certificates_fail_only_once_swarm_is_late_to_renew_them():
    # A 90-day node certificate: Swarm renews it somewhere between 45 and 18 days before its end.
    swarm = "/var/lib/docker/swarm/certificates/swarm-node.crt"
    assert judged({swarm: [certificate("node", 20, lifetime=90)]})[f"cert:{swarm}"] == (
        True, "node: expires 2026-12-20 (20 days left; Swarm renews it before 18 days are left)")
    assert judged({swarm: [certificate("node", 17, lifetime=90)]})[f"cert:{swarm}"][0] is False


def test_certificates_are_judged_only_as_of_a_time_the_caller_gives():
    with pytest.raises(TypeError, match="now must be an aware datetime"):
        certificate_checks({"/x.pem": [certificate("a", 100)]}, 30, None)
    with pytest.raises(TypeError, match="now must be an aware datetime"):
        certificate_checks({"/x.pem": [certificate("a", 100)]}, 30, datetime.datetime(2026, 11, 30))


def test_a_certificate_check_carries_its_end_and_the_earliest_across_hosts_is_reported():
    from ansible_collections.paddock.platform.plugins.filter.audit import audit_earliest
    swarm = "/var/lib/docker/swarm/certificates/swarm-node.crt"
    hostvars = {"localhost": {"audit_results": certificate_checks({"/pki/ca.pem": [certificate("CA", 3650)]}, 30,
                                                                  NOW)},
                "a": {"audit_results": [{"id": "2.1", "passed": True}]
                      + certificate_checks({swarm: [certificate("node", 89, lifetime=90)]}, 30, NOW,
                                           "/var/lib/docker/swarm")},
                "b": {}}
    assert hostvars["a"]["audit_results"][1]["expires"] == "2027-02-27T00:00:00+00:00"
    assert audit_earliest(["localhost", "a", "b"], hostvars) == (
        f"The earliest certificate expiry: a: {swarm}: node: expires 2027-02-27 (89 days left; Swarm renews it "
        "before 18 days are left)")
    assert audit_earliest(["b"], hostvars) == "The earliest certificate expiry: no certificate was read"


def test_a_file_with_no_readable_certificate_fails():
    broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
    assert judged({"/etc/swanctl/x509/paddock-host.pem": [broken]}) == {
        "cert:/etc/swanctl/x509/paddock-host.pem": (False, "no certificate could be read in it")}


def test_only_certificate_blocks_are_taken_from_a_file_never_a_key():
    text = certificate("a", 100) + "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n"
    assert pem_blocks({"/x.pem": text, "/key-only.pem": "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE "
                                                         "KEY-----\n"}) == {"/x.pem": [text.split("-----BEGIN P")[0]
                                                                                       .strip()]}


def test_a_hosts_probe_adds_its_certificates_with_swarms_under_the_engines_data_root():
    probe = copy.deepcopy(GOOD)
    probe["info"]["DockerRootDir"] = "/srv/docker"
    probe["certificates"] = {"/srv/docker/swarm/certificates/swarm-node.crt": [certificate("n", 20, lifetime=90)],
                             "/etc/docker/tls/cert.pem": [certificate("h", 20)]}
    results = {c["id"]: c["passed"] for c in checks(probe, True, False, renew_days=30, now=NOW)}
    assert {key: value for key, value in results.items() if key.startswith("cert:")} == {
        "cert:/etc/docker/tls/cert.pem": False, "cert:/srv/docker/swarm/certificates/swarm-node.crt": True}


def test_the_verdict_lists_each_host_that_failed_or_did_not_report_and_skips_absent_ones():
    from ansible_collections.paddock.platform.plugins.filter.audit import audit_failures
    passed, failed = {"id": "2.1", "passed": True}, {"id": "2.16", "passed": False}
    hostvars = {"localhost": {"audit_results": [passed]}, "a": {"audit_results": [passed, failed]},
                "b": {}, "c": {"node_state": "absent"}, "d": {"audit_results": [passed]}}
    assert audit_failures(["localhost", "a", "b", "c", "d"], hostvars) == [
        "a: 1 of 2 checks failed: 2.16", "b: did not report (unreachable, or failed before its checks)"]


def test_the_audit_logs_query_is_checked_naming_each_variable():
    from ansible_collections.paddock.platform.plugins.filter.audit import audit_log_query_errors
    assert audit_log_query_errors({"user": "carol", "since": "2026-12-07T10", "until": "2026-12-07T12:30:00Z",
                                   "path": "^/services/", "limit": 200}) == []
    assert audit_log_query_errors({"since": "yesterday", "until": "2026-13", "path": "(", "user": "u" * 300,
                                   "limit": 0}) == [
        "audit_log_since: must be an ISO 8601 time in UTC or its start, such as 2026-12-07T10:30, got 'yesterday'",
        "audit_log_path: not a regular expression (missing ), unterminated subpattern at position 0): '('",
        "audit_log_user: longer than 256 characters",
        "audit_log_limit: must be a whole number of at least 1, got 0"]


def test_each_record_is_one_report_line_and_each_broken_link_is_named_with_its_host():
    from ansible_collections.paddock.platform.plugins.filter.audit import audit_log_broken, audit_log_lines
    request = {"time": "2026-11-30T08:00:00.000001Z", "seq": 7, "stage": "request", "user": "paddock-console-member",
               "on_behalf_of": "alice", "role": "member", "method": "POST", "path": "/services/x/update",
               "decision": "allow"}
    refused = {"time": "2026-11-30T08:00:01.000001Z", "seq": 8, "stage": "request", "user": "bob", "role": "read-only",
               "method": "POST", "path": "/nodes/n/update", "decision": "deny", "status": 403,
               "reason": "user bob (read-only) may not POST /nodes/n/update"}
    console = {"time": "2026-11-30T08:00:02.000001Z", "seq": 3, "stage": "result", "user": "alice", "role": "member",
               "action": "scale", "target": "web", "result": "scaled from 4 to 5"}
    trails = [{"trail": "/var/log/paddock/api-audit.log", "records": [request, refused], "matched": 2,
               "problems": ["/var/log/paddock/api-audit.log:9: record 9 does not match its hash (edited)"]},
              {"trail": "/var/log/paddock/console/console-audit.log", "records": [console], "matched": 5,
               "problems": []}]
    assert audit_log_lines(trails, "st01") == [
        "2026-11-30T08:00:00.000001Z st01 api-audit #7 request paddock-console-member for alice (member) "
        "POST /services/x/update allow",
        "2026-11-30T08:00:01.000001Z st01 api-audit #8 request bob (read-only) POST /nodes/n/update deny 403: "
        "user bob (read-only) may not POST /nodes/n/update",
        "st01 api-audit: BROKEN: /var/log/paddock/api-audit.log:9: record 9 does not match its hash (edited)",
        "2026-11-30T08:00:02.000001Z st01 console-audit #3 result alice (member) scale web scaled from 4 to 5",
        "st01 console-audit: 5 records matched, the newest 1 shown"]
    assert audit_log_lines([], "st02") == ["st02: no record matched"]
    hostvars = {"st01": {"audit_log_read": {"trails": trails}}, "st02": {}, "st03": {"node_state": "absent"}}
    assert audit_log_broken(["st01", "st02", "st03"], hostvars) == [
        "st01: /var/log/paddock/api-audit.log:9: record 9 does not match its hash (edited)",
        "st02: did not report (unreachable, or failed before reading its trails)"]
