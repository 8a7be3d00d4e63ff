# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""The environment's PKI on the controller: what must be issued, and issuing it.

Pure decisions (``certificate_problem``) are kept apart from the writes, so that the action
plugin reads everything, decides, and writes only outside check mode. Keys are ECDSA
(P-384 for the CA, P-256 for engines and users), as the community.crypto tasks made them
before, so an existing environment keeps its keys and certificates.
"""

from __future__ import annotations

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.paddock.platform.plugins.module_utils._problems import origin

# "ike" is id-kp-ipsecIKE (RFC 4945), for the managed network's IKE certificates.
USAGES = {"serverAuth": ExtendedKeyUsageOID.SERVER_AUTH, "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
          "ike": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.17")}
SKEW = datetime.timedelta(hours=1)


def now():
    """The clock, read by the callers at the edge (the action plugin, the audit's filters), once
    per run; every decision and certificate below takes the time it is made at as an argument."""
    return datetime.datetime.now(datetime.UTC)


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def load_key(data):
    try:
        return serialization.load_pem_private_key(data, password=None) if data else None
    except ValueError:
        return None


def load_cert(data):
    try:
        return x509.load_pem_x509_certificate(data) if data else None
    except ValueError:
        return None


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def public_bytes(key):
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def same_key(cert, key):
    """Whether ``cert`` carries the public half of ``key``."""
    return cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo) == public_bytes(key)


def _builder(subject, issuer, public_key, days, at):
    """A certificate builder with a random serial, valid from an hour before ``at`` for ``days`` days."""
    start = at - SKEW
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + SKEW + datetime.timedelta(days=days)))


def general_names(names):
    """``DNS:x`` and ``IP:y`` strings as x509 general names (unknown kinds are refused)."""
    out = []
    for name in names:
        kind, _, value = name.partition(":")
        if kind == "DNS":
            out.append(x509.DNSName(value))
        elif kind == "IP":
            out.append(x509.IPAddress(ipaddress.ip_address(value)))
        else:
            raise ValueError(f"subject alternative name {name!r}: must start with DNS: or IP:")
    return out


def _extension(cert, kind):
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _signed_by(cert, ca_cert):
    if cert.issuer != ca_cert.subject:
        return False
    try:
        ca_cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True


def certificate_problem(cert, key, ca_cert, want, renew_days, at):
    """Why ``cert`` must be issued again as of ``at``, or None when it matches ``want`` (subject,
    names, usage)."""
    if cert is None:
        return "no certificate"
    if not same_key(cert, key):
        return "certificate does not match the key"
    if not _signed_by(cert, ca_cert):
        return "not signed by the environment's CA"
    common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if [a.value for a in common] != [want["subject"]]:
        return "subject changed"
    alt = _extension(cert, x509.SubjectAlternativeName)
    if set(alt or []) != set(general_names(want.get("names") or [])):
        return "subject alternative names changed"
    usage = _extension(cert, x509.ExtendedKeyUsage)
    if list(usage or []) != [USAGES[want["usage"]]]:
        return "usage changed"
    left = cert.not_valid_after_utc - at
    if left < datetime.timedelta(days=renew_days):
        return f"expires in {max(left.days, 0)} days (renewed {renew_days} days ahead)"
    return None


def ca_problem(cert, key, renew_days, at):
    """Why a generated CA must be made again as of ``at``, or None."""
    if key is None:
        return "no CA key"
    if cert is None:
        return "no CA certificate"
    if not same_key(cert, key):
        return "CA certificate does not match its key"
    if cert.not_valid_after_utc - at < datetime.timedelta(days=renew_days):
        return "CA expires soon"
    return None


def make_ca(environment, days, at, key=None):
    key = key or ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Paddock {environment} CA")])
    cert = (_builder(name, name, key.public_key(), days, at)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA384()))
    return key, cert


def issue(want, key, ca_cert, ca_key, days, at):
    """A certificate for ``want`` (subject, names, usage) on ``key``, signed by the CA, valid from ``at``."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, want["subject"])])
    builder = (_builder(subject, ca_cert.subject, key.public_key(), days, at)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=True, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=False)
               .add_extension(x509.ExtendedKeyUsage([USAGES[want["usage"]]]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
                              critical=False))
    if want.get("names"):
        builder = builder.add_extension(x509.SubjectAlternativeName(general_names(want["names"])), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def file_differs(path, content, mode):
    """True when ``path`` lacks ``content`` (bytes) or ``mode`` (an int)."""
    try:
        if os.stat(path).st_mode & 0o7777 != mode:
            return True
    except FileNotFoundError:
        return True
    return read(path) != content


def write(path, content, mode):
    """Write atomically with ``mode`` from the first byte (a key is never readable by others)."""
    temporary = f"{path}.{os.getpid()}.paddock-new"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def expiry(cert):
    return cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")


# Each lifetime setting, and what a renewal threshold at or past it does.
LIFETIMES = (("pki_ca_days", "make a new CA, and every certificate with it"),
             ("pki_server_days", "issue the engines' certificates again and restart every engine"),
             ("pki_user_days", "issue the users' certificates again"))


def renewal_errors(settings, defaults):
    """pki_renew_days against the lifetimes in ``settings`` (a host's variables, types already
    checked), each not set there read from ``defaults`` (the roles' defaults, roles/pki): a
    threshold at or past a lifetime renews those certificates on every run, which then never
    reports changed=0. Each message names where the setting that was given is set."""
    try:
        renew = int(settings.get("pki_renew_days", defaults["pki_renew_days"]))
        lifetimes = [(name, int(settings.get(name, defaults[name])), harm) for name, harm in LIFETIMES]
    except (TypeError, ValueError):
        return []
    errors = []
    for name, days, harm in lifetimes:
        if renew >= days:
            given = "pki_renew_days" if "pki_renew_days" in settings else name
            errors.append(f"{origin(settings.get(given), 'inventory')}: pki_renew_days: {renew} is not less than "
                          f"{name} ({days}): every run would {harm}")
    return errors
