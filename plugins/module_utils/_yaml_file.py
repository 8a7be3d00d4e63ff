# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Find and read YAML files on the controller, with a problem a user can act on when one fails.

Every user file (cloud-config, stack, catalog entry, answers) is read here, so the rules
are the same for all of them: UTF-8 text, valid YAML, and no key written twice in one
mapping. PyYAML keeps the last of two equal keys without a word; a user who wrote
``rancher:`` twice lost the first block's settings, so a duplicate is an error that names
both lines.
"""

from __future__ import annotations

import os

import yaml

# libyaml's parser when PyYAML has it: a 2.6 MB cloud-config parses in a fifth of the time.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):
    """SafeLoader that refuses a mapping key written twice (``<<`` merges stay allowed), or, with
    ``duplicates`` set to a list, notes it there and keeps the last, as Go's YAML v2 did."""

    duplicates = None

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:
                continue  # an unhashable key: the base class reports it
            if first is not key_node.start_mark:
                if self.duplicates is not None:
                    self.duplicates.append(f"line {key_node.start_mark.line + 1}: key '{key}' is written twice in "
                                           f"one mapping (first on line {first.line + 1}); the last is kept, as "
                                           "Rancher kept it")
                    continue
                raise yaml.constructor.ConstructorError(
                    None, None,
                    f"key '{key}' is written twice in one mapping (first on line {first.line + 1}); "
                    "YAML would silently keep only the last", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def first_file(directory, names):
    """The path of the first of ``names`` that is a file in ``directory``, or None."""
    for name in names:
        if os.path.isfile(os.path.join(directory, name)):
            return os.path.join(directory, name)
    return None


def read(path, shown):
    """(text, problem): the file's text, or why it could not be read, prefixed with ``shown``."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return None, f"{shown}: file not found"
    except IsADirectoryError:
        return None, f"{shown}: is a directory, not a file"
    except PermissionError:
        return None, f"{shown}: can not be read (permission denied)"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        return None, (f"{shown}: line {line}: is not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                      "save the file as UTF-8")


def load(path, shown, duplicates=None):
    """(document, problem): the parsed file, or why it could not be read, prefixed with ``shown``."""
    text, problem = read(path, shown)
    return (None, problem) if problem else parse(text, shown, duplicates=duplicates)


def parse(text, shown, what="", duplicates=None):
    """(document, problem) for YAML text; ``what`` says what the text is (a rendered template).

    A key written twice is a problem; given a list as ``duplicates``, it is a note appended
    there instead (``shown: line N: ...``), for files Paddock runs as Rancher ran them."""
    loader = _StrictLoader(text)
    noted = [] if duplicates is not None else None
    loader.duplicates = noted
    try:
        return loader.get_single_data(), None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or exc
        if not str(problem).startswith("key '"):
            problem = f"not valid YAML: {problem}"
        return None, f"{shown}: {what}{where}{problem}"
    finally:
        loader.dispose()
        if noted:
            duplicates += [f"{shown}: {what}{note}" for note in noted]


class Lines:
    """The line of a key path in a YAML file, for messages. The file is composed (not
    constructed) only when a line is first asked for, so a valid file costs nothing more."""

    def __init__(self, path):
        self.path, self._root, self._read = path, None, False

    def line(self, parts):
        """The 1-based line of the node at ``parts`` (keys and list indexes), or of its nearest
        ancestor that exists; None when the file can not be composed."""
        if not self._read:
            self._read = True
            try:
                with open(self.path, encoding="utf-8") as handle:
                    self._root = yaml.compose(handle, Loader=_SafeLoader)
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                self._root = None
        node, line = self._root, None
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in parts:
            if isinstance(node, yaml.MappingNode):
                found = next(((k, v) for k, v in node.value if k.value == str(part)), None)
                if found is None:
                    return line
                line, node = found[0].start_mark.line + 1, found[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line
