"""The inventory's certificate store (paddock_certificates) and a load balancer terminating TLS with it:
each problem refused on the controller with its place, and the rendered HAProxy configuration
accepted by HAProxy itself with the real certificates."""

import copy
import datetime
import shutil
import subprocess

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from test_stack import COMPOSE, CTX, RANCHER, walkthrough

from ansible_collections.paddock.platform.plugins.filter.stack import stack_lb_files
from ansible_collections.paddock.platform.plugins.module_utils._certificates import bundles, errors, file_name
from ansible_collections.paddock.platform.plugins.module_utils._stack import LB_CERT_DIR

NOW = datetime.datetime(2026, 11, 29, tzinfo=datetime.UTC)


def make(names, days=30, start_days=-1):
    """(certificate PEM, key PEM): self-signed for ``names``, valid from NOW + start_days for ``days``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    start = NOW + datetime.timedelta(days=start_days)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


@pytest.fixture(scope="module")
def pair():
    return make(["www.example.test"])


@pytest.fixture(scope="module")
def other():
    return make(["api.example.test"])


def test_a_certificate_given_as_files_or_as_text_is_accepted_and_bundled_with_its_key(tmp_path, pair):
    cert, key = pair
    (tmp_path / "www.pem").write_text(cert)
    (tmp_path / "www.key").write_text(key)
    store = [{"name": "www", "cert_file": "www.pem", "key_file": "www.key"},
             {"name": "*.example.test", "cert": cert, "key": key}]  # a name as Rancher's store took it
    assert errors(store, str(tmp_path), NOW) == []
    assert bundles(store, str(tmp_path)) == {"www": cert.strip() + "\n" + key.strip() + "\n",
                                             "*.example.test": cert.strip() + "\n" + key.strip() + "\n"}
    assert file_name("*.example.test").endswith(".pem") and "*" not in file_name("*.example.test")


def test_each_bad_certificate_is_refused_with_its_place_and_reason(tmp_path, pair, other):
    cert, key = pair
    expired_cert, expired_key = make(["old.example.test"], days=10, start_days=-20)
    encrypted = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase")).decode()
    store = [
        {"name": "www", "cert": cert, "key": key},
        {"name": "www", "cert": cert, "key": key},
        {"name": " www", "cert": cert, "key": key},
        {"name": "both", "cert": cert, "cert_file": "x.pem", "key": key},
        {"name": "nokey", "cert": cert},
        {"name": "gone", "cert_file": "missing.pem", "key": key},
        {"name": "garbage", "cert": "not a certificate", "key": key},
        {"name": "mismatch", "cert": cert, "key": other[1]},
        {"name": "locked", "cert": cert, "key": encrypted},
        {"name": "expired", "cert": expired_cert, "key": expired_key},
        {"name": "typo", "cert": cert, "key": key, "chain": "x"},
        "www",
    ]
    assert errors(store, str(tmp_path), NOW) == [
        "inventory: paddock_certificates[1].name: www is already paddock_certificates[0]",
        "inventory: paddock_certificates[2].name: must be printable text of 1 to 128 characters, got ' www'",
        "inventory: paddock_certificates[3]: needs exactly one of cert (the PEM text) and cert_file (a PEM file)",
        "inventory: paddock_certificates[4]: needs exactly one of key (the PEM text) and key_file (a PEM file)",
        "inventory: paddock_certificates[5]: cert_file: cannot read missing.pem: No such file or directory",
        "inventory: paddock_certificates[6].cert: not a PEM certificate",
        "inventory: paddock_certificates[7].key: not the key of the certificate CN=www.example.test",
        "inventory: paddock_certificates[8].key: encrypted with a passphrase; give it decrypted (keep it in "
        "Ansible Vault)",
        "inventory: paddock_certificates[9].cert: CN=old.example.test expired on 2026-11-19 00:00 UTC",
        "inventory: paddock_certificates[10].chain: unknown key (known: name, cert, cert_file, key, key_file)",
        "inventory: paddock_certificates[11]: must be a mapping with name, cert or cert_file, and key or key_file",
    ]
    assert errors({"name": "www"}, str(tmp_path), NOW) == [
        "inventory: paddock_certificates: must be a list, each with a name, a certificate and its key"]


def tls_walkthrough(lb_config):
    rancher = copy.deepcopy(RANCHER)
    rancher["services"]["lb"]["lb_config"].update(lb_config)
    compose = copy.deepcopy(COMPOSE)
    compose["services"]["lb"]["ports"] = ["80:80/tcp", "443:443/tcp", "5432:5432/tcp"]
    return walkthrough(compose, rancher, {**CTX, "certificates": ["www", "api"]})


HTTPS_RULES = {
    "port_rules": [{"source_port": 80, "target_port": 80, "service": "apacz"},
                   {"source_port": 443, "target_port": 80, "service": "apacz", "protocol": "https"},
                   {"source_port": 5432, "target_port": 80, "service": "apacz", "protocol": "tls"}],
    "default_cert": "www", "certs": ["api", "www"], "https_redirect": True}


def test_https_and_tls_rules_terminate_tls_with_the_default_certificate_first_and_redirect_plain_http():
    stack = tls_walkthrough(HTTPS_RULES)
    assert stack.errors == [] and stack.warnings == []
    lb = stack.lbs[0]
    assert lb["certs"] == ["www", "api"]
    config = lb["config"]
    assert "    ssl-default-bind-options ssl-min-ver TLSv1.2\n" in config
    assert ("frontend fe_443\n    bind :443 ssl crt-list /etc/paddock-lb/certs/crt-list alpn h2,http/1.1\n"
            "    mode http\n    option forwardfor\n"
            "    http-request set-header X-Forwarded-Proto https\n") in config
    assert ("frontend fe_80\n    bind :80\n    mode http\n    option forwardfor\n"
            "    http-request set-header X-Forwarded-Proto http\n    http-request redirect location "
            "https://%[req.hdr(host),field(1,:)]%[capture.req.uri] code 301\n") in config
    assert "frontend fe_5432\n    bind :5432 ssl crt-list /etc/paddock-lb/certs/crt-list\n    mode tcp\n" in config


def test_a_plain_load_balancer_keeps_its_configuration_without_tls_settings():
    assert "ssl" not in walkthrough().lbs[0]["config"]


def test_haproxy_itself_accepts_the_rendered_configuration_with_the_real_certificates(tmp_path, pair, other):
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    stack = tls_walkthrough(HTTPS_RULES)
    store = [{"name": "www", "cert": pair[0], "key": pair[1]}, {"name": "api", "cert": other[0], "key": other[1]}]
    files = stack_lb_files(stack.lbs, "#!/bin/sh\n", bundles(store, str(tmp_path)))
    lb_dir = stack.lbs[0]["dir"]
    assert files[f"{lb_dir}/certs/crt-list"]["content"] == (f"{LB_CERT_DIR}/{file_name('www')}\n"
                                                           f"{LB_CERT_DIR}/{file_name('api')}\n")
    assert files[f"{lb_dir}/certs/{file_name('www')}"] == {"content": pair[0].strip() + "\n" + pair[1].strip() + "\n",
                                                 "mode": "0600", "secret": True}
    for path, entry in files.items():
        target = tmp_path / path.replace(lb_dir, "lb").lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(entry["content"].replace(LB_CERT_DIR, str(tmp_path / "lb" / "certs")))
    config = (tmp_path / "lb" / "haproxy.cfg").read_text().replace(LB_CERT_DIR, str(tmp_path / "lb" / "certs"))
    (tmp_path / "lb" / "haproxy.cfg").write_text(config)
    done = subprocess.run([haproxy, "-c", "-f", str(tmp_path / "lb" / "haproxy.cfg")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("lb_config", "expected"), [
    ({"port_rules": [{"source_port": 443, "target_port": 80, "service": "apacz", "protocol": "https"}],
      "certs": ["www", "nope"]},
     "rancher-compose.yml: services.lb.lb_config.certs[1]: certificate 'nope' is not in the inventory's "
     "paddock_certificates (it has: api, www)"),
    ({"port_rules": [{"source_port": 443, "target_port": 80, "service": "apacz", "protocol": "sni"}],
      "default_cert": "www"},
     "rancher-compose.yml: services.lb.lb_config.port_rules[0].protocol: 'sni' is not supported by Paddock's load "
     "balancer (http, https, tcp or tls): route TLS by its server name with protocol tls and one backend per port, "
     "or terminate it with https and hostname rules"),
])
def test_a_load_balancers_bad_tls_settings_are_refused_at_their_key(lb_config, expected):
    rancher = copy.deepcopy(RANCHER)
    rancher["services"]["lb"]["lb_config"] = lb_config
    compose = yaml.safe_load(yaml.safe_dump(COMPOSE))
    compose["services"]["lb"]["ports"] = ["443:443/tcp"]
    assert walkthrough(compose, rancher, {**CTX, "certificates": ["www", "api"]}).errors == [expected]


def test_certificates_on_a_load_balancer_without_tls_rules_are_warned_about():
    rancher = copy.deepcopy(RANCHER)
    rancher["services"]["lb"]["lb_config"]["default_cert"] = "www"
    stack = walkthrough(None, rancher, {**CTX, "certificates": ["www"]})
    assert stack.errors == []
    assert stack.warnings == ["rancher-compose.yml: services.lb.lb_config.default_cert: certificates are served on "
                              "https and tls port rules only, and this load balancer has none"]
