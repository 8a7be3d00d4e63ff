# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardening checks of playbooks/audit.yml. Documented in audit_checks.yml beside this file."""

from __future__ import annotations

import json

from ansible_collections.paddock.platform.plugins.module_utils._audit import certificate_checks, checks, pem_blocks
from ansible_collections.paddock.platform.plugins.module_utils._pki import now


def audit_checks(probe, swarm_node, autolock=None, renew_days=None):
    """Each check as {id, title, passed, detail}, from the host's probe (its JSON output or parsed),
    its certificates judged as of now: the filter is where the audit reads the clock."""
    return checks(json.loads(probe) if isinstance(probe, str) else probe, bool(swarm_node), autolock, renew_days,
                  now())


def audit_certificates(texts, renew_days):
    """The certificate checks of files read on the controller: {path: the file's text}."""
    return certificate_checks(pem_blocks(texts), renew_days, now())


def audit_earliest(hosts, hostvars):
    """The certificate that expires first among every host's audit (the controller's included),
    as ``host: path: detail``, or a line saying that none was read."""
    found = [(result["expires"], host, result) for host in hosts
             for result in hostvars[host].get("audit_results") or [] if result.get("expires")]
    if not found:
        return "The earliest certificate expiry: no certificate was read"
    expires, host, result = min(found, key=lambda entry: entry[0])
    return f"The earliest certificate expiry: {host}: {result['id'].removeprefix('cert:')}: {result['detail']}"


def audit_failures(hosts, hostvars):
    """What failed, one line per host that failed a check or did not report: ``host: N of M
    checks failed: id, id`` (the controller's play reports as localhost). A host marked
    ``node_state: absent`` is not audited, and not judged."""
    out = []
    for host in hosts:
        if hostvars[host].get("node_state", "present") == "absent":
            continue
        results = hostvars[host].get("audit_results")
        failed = [result["id"] for result in results or [] if not result["passed"]]
        if results is None:
            out.append(f"{host}: did not report (unreachable, or failed before its checks)")
        elif failed:
            out.append(f"{host}: {len(failed)} of {len(results)} checks failed: {', '.join(failed)}")
    return out


def audit_line(result):
    """One check as a report line: PASS or FAIL, id, title and what was seen."""
    return f"{'PASS' if result['passed'] else 'FAIL'} {result['id']:<5} {result['title']}: {result['detail']}"


class FilterModule:
    def filters(self):
        return {"audit_checks": audit_checks, "audit_certificates": audit_certificates,
                "audit_earliest": audit_earliest, "audit_failures": audit_failures, "audit_line": audit_line}
