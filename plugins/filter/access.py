# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access-control filters. Each is documented in the YAML file of its name beside this one."""

from __future__ import annotations

import hashlib
import os
import ssl

from ansible_collections.paddock.platform.plugins.module_utils._access import (
    console_identities,
    console_users,
    engine_users,
    member_allow_errors,
    users_errors,
)


def users_access(users, pki_dir):
    """Per user, what the engines' authorization plugin needs: the role and the SHA-256
    fingerprint of the certificate issued to the user (read on the controller)."""
    out = []
    for user in users or []:
        path = os.path.join(pki_dir, "users", user["name"], "cert.pem")
        prints = []
        if pki_dir and os.path.exists(path):
            with open(path) as handle:
                prints.append(hashlib.sha256(ssl.PEM_cert_to_DER_cert(handle.read())).hexdigest())
        out.append({"role": user["role"], "fingerprints": prints})
    return out


class FilterModule:
    def filters(self):
        return {"paddock_users_errors": users_errors, "paddock_users_access": users_access,
                "paddock_member_allow_errors": member_allow_errors, "console_identities": console_identities,
                "console_users": console_users, "engine_users": engine_users}
