"""What happened: the Events page (the engines' events and the console's actions of the last
hour) and the Audit page (every host's audit trails, for admins)."""

from __future__ import annotations

import time

import docker

from paddock_console import model
from paddock_console.site import guarded


@guarded("view")
def events(site, request, api):
    now = int(site.clock())
    seen = [model.event_row(e) for e in api.events(since=now - 3600, until=now, decode=True,
                                                   filters={"type": ["service", "node"]})]
    site.actions.sync(api)
    with site.actions.lock:
        own = [e for e in site.actions.recent if e["time"] >= now - 3600]
    rows = sorted(seen + own, key=lambda e: e["time"], reverse=True)[:300]
    for row in rows:
        row["when"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["time"]))
    return site.page(request, "events.html", events=rows)


@guarded("audit")
def audit(site, request, api):
    """Every host's trails (the engines' and the console's), as the audit service's logs carry
    them: the newest 500 records that match the filters, among each node's last 5,000 within
    the last day unless asked (a bound on what one page reads at any number of nodes; the
    playbook reads the trails whole)."""
    asked = {key: str(request.query_params.get(key, "")).strip()[:64] for key in ("user", "since", "until", "path")}
    since = model.unix_time(asked["since"]) or int(site.clock()) - 86400
    problem = None
    try:
        lines = api.service_logs(site.config.audit_service, stdout=True, stderr=False, since=since, tail=5000,
                                 is_tty=False)
        text = (b"".join(lines) if not isinstance(lines, bytes) else lines).decode("utf-8", "replace")
    except docker.errors.NotFound:
        text, problem = "", f"the audit service {site.config.audit_service} does not run"
    rows = model.audit_rows(model.audit_logged(text), **asked)
    return site.page(request, "audit.html", rows=rows[:500], matched=len(rows), asked=asked, problem=problem)


def routes(site):
    return [site.route("/events", events), site.route("/audit", audit)]
