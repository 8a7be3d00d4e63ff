# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardening checks of playbooks/audit.yml. Documented in audit_checks.yml beside this file."""

from __future__ import annotations

import json
import re

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


ISO_PREFIX = re.compile(r"^\d{4}(-\d\d(-\d\d([T ]\d\d(:\d\d(:\d\d(\.\d{1,6})?)?)?)?)?)?Z?$")


def audit_log_query_errors(query):
    """The problems of playbooks/audit_log.yml's query (user, since, until, path, limit), each
    as ``audit_log_<name>: problem``."""
    errors = []
    for name in ("since", "until"):
        value = str(query.get(name) or "")
        if value and not ISO_PREFIX.match(value):
            errors.append(f"audit_log_{name}: must be an ISO 8601 time in UTC or its start, such as 2026-12-07T10:30, "
                          f"got {value!r}")
    if query.get("path"):
        try:
            re.compile(str(query["path"]))
        except re.error as exc:
            errors.append(f"audit_log_path: not a regular expression ({exc}): {query['path']!r}")
    if len(str(query.get("user") or "")) > 256:
        errors.append("audit_log_user: longer than 256 characters")
    try:
        if int(query.get("limit")) < 1:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(f"audit_log_limit: must be a whole number of at least 1, got {query.get('limit')!r}")
    return errors


def _record_line(host, trail, record):
    who = record.get("user") or "-"
    if record.get("on_behalf_of"):
        who += f" for {record['on_behalf_of']}"
    if record.get("role"):
        who += f" ({record['role']})"
    what = " ".join(str(record[k]) for k in ("method", "path") if record.get(k)) or \
        " ".join(str(record[k]) for k in ("action", "target") if record.get(k))
    outcome = " ".join(str(record[k]) for k in ("decision", "result", "status") if record.get(k) not in (None, ""))
    if record.get("stage") == "response" and record.get("status") is None:
        outcome = "answered"  # the engine gives its plugin no status for an error or a stream
    why = f": {record['reason']}" if record.get("reason") else ""
    return f"{record.get('time', '?')} {host} {trail} #{record.get('seq', '?')} {record.get('stage', '')} {who} " \
           f"{what} {outcome}{why}".replace("\n", " ")


def audit_log_lines(trails, host):
    """One line per record of a host's audit_log result (its trails), then one per broken link."""
    lines = []
    for trail in trails or []:
        name = trail["trail"].rsplit("/", 1)[-1].removesuffix(".log")
        lines += [_record_line(host, name, record) for record in trail["records"]]
        if trail["matched"] > len(trail["records"]):
            lines.append(f"{host} {name}: {trail['matched']} records matched, the newest {len(trail['records'])} shown")
        lines += [f"{host} {name}: BROKEN: {problem}" for problem in trail["problems"]]
    return lines or [f"{host}: no record matched"]


def audit_log_broken(hosts, hostvars):
    """Each broken link of every host's trails, as ``host: file:line: problem``, and each host that
    did not report; a host marked ``node_state: absent`` is not read."""
    out = []
    for host in hosts:
        if hostvars[host].get("node_state", "present") == "absent":
            continue
        read = hostvars[host].get("audit_log_read")
        if read is None or "trails" not in read:
            out.append(f"{host}: did not report (unreachable, or failed before reading its trails)")
            continue
        out += [f"{host}: {problem}" for trail in read["trails"] for problem in trail["problems"]]
    return out


class FilterModule:
    def filters(self):
        return {"audit_checks": audit_checks, "audit_certificates": audit_certificates,
                "audit_earliest": audit_earliest, "audit_failures": audit_failures, "audit_line": audit_line,
                "audit_log_query_errors": audit_log_query_errors, "audit_log_lines": audit_log_lines,
                "audit_log_broken": audit_log_broken}
