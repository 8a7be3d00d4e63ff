"""The environment's PKI on the controller: what is issued, kept and renewed, and check mode."""

import datetime
import os
import stat

import pytest
from ansible.errors import AnsibleActionFail
from cryptography import x509

from ansible_collections.paddock.platform.plugins.action.pki import Environment
from ansible_collections.paddock.platform.plugins.module_utils import _pki as pki

HOSTS = [{"name": "node1", "names": ["DNS:node1", "IP:192.0.2.10"]}]
USERS = [{"name": "alice", "role": "admin"}, {"name": "bob", "role": "read-only"}]
NOW = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)  # every run's reading of the clock, unless told


def arguments(root, **extra):
    return dict({"dir": str(root), "environment": "test", "ca_days": 3650, "server_days": 825, "user_days": 365,
                 "renew_days": 30, "hosts": HOSTS, "users": USERS, "part": "all", "registry_clients": False,
                 "ike": False}, **extra)


def converge(root, check=False, at=NOW, **extra):
    environment = Environment(arguments(root, **extra), check, at)
    renewed, gone = environment.run()
    return environment, renewed, gone


def certificate(path):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def test_a_first_run_makes_the_ca_every_engine_and_user_with_private_keys_0600(tmp_path):
    environment, renewed, _ = converge(tmp_path)
    assert set(environment.issued) == {"CA", "node1", "alice", "bob"}
    assert renewed == {"alice", "bob"}
    assert stat.S_IMODE(os.stat(tmp_path / "ca-key.pem").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "hosts" / "node1" / "key.pem").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == 0o700
    server = certificate(tmp_path / "hosts" / "node1" / "cert.pem")
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(n.value) for n in names} == {"node1", "192.0.2.10"}
    assert (tmp_path / "users" / "bob" / "ca.pem").read_bytes() == (tmp_path / "ca.pem").read_bytes()


def test_a_second_run_changes_nothing_and_keeps_every_certificate(tmp_path):
    converge(tmp_path)
    before = (tmp_path / "hosts" / "node1" / "cert.pem").read_bytes()
    environment, renewed, gone = converge(tmp_path)
    assert (environment.changes, environment.issued, renewed, gone) == ([], {}, set(), [])
    assert (tmp_path / "hosts" / "node1" / "cert.pem").read_bytes() == before


def test_check_mode_reports_what_it_would_issue_and_writes_nothing(tmp_path):
    environment, _, _ = converge(tmp_path / "pki", check=True)
    assert "CA" in environment.issued and environment.changes
    assert not (tmp_path / "pki").exists()


def test_a_new_address_issues_that_engine_again_on_its_old_key(tmp_path):
    converge(tmp_path)
    key = (tmp_path / "hosts" / "node1" / "key.pem").read_bytes()
    moved = [{"name": "node1", "names": ["DNS:node1", "IP:192.0.2.99"]}]
    environment, _, _ = converge(tmp_path, hosts=moved)
    assert environment.issued == {"node1": "subject alternative names changed"}
    assert (tmp_path / "hosts" / "node1" / "key.pem").read_bytes() == key


def test_a_certificate_expiring_within_the_threshold_is_renewed(tmp_path):
    converge(tmp_path, user_days=20)
    a_day_later = NOW + datetime.timedelta(days=1)
    environment, renewed, _ = converge(tmp_path, at=a_day_later)
    assert environment.issued == {"alice": "expires in 19 days (renewed 30 days ahead)",
                                  "bob": "expires in 19 days (renewed 30 days ahead)"}
    assert renewed == {"alice", "bob"}
    left = certificate(tmp_path / "users" / "alice" / "cert.pem").not_valid_after_utc - a_day_later
    assert left == datetime.timedelta(days=365)


def test_a_certificate_is_kept_until_the_threshold_and_renewed_from_it_on(tmp_path):
    converge(tmp_path)  # the users' certificates end 365 days after NOW, renewed 30 days ahead
    kept, _, _ = converge(tmp_path, at=NOW + datetime.timedelta(days=335))
    renewed, _, _ = converge(tmp_path, at=NOW + datetime.timedelta(days=335, seconds=1))
    assert (kept.issued, renewed.issued) == ({}, {"alice": "expires in 29 days (renewed 30 days ahead)",
                                                  "bob": "expires in 29 days (renewed 30 days ahead)"})


def test_a_ca_near_its_end_is_made_again_on_its_key_and_what_it_signed_is_kept(tmp_path):
    lifetimes = {"ca_days": 400, "server_days": 800, "user_days": 800}  # only the CA is due at day 371
    converge(tmp_path, **lifetimes)
    key, user = (tmp_path / "ca-key.pem").read_bytes(), (tmp_path / "users" / "alice" / "cert.pem").read_bytes()
    environment, renewed, _ = converge(tmp_path, at=NOW + datetime.timedelta(days=371), **lifetimes)
    assert environment.issued == {"CA": "CA expires soon"}
    assert renewed == {"alice", "bob"}  # their bundles' ca.pem, not their certificates
    assert (tmp_path / "ca-key.pem").read_bytes() == key
    assert (tmp_path / "users" / "alice" / "cert.pem").read_bytes() == user
    assert (tmp_path / "users" / "alice" / "ca.pem").read_bytes() == (tmp_path / "ca.pem").read_bytes()
    assert certificate(tmp_path / "ca.pem").not_valid_after_utc == NOW + datetime.timedelta(days=371 + 400)
    again, _, _ = converge(tmp_path, at=NOW + datetime.timedelta(days=371), **lifetimes)
    assert (again.issued, again.changes) == ({}, [])  # the old leaves verify against the new CA


def test_an_expired_ca_is_made_again_on_its_key_and_everything_issued_again_from_it(tmp_path):
    converge(tmp_path)
    key = (tmp_path / "ca-key.pem").read_bytes()
    environment, renewed, _ = converge(tmp_path, at=NOW + datetime.timedelta(days=3651))
    expired = "expires in 0 days (renewed 30 days ahead)"
    assert environment.issued == {"CA": "CA expires soon", "node1": expired, "alice": expired, "bob": expired}
    assert renewed == {"alice", "bob"} and (tmp_path / "ca-key.pem").read_bytes() == key
    assert certificate(tmp_path / "ca.pem").not_valid_after_utc > NOW + datetime.timedelta(days=7000)


def test_a_new_ca_issues_everything_again_and_refreshes_the_bundles(tmp_path):
    converge(tmp_path)
    os.unlink(tmp_path / "ca-key.pem")
    environment, renewed, _ = converge(tmp_path)
    assert environment.issued == {"CA": "no CA key", "node1": "not signed by the environment's CA",
                                  "alice": "not signed by the environment's CA",
                                  "bob": "not signed by the environment's CA"}
    assert renewed == {"alice", "bob"}


def test_a_user_no_longer_listed_loses_the_bundle(tmp_path):
    converge(tmp_path)
    environment, _, gone = converge(tmp_path, users=USERS[:1])
    assert gone == ["bob"] and not (tmp_path / "users" / "bob").exists()
    assert "bundle of bob removed" in environment.changes


def test_a_key_made_readable_by_others_is_set_back_to_0600(tmp_path):
    converge(tmp_path)
    os.chmod(tmp_path / "users" / "alice" / "key.pem", 0o644)
    environment, _, _ = converge(tmp_path)
    assert environment.changes == ["key of alice"] and environment.issued == {}
    assert stat.S_IMODE(os.stat(tmp_path / "users" / "alice" / "key.pem").st_mode) == 0o600


def test_a_supplied_ca_is_used_and_its_key_never_written(tmp_path):
    key, cert = pki.make_ca("vault", 3650, NOW)
    supplied = {"ca_cert": pki.cert_pem(cert).decode(), "ca_key": pki.key_pem(key).decode()}
    environment, _, _ = converge(tmp_path, **supplied)
    assert not (tmp_path / "ca-key.pem").exists()
    assert certificate(tmp_path / "hosts" / "node1" / "cert.pem").issuer == cert.subject
    assert "CA" not in environment.issued


def test_the_environment_part_then_one_hosts_part_per_engine_report_each_change_where_it_is(tmp_path):
    environment, _, _ = converge(tmp_path, part="environment")
    assert set(environment.issued) == {"CA", "alice", "bob"} and not (tmp_path / "hosts" / "node1").exists()
    for_host, _, _ = converge(tmp_path, part="hosts", users=[])
    assert for_host.issued == {"node1": "no certificate"}
    assert (tmp_path / "users" / "bob").exists()  # a hosts part never touches the users
    again, _, _ = converge(tmp_path, part="hosts", users=[])
    assert again.changes == []


def test_a_hosts_part_needs_the_ca_except_in_check_mode(tmp_path):
    with pytest.raises(AnsibleActionFail, match="no CA key"):
        converge(tmp_path, part="hosts")
    checked, _, _ = converge(tmp_path, part="hosts", check=True)
    assert checked.issued == {"node1": "no certificate"} and not (tmp_path / "hosts").exists()


def test_the_registry_has_its_own_key_and_its_clients_a_ca_that_signs_no_user(tmp_path):
    hosts = [dict(HOSTS[0], registry=True), {"name": "node2", "names": ["DNS:node2"]}]
    environment, _, _ = converge(tmp_path, hosts=hosts, registry_clients=True)
    assert {"registry clients CA", "registry node1"} <= set(environment.issued)
    registry = certificate(tmp_path / "registry" / "cert.pem")
    engine = certificate(tmp_path / "hosts" / "node1" / "cert.pem")
    assert registry.public_key().public_numbers() != engine.public_key().public_numbers()
    assert registry.issuer == certificate(tmp_path / "ca.pem").subject
    clients_ca = certificate(tmp_path / "registry-clients" / "ca.pem")
    for host in ("node1", "node2"):
        client = certificate(tmp_path / "hosts" / host / "registry-client" / "cert.pem")
        assert client.issuer == clients_ca.subject
        usage = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(usage) == [x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]
    assert certificate(tmp_path / "users" / "bob" / "cert.pem").issuer != clients_ca.subject
    again, _, _ = converge(tmp_path, hosts=hosts, registry_clients=True)
    assert (again.changes, again.issued) == ([], {})


def join_tokens(root):
    import json
    with open(root / "join-tokens.json") as handle:
        return json.load(handle)


def test_removing_or_demoting_an_admin_asks_for_new_join_tokens_until_they_are_rotated(tmp_path):
    users = [{"name": "alice", "role": "admin"}, {"name": "dave", "role": "admin"}, {"name": "bob", "role": "member"}]
    environment, _, _ = converge(tmp_path, users=users)
    assert environment.rotate_join_tokens == []
    assert join_tokens(tmp_path)["readers"] == ["alice", "dave"]
    # A member leaving could never read them: nothing to rotate.
    environment, _, _ = converge(tmp_path, users=users[:2])
    assert environment.rotate_join_tokens == []
    environment, _, gone = converge(tmp_path, users=[users[0], dict(users[1], role="read-only")])
    assert environment.rotate_join_tokens == ["dave, who could read them, is no longer an admin of this environment"]
    environment, _, gone = converge(tmp_path, users=[users[0]])
    assert gone == ["dave"] and len(environment.rotate_join_tokens) == 1, "still pending: not yet rotated"
    converge(tmp_path, users=[users[0]], part="join_tokens_rotated")
    environment, _, _ = converge(tmp_path, users=[users[0]])
    assert environment.rotate_join_tokens == [] and join_tokens(tmp_path)["readers"] == ["alice"]


def test_an_environment_from_before_the_readers_were_kept_rotates_once(tmp_path):
    converge(tmp_path)
    os.remove(tmp_path / "join-tokens.json")
    environment, _, _ = converge(tmp_path)
    assert environment.rotate_join_tokens == ["every user could read them before Paddock 0.6.0"]
    check, _, _ = converge(tmp_path, check=True, part="join_tokens_rotated")
    assert join_tokens(tmp_path)["rotate"], "check mode writes nothing"


def test_each_host_gets_an_ike_certificate_for_its_own_addresses_from_a_ca_that_signs_nothing_else(tmp_path):
    hosts = [{"name": "node1", "names": ["DNS:node1", "DNS:localhost", "IP:127.0.0.1", "IP:192.0.2.10"]}]
    environment, _, _ = converge(tmp_path, hosts=hosts, ike=True)
    assert "managed network CA" in environment.issued
    ike = certificate(tmp_path / "hosts" / "node1" / "ike" / "cert.pem")
    assert ike.issuer == certificate(tmp_path / "managed-network" / "ca.pem").subject
    names = ike.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(n.value) for n in names} == {"node1", "192.0.2.10"}
    usage = ike.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [u.dotted_string for u in usage] == ["1.3.6.1.5.5.7.3.17"]
    assert certificate(tmp_path / "hosts" / "node1" / "cert.pem").issuer != ike.issuer
    again, _, _ = converge(tmp_path, hosts=hosts, ike=True)
    assert (again.changes, again.issued) == ([], {})


def test_a_platform_service_gets_a_server_certificate_for_its_names_kept_then_removed_when_unlisted(tmp_path):
    console = [{"name": "console", "names": ["IP:192.0.2.10", "DNS:console.example.com"]}]
    environment, _, _ = converge(tmp_path, services=console)
    assert "test console" in environment.issued
    issued = certificate(tmp_path / "services" / "console" / "cert.pem")
    names = issued.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(n.value) for n in names} == {"192.0.2.10", "console.example.com"}
    usage = issued.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [u._name for u in usage] == ["serverAuth"]
    assert stat.S_IMODE(os.stat(tmp_path / "services" / "console" / "key.pem").st_mode) == 0o600
    assert converge(tmp_path, services=console)[0].changes == []
    environment, _, _ = converge(tmp_path)
    assert environment.changes == ["certificate of console removed"]
    assert not (tmp_path / "services" / "console").exists()
