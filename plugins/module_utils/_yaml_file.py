# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Find and read YAML files on the controller, with a problem a user can act on when one fails."""

from __future__ import annotations

import os

import yaml


def first_file(directory, names):
    """The path of the first of ``names`` that is a file in ``directory``, or None."""
    for name in names:
        if os.path.isfile(os.path.join(directory, name)):
            return os.path.join(directory, name)
    return None


def read(path, shown):
    """(text, problem): the file's text, or why it could not be read, prefixed with ``shown``."""
    try:
        with open(path) as handle:
            return handle.read(), None
    except FileNotFoundError:
        return None, f"{shown}: file not found"
    except IsADirectoryError:
        return None, f"{shown}: is a directory, not a file"


def load(path, shown):
    """(document, problem): the parsed file, or why it could not be read, prefixed with ``shown``."""
    text, problem = read(path, shown)
    return (None, problem) if problem else parse(text, shown)


def parse(text, shown, what=""):
    """(document, problem) for YAML text; ``what`` says what the text is (a rendered template)."""
    try:
        return yaml.safe_load(text), None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        return None, f"{shown}: {what}{where}not valid YAML: {getattr(exc, 'problem', None) or exc}"
