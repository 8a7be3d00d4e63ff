# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""A request body read as the Docker engine reads it, or refused with the reason.

The engine decodes a body with Go's encoding/json (Go 1.19, Debian's docker.io 20.10.24) into
its API type for the route (_engine_types.py). paddock-authz must judge that same reading, not
Python's: Go matches an object key to a struct field without regard to ASCII case, and with
U+017F (long s) read as ``s`` and U+212A (Kelvin sign) as ``k`` (encoding/json's fold.go), so
``"HOSTCONFIG": {"privileged": true}`` is a privileged container. ``read`` returns the body
with every key spelled as the engine's field, and each value as the field holds it:

- a key is placed on the field of its exact name, else on the one field it folds to; a key
  that matches no field of the type is refused (Go ignores it: Paddock does not guess);
- two keys that land on one field (``"Privileged"`` and ``"privileged"``, or one key twice) are
  refused: Go keeps the last, and merges two objects given to one struct field;
- ``null`` leaves a field as it was (Go's rule for every kind) and is dropped here;
- a value of the wrong kind is refused (the engine answers 400 for it), as is a number the
  field's type cannot hold, ``NaN`` or ``Infinity``, a number past float64;
- a fixed-size array given another length, a ``null`` inside a list or map (Go zeroes it),
  a string with an unpaired surrogate escape (Go writes U+FFFD), a body that is not UTF-8,
  not one JSON object, or followed by more data (Go reads the first value and ignores the
  rest) are refused: each is read by Go in a way the policy would have to copy, and none is
  sent by a Docker client;
- types with their own decoder: ``strslice.StrSlice`` (a string or a list of strings: Cmd,
  Entrypoint, CapAdd, CapDrop ...).

Refusing what Go would accept is safe (the request does not run); accepting what Go reads
otherwise is the bug this module exists to prevent. tests/unit/test_gojson.py holds the rule
for each case, and molecule/default's differential test sends generated bodies to a real
engine and compares what it recorded with what ``read`` returned.

Stdlib only: also deployed beside paddock_authz.py on every host.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

try:
    from ansible_collections.paddock.platform.plugins.module_utils._engine_types import ROOTS, TYPES
except ImportError:  # on a host, beside paddock_authz.py
    from _engine_types import ROOTS, TYPES  # type: ignore[no-redef]

# Go 1.19 compares a key with a field's (ASCII) name byte by byte: ASCII letters in either
# case, U+017F for s and U+212A for k (fold.go's equalFoldRight), everything else exactly.
FOLD = str.maketrans({**{chr(c): chr(c - 32) for c in range(ord("a"), ord("z") + 1)}, "\u017f": "S", "\u212a": "K"})
# Keys newer Docker clients send though they set nothing, which this engine has no field for:
# Go ignores them, and so does this reader. Any other key the engine does not know is refused.
# Each is harmless to an engine that ignores it.
NEWER_CLIENTS = {
    # The docker CLI 28 sends them in a container create (API 1.48: a network's priority as the
    # default gateway; API 1.44: the names the container answers to in DNS, which this engine
    # makes itself from its name and aliases).
    "network.EndpointSettings": {"GwPriority", "DNSNames"},
    # The docker CLI 28 sends it in every service spec (API 1.46: no_new_privileges for the
    # service's tasks; the engine's own default applies where it is ignored).
    "swarm.Privileges": {"NoNewPrivileges"},
    # The docker CLI 28 sends it with `exec -t` (API 1.42: the terminal's size, which this engine
    # takes from the resize call that follows).
    "types.ExecConfig": {"ConsoleSize"},
}
# A HostConfig field at the top of a create's body: the engine reads it there for clients older
# than API 1.20 and merges it with HostConfig's (runconfig's getHostConfig).
PROMOTED = {"container_create": ("HostConfig", "a HostConfig field at the top of the body (the engine reads it "
                                                "there for old clients); give it inside HostConfig")}
SURROGATE = re.compile("[\ud800-\udfff]")
WHITESPACE = " \t\n\r"
INTEGER = re.compile(r"-?(0|[1-9][0-9]*)$")
MAX_FLOAT32 = 3.4028234663852886e38


class Unreadable(ValueError):
    """The body cannot be placed on the engine's type unambiguously; the message says where."""


class _Number:
    """A JSON number with its literal text: Go parses the text by the field's type."""

    def __init__(self, text):
        self.text = text


class _Object(list):
    """A JSON object as its (key, value) pairs in order, duplicates kept."""


def _array(value):
    """Whether ``value`` is a JSON array (an object's pairs are a list too, and are not one)."""
    return isinstance(value, list) and not isinstance(value, _Object)


def fold(name):
    """A key or field name as Go 1.19 compares them: equal folds match."""
    return name.translate(FOLD)


def _reject_constant(name):
    raise Unreadable(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_Object, parse_float=_Number, parse_int=_Number,
                            parse_constant=_reject_constant, strict=True)


def parse(raw):
    """The JSON text of a body as pairs and numbers with their text, or Unreadable."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    except UnicodeDecodeError as exc:
        raise Unreadable(f"the body is not UTF-8 (byte {exc.start})") from None
    start = len(text) - len(text.lstrip(WHITESPACE))
    try:
        value, end = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"the body is not JSON: {exc.msg} at character {exc.pos}") from None
    if text[end:].strip(WHITESPACE):
        raise Unreadable(f"the body has data after its JSON value, at character {end}")
    return value


def read(raw, route):
    """The body of ``route`` (a key of ROOTS) as the engine decodes it: a dict keyed by the
    engine's field names. Raises Unreadable, naming the path inside the body."""
    value = parse(raw)
    if not isinstance(value, _Object):
        raise Unreadable("the body is not a JSON object")
    out = _value(value, ROOTS[route], "")
    if route in PROMOTED:
        via, problem = PROMOTED[route]
        fields = TYPES[ROOTS[route]][1]
        for name in out:
            if fields[name][1].split(".")[0] == via:
                raise Unreadable(f"{name}: {problem}")
    return out


def _where(path):
    return path or "the body"


def _kind_of(value):
    if isinstance(value, _Object):
        return "an object"
    if _array(value):
        return "a list"
    if isinstance(value, _Number):
        return f"the number {value.text}"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    return "null"


def _mismatch(value, wanted, path):
    return Unreadable(f"{_where(path)}: the engine reads {wanted} here, got {_kind_of(value)}")


def _string(value, path):
    if not isinstance(value, str):
        raise _mismatch(value, "a string", path)
    if SURROGATE.search(value):
        raise Unreadable(f"{_where(path)}: a string with an unpaired surrogate escape (Go reads it as U+FFFD)")
    return value


def _integer(value, kind, bits, path):
    wanted = f"a whole number ({'u' if kind == 'uint' else ''}int{bits})"
    if not isinstance(value, _Number) or not INTEGER.match(value.text):
        raise _mismatch(value, wanted, path)
    number = int(value.text)
    low, high = (0, 2 ** bits - 1) if kind == "uint" else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if kind == "uint" and value.text.startswith("-") or not low <= number <= high:
        raise Unreadable(f"{_where(path)}: {value.text} does not fit {wanted}")
    return number


def _float(value, bits, path):
    if not isinstance(value, _Number):
        raise _mismatch(value, "a number", path)
    number = float(value.text)
    if number in (float("inf"), float("-inf")) or bits == 32 and abs(number) > MAX_FLOAT32:
        raise Unreadable(f"{_where(path)}: {value.text} does not fit float{bits}")
    return number


def _any(value, path):
    """interface{}: Go's own reading (objects as maps, numbers as float64)."""
    if isinstance(value, _Object):
        return {key: _any(item, f"{path}.{key}") for key, item in _unique(value, path)}
    if _array(value):
        return [_any(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, _Number):
        return _float(value, 64, path)
    if isinstance(value, str):
        return _string(value, path)
    return value


def _unique(pairs, path):
    seen = set()
    for key, value in pairs:
        _string(key, f"{path} key")
        if key in seen:
            raise Unreadable(f"{path}.{key}: given twice (Go keeps the last)" if path else f"{key}: given twice")
        seen.add(key)
        yield key, value


def _strslice(value, path):
    """strslice.StrSlice: a list of strings, or one string read as a list of it."""
    if isinstance(value, str):
        return [_string(value, path)]
    if not _array(value):
        raise _mismatch(value, "a string or a list of strings", path)
    return [_string(_present(item, f"{path}[{index}]"), f"{path}[{index}]") for index, item in enumerate(value)]


def _struct(value, fields, path, type_name=""):
    if not isinstance(value, _Object):
        raise _mismatch(value, "an object", path)
    ignored = {fold(name) for name in NEWER_CLIENTS.get(type_name, ())}
    folded = {}
    for name in fields:
        folded.setdefault(fold(name), []).append(name)
    out, placed = {}, {}
    for key, item in value:
        _string(key, f"{path} key")
        name = key if key in fields else next(iter(folded.get(fold(key), [])), None)
        inside = f"{path}.{key}" if path else key
        if name is None and fold(key) in ignored:
            continue
        if name is None:
            raise Unreadable(f"{inside}: no such field in the engine's API here (Docker 20.10, which would ignore "
                             "it: an option of a newer docker client?)")
        if name in placed:
            first = placed[name]
            raise Unreadable(f"{inside}: the engine reads it as {name}, which is also given as {first!r}"
                             if first != key else f"{inside}: given twice")
        placed[name] = key
        decoded = _value(item, fields[name][0], f"{path}.{name}" if path else name)
        if decoded is not None:
            out[name] = decoded
    return out


def _value(value, type_name, path):
    """``value`` as the engine holds it in a field of ``type_name``; None where it holds nothing."""
    kind, *spec = TYPES[type_name]
    if value is None:
        return None  # Go: a null leaves the field as it was
    if kind == "struct":
        return _struct(value, spec[0], path, type_name)
    if kind == "pointer":
        return _value(value, spec[0], path)
    if kind in ("slice", "array"):
        if not _array(value):
            raise _mismatch(value, "a list", path)
        if kind == "array" and len(value) != spec[1]:
            raise Unreadable(f"{_where(path)}: the engine reads a list of exactly {spec[1]} here, got {len(value)}")
        return [_element(item, spec[0], f"{path}[{index}]") for index, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, _Object):
            raise _mismatch(value, "an object", path)
        if TYPES[spec[0]][0] != "string":
            raise Unreadable(f"{_where(path)}: a map keyed by {spec[0]} is not read by paddock-authz")
        return {key: _element(item, spec[1], f"{path}.{key}") for key, item in _unique(value, path)}
    return _scalar(value, kind, spec, type_name, path)


def _present(value, path):
    if value is None:
        raise Unreadable(f"{path}: null in a list or map (Go stores an empty value there)")
    return value


def _element(value, type_name, path):
    return _value(_present(value, path), type_name, path)


def _scalar(value, kind, spec, type_name, path):
    if kind == "bool":
        if not isinstance(value, bool):
            raise _mismatch(value, "true or false", path)
        return value
    if kind == "string":
        return _string(value, path)
    if kind in ("int", "uint"):
        return _integer(value, kind, spec[0], path)
    if kind == "float":
        return _float(value, spec[0], path)
    if kind == "any":
        return _any(value, path)
    if kind == "bytes":
        try:
            return base64.b64decode(_string(value, path).replace("\r", "").replace("\n", ""), validate=True)
        except binascii.Error:
            raise Unreadable(f"{_where(path)}: not base64") from None
    if type_name == "strslice.StrSlice":
        return _strslice(value, path)
    raise Unreadable(f"{_where(path)}: the engine's type {type_name} is not read by paddock-authz")
