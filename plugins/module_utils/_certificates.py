# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""The inventory's certificate store, ``paddock_certificates``: what Rancher's certificate store
was. Stacks and catalog entries name a certificate (``lb_config.default_cert`` and ``certs``) and
the load balancer serves it.

Each entry has a ``name``, the certificate (``cert_file``, a PEM file, or ``cert``, its text,
for instance from Ansible Vault) with its chain after it, and the private key (``key_file`` or
``key``). Files are read relative to the inventory's directory. Everything is checked on the
controller before any host is touched: both parse, the key is the certificate's, and the
certificate has not expired.
"""

from __future__ import annotations

import hashlib
import os
import re

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from ansible_collections.paddock.platform.plugins.module_utils._problems import listed_mappings

# As Rancher's store named them (an exported stack says default_cert: '*.example.org'): any
# printable text. On a load balancer's host the file is named by a digest of the name.
NAME = re.compile(r"^[^\s\x00-\x1f\x7f]([^\x00-\x1f\x7f]{0,126}[^\s\x00-\x1f\x7f])?$")
KEYS = ("name", "cert", "cert_file", "key", "key_file")


def _read(entry, part, inventory_dir):
    """(text, problem) of an entry's ``cert`` or ``key``: inline, or from its file."""
    inline, path = entry.get(part), entry.get(f"{part}_file")
    if (inline is None) == (path is None):
        return None, f"needs exactly one of {part} (the PEM text) and {part}_file (a PEM file)"
    if inline is not None:
        return (str(inline), None) if isinstance(inline, str) else (None, f"{part}: must be PEM text")
    if not isinstance(path, str) or not path:
        return None, f"{part}_file: must be a path"
    full = os.path.join(inventory_dir or ".", os.path.expanduser(path))
    try:
        with open(full, encoding="utf-8") as handle:
            return handle.read(), None
    except (OSError, UnicodeDecodeError) as error:
        return None, f"{part}_file: cannot read {path}: {getattr(error, 'strerror', None) or error}"


def _public(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def parse(cert_text, key_text, now):
    """(certificates, key, problem): the chain (leaf first) and the key, or why not, as of ``now``."""
    try:
        chain = x509.load_pem_x509_certificates(cert_text.encode())
    except ValueError:
        return None, None, "cert: not a PEM certificate"
    try:
        key = serialization.load_pem_private_key(key_text.encode(), password=None)
    except TypeError:
        return None, None, "key: encrypted with a passphrase; give it decrypted (keep it in Ansible Vault)"
    except (ValueError, UnsupportedAlgorithm):
        return None, None, "key: not a PEM private key"
    leaf = chain[0]
    if _public(leaf.public_key()) != _public(key.public_key()):
        return None, None, f"key: not the key of the certificate {leaf.subject.rfc4514_string()}"
    if leaf.not_valid_after_utc < now:
        return None, None, (f"cert: {leaf.subject.rfc4514_string()} expired on "
                            f"{leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    return chain, key, None


def errors(certificates, inventory_dir, now):
    """Every problem of ``paddock_certificates`` as of ``now``, as ``<file>:<line>:
    paddock_certificates[i].key: problem``."""
    if certificates is None:
        return []
    found, seen = [], {}
    for index, where, entry in listed_mappings(
            certificates, "paddock_certificates", "a list, each with a name, a certificate and its key",
            "a mapping with name, cert or cert_file, and key or key_file", KEYS, found):
        name = entry.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            found.append(f"{where}.name: must be printable text of 1 to 128 characters, got {name!r}")
        elif name in seen:
            found.append(f"{where}.name: {name} is already paddock_certificates[{seen[name]}]")
        else:
            seen[name] = index
        texts = {}
        for part in ("cert", "key"):
            texts[part], problem = _read(entry, part, inventory_dir)
            if problem:
                found.append(f"{where}: {problem}")
        if texts["cert"] is not None and texts["key"] is not None:
            _, _, problem = parse(texts["cert"], texts["key"], now)
            if problem:
                found.append(f"{where}.{problem}")
    return found


def file_name(name):
    """The file a certificate is written to on a load balancer's host: safe whatever its name."""
    return hashlib.sha256(name.encode()).hexdigest()[:20] + ".pem"


def bundles(certificates, inventory_dir):
    """``{name: PEM}``: each certificate, its chain and its key in one file, as HAProxy reads it.
    Only for an inventory that passed ``errors``."""
    out = {}
    for entry in certificates or []:
        cert, _ = _read(entry, "cert", inventory_dir)
        key, _ = _read(entry, "key", inventory_dir)
        out[entry["name"]] = cert.strip() + "\n" + key.strip() + "\n"
    return out
