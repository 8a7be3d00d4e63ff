# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A catalog app's passwords as Swarm secrets instead of environment variables.

A service's environment is in its specification, which every read-only user reads with
``GET /services``. Where the image reads a variable from a file (the official images' ``_FILE``
convention), a variable whose value is the answer to a password question becomes a Swarm
secret, mounted at /run/secrets/, and the variable ``NAME_FILE`` names it. Secrets are
immutable, so the secret's name carries a digest of its value: a changed password is a new
secret. The digest is scrypt, slow on purpose, since the name is readable by every user.
"""

from __future__ import annotations

import hashlib
import re

# Images (the last part of the repository, so a registry's copy counts) and the variables they
# read from a file named by VARIABLE_FILE. Official images' documentation, and Paddock's own
# stand-ins in images/.
FILE_VARIABLES = {
    "mariadb": re.compile(r"^(MARIADB|MYSQL)_(ROOT_)?PASSWORD$"),
    "mysql": re.compile(r"^MYSQL_(ROOT_)?PASSWORD$"),
    "postgres": re.compile(r"^POSTGRES_PASSWORD$"),
    "wordpress": re.compile(r"^WORDPRESS_DB_PASSWORD$"),
    "mongo": re.compile(r"^MONGO_INITDB_ROOT_PASSWORD$"),
}


def image_name(image):
    """``registry:5000/paddock/mariadb:10.11`` -> ``mariadb``."""
    last = str(image or "").split("@")[0].rsplit("/", 1)[-1]
    return last.split(":")[0]


def digest(stack, variable, value):
    return hashlib.scrypt(value.encode(), salt=f"paddock {stack} {variable}".encode(), n=2 ** 14, r=8, p=1,
                          dklen=6).hex()


def _environment(service):
    """The service's environment as a mapping. Not _stack._as_map: a variable without a value
    (``- KEY``, ``KEY: null``) is passed through from the deploying shell, and must stay so."""
    environment = service.get("environment")
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
    return dict(environment or {})


def to_secrets(stack, compose, passwords):
    """Move ``passwords`` ({question variable: value}) out of the services' environments of
    ``compose`` (changed in place) where the image reads them from a file. Returns the secrets'
    contents by their key in the compose file; the compose file names each as ``file:
    ./STACK.secrets/KEY``, which the deploying module writes and removes."""
    files = {}
    if not passwords:
        return files
    by_value = {}
    for variable, value in sorted(passwords.items()):
        for form in (value, value.replace("$", "$$")):
            by_value.setdefault(form, (variable, value))
    for service in (compose.get("services") or {}).values():
        pattern = FILE_VARIABLES.get(image_name(service.get("image")))
        if pattern is None or not service.get("environment"):
            continue
        environment, mounted = _environment(service), []
        for name, value in list(environment.items()):
            if not pattern.match(name) or value not in by_value:
                continue
            variable, raw = by_value[value]
            key = f"{variable}_{digest(stack, variable, raw)}"
            files[key] = raw
            del environment[name]
            environment[f"{name}_FILE"] = f"/run/secrets/{key}"
            mounted.append(key)
        if mounted:
            service["environment"] = environment
            existing = list(service.get("secrets") or [])
            service["secrets"] = existing + [key for key in sorted(set(mounted)) if key not in existing]
    if files:
        secrets = compose.setdefault("secrets", {})
        for key in files:
            secrets[key] = {"file": f"./{stack}.secrets/{key}"}
    return files
