# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Parse a role's read-only probe of a host.

Roles read a host's state in one command so that a converged host costs one round trip;
the trusted modules (copy, apt, service) then run only where the state differs. The probe
prints one fact per line:

  file <path> <mode> <sha1>
  pkg <name> <version> <status>        (dpkg-query; status "installed" counts)
  systemd <unit> <active> <enabled>    (systemctl is-active / is-enabled)
  pidfile <name> <rc>                  (start-stop-daemon --status; 0 = running)
"""

from __future__ import annotations


def parse_probe(lines):
    state = {"files": {}, "packages": {}, "systemd": None, "pidfiles": {}}
    for line in lines:
        kind, _, rest = line.partition(" ")
        fields = rest.split()
        if kind == "file" and len(fields) == 3:
            state["files"][fields[0]] = f"{fields[1]} {fields[2]}"
        elif kind == "pkg" and len(fields) == 3 and fields[2] == "installed":
            state["packages"][fields[0]] = fields[1]
        elif kind == "systemd" and fields:
            state["systemd"] = state["systemd"] or {}
            state["systemd"][fields[0]] = {"active": fields[1:2] == ["active"], "enabled": fields[2:3] == ["enabled"]}
        elif kind == "pidfile" and len(fields) == 2:
            state["pidfiles"][fields[0]] = fields[1] == "0"
    return state


def running_at_boot(state, unit):
    """systemd reports the unit active and enabled. False without systemd (the service module decides)."""
    unit_state = (state.get("systemd") or {}).get(unit) or {}
    return bool(unit_state.get("active") and unit_state.get("enabled"))
