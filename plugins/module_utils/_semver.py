# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Version ranges as Rancher's catalog wrote them in ``upgrade_from``.

Rancher read ``upgrade_from`` with blang/semver ranges: comparators (``>=1.0.0``, ``<2.0.0``,
``=1.2.3``, ``!=1.2.3``, or a bare version) joined by spaces (and) and ``||`` (or). Catalog
versions are looser than SemVer (``v0.2-bitnami``, ``2.7.1-rancher1``, ``1.642.2``), so a
leading ``v`` is dropped and missing minor or patch numbers count as 0. A pre-release
suffix sorts before its release, as in SemVer.
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
_COMPARATOR = re.compile(r"^(>=|<=|!=|==|=|>|<)?\s*(\S+)$")


def parse(text):
    """A version as a sortable key, or None when it is not one."""
    match = _VERSION.match(str(text).strip())
    if not match:
        return None
    numbers = tuple(int(part or 0) for part in match.group(1, 2, 3))
    pre = match.group(4)
    # A release sorts after its pre-releases; identifiers compare numerically when numeric.
    pre_key = (1,) if pre is None else (0,) + tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return numbers + (pre_key,)


def range_errors(text):
    """Why ``text`` is not a version range ([] when it is one)."""
    errors = []
    for alternative in str(text).split("||"):
        parts = _split(alternative)
        if not parts:
            errors.append(f"empty alternative in {text!r}")
        for part in parts:
            match = _COMPARATOR.match(part)
            if not match or parse(match.group(2)) is None:
                errors.append(f"{part!r} is not a version or a comparison with one")
    return errors


def _split(alternative):
    """'>= 1.0 <2' -> ['>=1.0', '<2']: an operator may be separated from its version."""
    tokens, out = alternative.split(), []
    for token in tokens:
        if out and out[-1] in (">=", "<=", "!=", "==", "=", ">", "<"):
            out[-1] += token
        else:
            out.append(token)
    return out


def matches(version, text):
    """Whether ``version`` is in the range ``text``. Both must be valid (see range_errors)."""
    key = parse(version)
    if key is None:
        return False
    for alternative in str(text).split("||"):
        ok = True
        for part in _split(alternative):
            op, bound = _COMPARATOR.match(part).groups()
            other = parse(bound)
            ok = ok and {">=": key >= other, "<=": key <= other, ">": key > other, "<": key < other,
                         "!=": key != other}.get(op, key == other)
        if ok:
            return True
    return False
