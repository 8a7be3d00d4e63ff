# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""How every validation message names where a problem is and what the bad value was.

A message reads ``<file>[:<line>]: <key path>: <problem>``. The file comes from the user's
own file when Paddock read it, or, for an inventory variable, from the origin ansible-core
2.19 records on each value it loads (``Origin``: the file and line of the value, or
``<CLI option '-e'>`` for an extra var). That tag is ansible-core's internal API, so it is
read defensively: without it (older or newer ansible-core, or a value built by a template),
the message falls back to the name the caller gives.
"""

from __future__ import annotations

import os

try:  # ansible-core 2.19+: every loaded value carries where it came from.
    from ansible._internal._datatag._tags import Origin as _Origin
except ImportError:  # pragma: no cover - ansible-core without data tagging
    _Origin = None

EXTRA_VARS = "-e (the command line's extra vars)"


def key_path(parts):
    """Render a key path as the dotted path a user reads in the file: ``a.b[0].c``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def either(names):
    """``a``, ``a or b``, ``a, b or c``: alternatives as a sentence lists them."""
    names = list(names)
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


def as_text(value):
    """A scalar as text, YAML's booleans as ``true``/``false``: how Rancher passed an answer,
    an option, an environment value or an argument on (``str(True)`` is ``True``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def describe(value):
    """A value as a user would name it: ``integer 42``, ``string 'x'``, ``a mapping``.

    ``isinstance``, not ``type().__name__``: Ansible hands over its own tagged subclasses
    (``_AnsibleTaggedInt``), whose names mean nothing to a user.
    """
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string '{value}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if value is None:
        return "null"
    return type(value).__name__


def shown_path(path):
    """A path as a message shows it: relative when it is under the working directory."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def listed_mappings(value, variable, list_shape, mapping_shape, known, problems):
    """Each mapping of an inventory setting that is a list of them, as ``(index, where, entry)``;
    ``where`` reads ``<file>:<line>: <variable>[i]``. What is wrong with the list's shape, an entry
    that is not a mapping and an unknown key are appended to ``problems`` as the entries are
    read, so each entry's own problems, appended by the caller, follow them in order.

    ``list_shape`` and ``mapping_shape`` finish "must be ..."; ``known`` lists the keys in the
    order messages name them."""
    where_all = origin(value, "inventory")
    if not isinstance(value, list):
        problems.append(f"{where_all}: {variable}: must be {list_shape}")
        return
    for index, entry in enumerate(value):
        where = f"{origin(entry, where_all)}: {variable}[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be {mapping_shape}")
            continue
        problems.extend(f"{where}.{key}: unknown key (known: {', '.join(known)})"
                        for key in sorted(set(entry) - set(known)))
        yield index, where, entry


def origin(value, fallback=None):
    """Where an Ansible variable's value was written: ``inventory/hosts.yml:12``, the extra-vars
    name, or ``fallback`` when ansible-core did not record it."""
    tag = _Origin.get_tag(value) if _Origin is not None else None
    if tag is None:
        return fallback
    if tag.path:
        return shown_path(tag.path) + (f":{tag.line_num}" if tag.line_num else "")
    if tag.description and "-e" in tag.description:
        return EXTRA_VARS
    return tag.description or fallback


