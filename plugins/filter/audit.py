# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardening checks of playbooks/audit.yml. Documented in audit_checks.yml beside this file."""

from __future__ import annotations

import json

from ansible_collections.paddock.platform.plugins.module_utils._audit import certificate_checks, checks, pem_blocks


def audit_checks(probe, swarm_node, autolock=None, renew_days=None):
    """Each check as {id, title, passed, detail}, from the host's probe (its JSON output or parsed)."""
    return checks(json.loads(probe) if isinstance(probe, str) else probe, bool(swarm_node), autolock, renew_days)


def audit_certificates(texts, renew_days):
    """The certificate checks of files read on the controller: {path: the file's text}."""
    return certificate_checks(pem_blocks(texts), renew_days)


def audit_line(result):
    """One check as a report line: PASS or FAIL, id, title and what was seen."""
    return f"{'PASS' if result['passed'] else 'FAIL'} {result['id']:<5} {result['title']}: {result['detail']}"


class FilterModule:
    def filters(self):
        return {"audit_checks": audit_checks, "audit_certificates": audit_certificates, "audit_line": audit_line}
