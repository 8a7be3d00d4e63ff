# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""What roles hand paddock.platform.host_probe, and what they read from its answer.

Roles read a host's state in one round trip (plugins/modules/host_probe.py) so that a
converged host costs one probe; the trusted modules (copy, apt, service) then run only where
the state differs.
"""

from __future__ import annotations

import hashlib


def file_digests(files):
    """``{path: {content, mode[, owner, group]}}`` as the probe wants it: the content's SHA-1 instead."""
    out = {}
    for path, wanted in (files or {}).items():
        digest = {key: value for key, value in wanted.items() if key in ("mode", "owner", "group")}
        digest["sha1"] = hashlib.sha1(str(wanted["content"]).encode()).hexdigest()
        out[path] = digest
    return out


def files_differ(files, found):
    """The paths of ``{path: {content, mode[, owner, group]}}`` that the probe's ``files`` lack.

    For a role whose wanted content depends on another fact of the same probe, so the probe
    reads the files (null) and the comparison happens here, on the controller."""
    wanted = file_digests(files)
    return [path for path in wanted if differs((found or {}).get(path), wanted[path])]


def directories_differ(wanted, found):
    """The paths of ``{path: mode}`` that the probe's ``directories`` lack or hold with another mode."""
    return [path for path, mode in (wanted or {}).items() if (found or {}).get(path) != _octal(mode)]


def _octal(mode):
    """A mode as the probe reports it: four octal digits ("755" and "0755" alike)."""
    return f"{int(str(mode), 8):04o}"


def differs(found, wanted):
    """Whether a file the probe read (mode, owner, group, sha1) lacks what is wanted."""
    if found is None:
        return True
    expected = dict(wanted, mode=_octal(wanted["mode"])) if "mode" in wanted else wanted
    return any(found.get(key) != value for key, value in expected.items())


def running_at_boot(state, unit):
    """systemd reports the unit active and enabled. False without systemd (the service module decides)."""
    unit_state = (state.get("units") or {}).get(unit) or {}
    return bool(unit_state.get("active") and unit_state.get("enabled"))
