"""The audit trail as an operator meets it: every call to an engine over TLS recorded by the
plugin that decided it, read back across the hosts by playbooks/audit_log.yml, and an edited
line reported there."""

import base64
import os
import re
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
sys.path.insert(0, os.path.dirname(__file__))
from labtest import failures, on_host, playbook, wait_for  # noqa: E402
from test_access import HOSTS, INVENTORY, raw_request  # noqa: E402

TRAIL = "/var/log/paddock/api-audit.log"
LINE = re.compile(r"^\s*-?\s*'?(?P<time>\d{4}-\d\d-\d\dT[\d:.]+Z) (?P<host>\w+) (?P<trail>[\w-]+) #(?P<seq>\d+) "
                  r"(?P<stage>\w+) (?P<rest>.*?)'?,?$")


def audit_log(*extra):
    return playbook(INVENTORY, "playbooks/audit_log.yml", *extra)


def records(output, marker):
    """The report's lines that name ``marker``: [{time, host, trail, seq, stage, rest}]."""
    found = []
    for line in re.sub(r"\n\s{6,}", " ", output).splitlines():  # YAML output folds long lines
        match = LINE.match(line)
        if match and marker in line:
            found.append(match.groupdict())
    return found


def test_an_allowed_and_a_refused_call_are_each_recorded_once_with_their_user_decision_and_status():
    marker = f"trail-{uuid.uuid4().hex[:8]}"
    assert raw_request("bob", "GET", f"/v1.41/containers/{marker}/json")[0] == 404
    assert raw_request("bob", "GET", f"/v1.41/volumes?filters=%7B%22name%22%3A%5B%22{marker}%22%5D%7D")[0] == 200
    assert raw_request("carol", "POST", f"/v1.41/nodes/{marker}/update?version=1", {})[0] == 403
    run = audit_log("-e", f"audit_log_path={marker}|^/volumes$", "-e", "audit_log_user=bob")
    assert run.returncode == 0, failures(run.stdout)
    found = [(r["host"], r["trail"], r["stage"], r["rest"]) for r in records(run.stdout, "") if r["host"] == "mol01"]
    # The engine tells its plugin no status for an error (it writes it after asking): "answered".
    assert found[-4:] == [
        ("mol01", "api-audit", "request", f"bob (read-only) GET /containers/{marker}/json allow"),
        ("mol01", "api-audit", "response", f"bob (read-only) GET /containers/{marker}/json answered"),
        ("mol01", "api-audit", "request", "bob (read-only) GET /volumes allow"),
        ("mol01", "api-audit", "response", "bob (read-only) GET /volumes 200"),
    ], run.stdout[-3000:]
    run = audit_log("-e", f"audit_log_path={marker}")
    assert run.returncode == 0, failures(run.stdout)
    found = [(r["host"], r["trail"], r["stage"], r["rest"]) for r in records(run.stdout, marker)]
    assert found == [
        ("mol01", "api-audit", "request", f"bob (read-only) GET /containers/{marker}/json allow"),
        ("mol01", "api-audit", "response", f"bob (read-only) GET /containers/{marker}/json answered"),
        ("mol01", "api-audit", "request", f"carol (member) POST /nodes/{marker}/update deny 403: "
                                          f"user carol (member) may not POST /nodes/{marker}/update"),
    ], run.stdout[-3000:]
    # By user and time too: bob's record is there from a minute before to now.
    first = records(run.stdout, marker)[0]["time"]
    by_user = audit_log("-e", "audit_log_user=bob", "-e", f"audit_log_since={first[:16]}")
    assert by_user.returncode == 0 and [r["stage"] for r in records(by_user.stdout, marker)] == ["request", "response"]


def test_a_bad_query_is_refused_before_any_host_is_touched():
    run = audit_log("-e", "audit_log_since=yesterday", "-e", "audit_log_path=(")
    assert run.returncode != 0
    said = " ".join(run.stdout.split())
    assert "audit_log_since: must be an ISO 8601 time in UTC or its start" in said, said[-2000:]
    assert "audit_log_path: not a regular expression" in said
    assert "mol01" not in said.split("Check the query")[-1].split("PLAY RECAP")[0]


def answered(user, target, address):
    """The engine's status for a GET, or None while it does not answer (restarting)."""
    try:
        return raw_request(user, "GET", target, address=address)[0]
    except OSError:
        return None


def edit_in_place(host, marker, old, new):
    """Replace ``old`` by ``new`` (the same length) in the trail's line that names ``marker``,
    in place: the plugin's open file must go on being the trail."""
    script = (f"p = {TRAIL!r}\nd = open(p, 'rb').read()\ni = d.index({marker!r}.encode())\n"
              f"j = d.index({old!r}.encode(), d.rindex(b'\\n', 0, i) + 1)\n"
              f"with open(p, 'r+b') as f:\n    f.seek(j)\n    f.write({new!r}.encode())\n")
    on_host(INVENTORY, host, f"echo {base64.b64encode(script.encode()).decode()} | base64 -d | python3")


def test_an_edited_line_is_reported_and_the_chain_goes_on_across_restarts_of_the_plugin_and_the_engine():
    marker = f"edit-{uuid.uuid4().hex[:8]}"
    address = HOSTS["mol02"]
    assert raw_request("bob", "GET", f"/v1.41/containers/{marker}/json", address=address)[0] == 404
    edit_in_place("mol02", marker, '"user":"bob"', '"user":"eve"')
    broken = audit_log("-e", f"audit_log_path={marker}")
    assert broken.returncode != 0
    said = " ".join(broken.stdout.split())
    assert re.search(rf"mol02: {TRAIL}:\d+: record \d+ does not match its hash \(edited\)", said), said[-3000:]
    edit_in_place("mol02", marker, '"user":"eve"', '"user":"bob"')
    assert audit_log("-e", f"audit_log_path={marker}").returncode == 0

    before = int(records(audit_log("-e", f"audit_log_path={marker}").stdout, marker)[-1]["seq"])
    on_host(INVENTORY, "mol02", "systemctl restart paddock-authz && systemctl restart docker")
    assert wait_for(lambda: answered("bob", f"/v1.41/containers/{marker}-after/json", address) == 404,
                    timeout=90, interval=2)
    run = audit_log("-e", f"audit_log_path={marker}")
    assert run.returncode == 0, failures(run.stdout)  # no link broken by either restart
    after = [int(r["seq"]) for r in records(run.stdout, f"{marker}-after") if r["stage"] == "request"]
    assert after and after[0] > before, (before, after)
