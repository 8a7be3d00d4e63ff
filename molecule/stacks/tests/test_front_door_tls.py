"""The load balancer terminating TLS (stack `front`, molecule/stacks/tls): the certificate a
client asks for by name, plain HTTP redirected, old protocol versions refused, and a replaced
certificate served after a reload that drops no request. Named to run before test_stacks.py,
whose last test stops a node."""

import datetime
import os
import socket
import ssl
import sys
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
from labtest import PROJECT, Load, failures, playbook, wait_for  # noqa: E402

pytestmark = pytest.mark.timed  # runs alone: see conftest.py

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))
INVENTORY = os.path.join(SCENARIO, "inventory")
TLS_DIR = os.path.expanduser("~/.paddock/paddock-mol-stacks/tls")
LB_HOST = "10.3.6.12"


def context(cafile, **versions):
    ctx = ssl.create_default_context(cafile=cafile)
    for name, version in versions.items():
        setattr(ctx, name, version)
    return ctx


def https(name, cafile=None, ctx=None, port=9443):
    """(status line, body, the certificate's DER) of GET / over TLS to the load balancer, asking for ``name``."""
    ctx = ctx or context(cafile or os.path.join(TLS_DIR, "www.pem"))
    with socket.create_connection((LB_HOST, port), timeout=5) as raw, \
            ctx.wrap_socket(raw, server_hostname=name) as tls:
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
        der = tls.getpeercert(binary_form=True)
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    return head.splitlines()[0], body.strip(), der


def plain(port=9080):
    with socket.create_connection((LB_HOST, port), timeout=5) as raw:
        raw.sendall(b"GET /some/page?x=1 HTTP/1.1\r\nHost: www.paddock.test\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := raw.recv(65536):
            data += chunk
    return data.decode(errors="replace")


def der_of(path):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read()).public_bytes(serialization.Encoding.DER)


def test_https_serves_the_default_certificate_and_the_one_a_client_names():
    status, body, der = https("www.paddock.test")
    assert status == "HTTP/1.1 200 OK" and body  # an apacz container's hostname
    assert der == der_of(os.path.join(TLS_DIR, "www.pem"))
    # Verified against api's own certificate: the load balancer chose it by the name asked (SNI).
    status, _, der = https("api.paddock.test", cafile=os.path.join(TLS_DIR, "api.pem"))
    assert status == "HTTP/1.1 200 OK" and der == der_of(os.path.join(TLS_DIR, "api.pem"))
    # A name it has no certificate for gets the default one.
    ctx = context(os.path.join(TLS_DIR, "www.pem"))
    ctx.check_hostname = False
    assert https("other.paddock.test", ctx=ctx)[2] == der_of(os.path.join(TLS_DIR, "www.pem"))


def test_plain_http_is_redirected_to_https_with_its_path():
    response = plain()
    assert response.startswith("HTTP/1.1 301")
    headers = dict(line.split(": ", 1) for line in response.split("\r\n\r\n")[0].split("\r\n")[1:])
    assert {k.lower(): v for k, v in headers.items()}["location"] == "https://www.paddock.test:9443/some/page?x=1"


def test_tls_1_2_and_1_3_are_served_and_1_1_is_refused_by_the_load_balancer():
    cafile = os.path.join(TLS_DIR, "www.pem")
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        assert https("www.paddock.test", ctx=context(cafile, minimum_version=version,
                                                     maximum_version=version))[0] == "HTTP/1.1 200 OK"
    old = context(cafile, minimum_version=ssl.TLSVersion.TLSv1_1, maximum_version=ssl.TLSVersion.TLSv1_1)
    old.set_ciphers("ALL:@SECLEVEL=0")
    try:
        https("www.paddock.test", ctx=old)
        refused = None
    except ssl.SSLError as error:
        refused = error.reason
    # The server's alert, not the client's own refusal to offer TLS 1.1.
    assert refused == "TLSV1_ALERT_PROTOCOL_VERSION"


def new_certificate(name):
    """A new key and self-signed certificate for ``name``, written where the inventory reads them.
    Its subject differs from the old one's, so that a client can trust both at once."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Paddock rotated"),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    with open(os.path.join(TLS_DIR, "www.key"), "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    with open(os.path.join(TLS_DIR, "www.pem"), "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    return cert.public_bytes(serialization.Encoding.DER)


def test_a_replaced_certificate_is_served_after_a_reload_that_drops_no_request(tmp_path):
    old = der_of(os.path.join(TLS_DIR, "www.pem"))
    both = tmp_path / "both.pem"
    with open(os.path.join(TLS_DIR, "www.pem")) as handle:
        old_pem = handle.read()
    new = new_certificate("www.paddock.test")
    with open(os.path.join(TLS_DIR, "www.pem")) as handle:
        both.write_text(old_pem + handle.read())
    # Full TLS handshakes and requests in a loop; either certificate is trusted.
    trusting_both = context(str(both))
    with Load(lambda: https("www.paddock.test", ctx=trusting_both)[0] == "HTTP/1.1 200 OK") as load:
        time.sleep(2)
        run = playbook(INVENTORY, os.path.join(PROJECT, "playbooks", "stack.yml"), "-e", "stack=front")
        served = wait_for(lambda: https("www.paddock.test", cafile=str(both))[2] == new, timeout=15)
        time.sleep(2)
    assert run.returncode == 0, failures(run.stdout)
    assert served, "the new certificate was not served"
    assert old != new
    assert load.failed == 0, load.errors[:5]
    assert load.ok > 20
