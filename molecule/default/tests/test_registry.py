"""The platform's registry as an engine, a user and a neighbour on the network meet it: only the
engines pull (mutual TLS with the registry clients' CA), only the registry host's loopback takes
pushes, nothing deletes, and the registry has a key of its own."""

import http.client
import os
import socket
import ssl
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
from labtest import on_host  # noqa: E402

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))
INVENTORY = os.path.join(SCENARIO, "inventory")
REGISTRY = "10.3.1.4"
PKI = os.path.expanduser("~/.paddock/paddock-mol-default/pki")
ENVIRONMENT = "paddock-mol-default"
ENGINE = f"{PKI}/hosts/mol02/registry-client"


def request(method, path, bundle=None, port=5000):
    """(status, body) of one HTTPS request to the registry, or the TLS error that stopped it."""
    context = ssl.create_default_context(cafile=f"{PKI}/ca.pem")
    if bundle:
        context.load_cert_chain(f"{bundle}/cert.pem", f"{bundle}/key.pem")
    connection = http.client.HTTPSConnection(REGISTRY, port, timeout=10, context=context)
    try:
        connection.request(method, path)
        answer = connection.getresponse()
        return answer.status, answer.read().decode(errors="replace")
    except (ssl.SSLError, OSError) as exc:
        return None, repr(exc)
    finally:
        connection.close()


def test_an_engine_certificate_pulls_and_nothing_else_is_admitted():
    status, body = request("GET", "/v2/", ENGINE)
    assert status == 200, body
    for bundle in (None, f"{PKI}/users/alice", f"{PKI}/users/bob"):  # no certificate, an admin's, a reader's
        status, refusal = request("GET", "/v2/_catalog", bundle)
        assert status is None, f"{bundle} was admitted: {status} {refusal}"
        assert "SSL" in refusal or "reset" in refusal.lower() or "Broken pipe" in refusal, refusal


def test_the_pull_instance_refuses_pushes_and_deletes_even_from_an_engine():
    assert request("POST", "/v2/intruder/blobs/uploads/", ENGINE)[0] == 405
    assert request("DELETE", "/v2/intruder/manifests/sha256:" + "0" * 64, ENGINE)[0] == 405
    assert request("GET", "/v2/intruder/tags/list", ENGINE)[0] == 404


def test_the_push_instance_is_not_on_the_network():
    try:
        socket.create_connection((REGISTRY, 5001), timeout=5).close()
        reached = True
    except OSError:
        reached = False
    assert not reached
    assert on_host(INVENTORY, "mol01", "python3 -c \"import urllib.request as u; "
                                       "print(u.urlopen('http://127.0.0.1:5001/v2/').status)\"").strip() == "200"


def test_an_image_pushed_on_the_registry_host_is_pulled_by_another_engine_which_cannot_push_it():
    name = "paddock-test/empty:1"
    on_host(INVENTORY, "mol01", f"tar cf - --files-from /dev/null | docker import - 127.0.0.1:5001/{name} >/dev/null"
                                f" && docker push 127.0.0.1:5001/{name} >/dev/null && docker rmi 127.0.0.1:5001/{name}")
    pulled = on_host(INVENTORY, "mol02", f"docker pull -q {REGISTRY}:5000/{name}")
    assert pulled.strip() == f"{REGISTRY}:5000/{name}"
    pushed = on_host(INVENTORY, "mol02", f"docker push {REGISTRY}:5000/{name} 2>&1; echo exit=$?")
    assert "exit=1" in pushed and "405" in pushed, pushed


def test_a_member_may_not_push_through_an_engine():
    run = subprocess.run(["docker", "--context", f"{ENVIRONMENT}-carol", "push", f"{REGISTRY}:5000/paddock-test/x:1"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "user carol (member) may not POST /images/" in run.stderr, run.stderr


def served_certificate(port, bundle):
    context = ssl.create_default_context(cafile=f"{PKI}/ca.pem")
    context.load_cert_chain(f"{bundle}/cert.pem", f"{bundle}/key.pem")
    with socket.create_connection((REGISTRY, port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=REGISTRY) as tls:
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def test_the_registry_has_a_key_of_its_own():
    served = served_certificate(5000, ENGINE)
    engine = served_certificate(2376, f"{PKI}/users/alice")

    def public(certificate):
        return certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)

    assert public(served) != public(engine)
    assert served.issuer.rfc4514_string() == f"CN=Paddock {ENVIRONMENT} CA"
