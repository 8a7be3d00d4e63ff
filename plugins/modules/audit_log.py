#!/usr/bin/python
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: audit_log
short_description: Read a host's audit trails, verify their chains, and return the records asked for
description:
  - Reads every file of each trail on the host (the engine's API trail that paddock-authz writes,
    and the console's on a manager), oldest first, checks each record against its hash and the
    record before it, and returns the records that match the filters with every place a chain
    is broken - a line edited, removed, replaced or cut short.
  - It changes nothing.
  - Why a custom module - the trail is a hash chain (module_utils/_trail.py), which no builtin
    module can verify; reading it with C(slurp) would bring every file to the controller, where
    this returns only the matches.
version_added: "0.13.0"
author: Paddock contributors
options:
  trails:
    description: The trails' current files; each one's rotated files (C(.1) to C(.keep)) are read before it.
    type: list
    elements: path
    default: [/var/log/paddock/api-audit.log, /var/log/paddock/console/console-audit.log]
  keep:
    description: How many rotated files a trail keeps (roles/docker's docker_audit_keep).
    type: int
    default: 8
  user:
    description: Only the records of this user - the certificate's, the console's, or the one the console acted for.
    type: str
  since:
    description: Only records at or after this time (ISO 8601, UTC; a prefix such as C(2026-12-07T10) works).
    type: str
  until:
    description: Only records at or before this time (compared as text, so C(2026-12-07T12) ends before 12:00:00).
    type: str
  path:
    description: A regular expression searched in the request's path, or in the console action's target.
    type: str
  limit:
    description: At most this many records per trail are returned, the newest.
    type: int
    default: 500
attributes:
  check_mode:
    support: full
    details: It only reads, in check mode too.
"""

EXAMPLES = r"""
- name: Read what carol did on this host today
  paddock.platform.audit_log:
    user: carol
    since: "2026-12-07"
  register: audit_log
"""

RETURN = r"""
trails:
  description: For each trail that exists, what was read.
  returned: always
  type: list
  elements: dict
  contains:
    trail: {description: The trail's current file., type: str}
    records: {description: The matching records, oldest first., type: list, elements: dict}
    matched: {description: How many records matched (more than returned past C(limit))., type: int}
    count: {description: How many records the trail holds., type: int}
    problems: {description: Each place the chain is broken, as C(file:line - what)., type: list, elements: str}
    files: {description: The files read, oldest first., type: list, elements: str}
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.paddock.platform.plugins.module_utils._trail import read


def main():
    module = AnsibleModule(argument_spec={
        "trails": {"type": "list", "elements": "path",
                   "default": ["/var/log/paddock/api-audit.log", "/var/log/paddock/console/console-audit.log"]},
        "keep": {"type": "int", "default": 8},
        "user": {"type": "str"},
        "since": {"type": "str"},
        "until": {"type": "str"},
        "path": {"type": "str"},
        "limit": {"type": "int", "default": 500},
    }, supports_check_mode=True)
    params = module.params
    try:
        re.compile(params["path"] or "")
    except re.error as exc:
        module.fail_json(msg=f"path: not a regular expression: {exc}")
    found = []
    for trail in params["trails"]:
        if not os.path.exists(trail) and not os.path.exists(f"{trail}.1"):
            continue
        try:
            result = read(trail, params["keep"], limit=params["limit"], user=params["user"], since=params["since"],
                          until=params["until"], pattern=params["path"])
        except OSError as exc:
            module.fail_json(msg=f"Can not read the audit trail {trail}: {exc}")
        found.append(dict(result, trail=trail))
    module.exit_json(changed=False, trails=found)


if __name__ == "__main__":
    main()
