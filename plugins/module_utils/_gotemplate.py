# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Go text/template, as Rancher 1.6 applied it to catalog compose files.

From Rancher 1.5 on, the compose executor ran every catalog file through Go's text/template
with the Sprig functions before reading it as YAML, with ``.Values`` (the answers, all
strings), ``.Stack`` and ``.Release``; a file starting with ``# notemplating`` was left alone.
Community entries such as Traefik, MySQL or Elasticsearch depend on it
(``docker-compose.yml.tpl``). Python has no such engine (Jinja's syntax differs), so this is
one: the whole action syntax (trim markers, comments, pipelines, parentheses, variables,
``if``/``else if``/``else``, ``range`` with ``else``, ``with``), Go's built-in functions and the
Sprig functions catalog files use. Anything else fails with the file's line and what is not
supported, never with a silently different file.
"""

from __future__ import annotations

import base64
import inspect
import json
import math
import re

NO_TEMPLATING = re.compile(r"^#\s?notemplating")


class TemplateError(Exception):
    """A template that cannot be parsed or executed; ``str()`` starts with ``line N:``."""

    def __init__(self, line, message):
        super().__init__(f"line {line}: {message}")
        self.line = line


def templated(text):
    """Whether Rancher would have run ``text`` through the template engine to any effect."""
    return "{{" in text and not NO_TEMPLATING.match(text.strip())


# ---------------------------------------------------------------------------------------------
# Lexing: text and actions


def _actions(text):
    """[(kind, value, line)]: ("text", str) and ("action", tokens), trim markers applied."""
    out, pos, line = [], 0, 1
    trim_next = False
    while True:
        start = text.find("{{", pos)
        chunk = text[pos:] if start < 0 else text[pos:start]
        if trim_next:
            chunk = chunk.lstrip(" \t\r\n")
        if start < 0:
            out.append(("text", chunk, line))
            return out
        inner_start = start + 2
        trim_left = text[inner_start:inner_start + 1] == "-" and text[inner_start + 1:inner_start + 2] in " \t\r\n"
        if trim_left:
            chunk = chunk.rstrip(" \t\r\n")
            inner_start += 2
        out.append(("text", chunk, line))
        line += text.count("\n", pos, start)
        inner = inner_start
        if text.startswith("/*", inner):
            close = text.find("*/", inner)
            if close < 0:
                raise TemplateError(line, "unclosed comment")
            end = close + 2
            rest = text[end:]
            if rest.startswith("}}"):
                trim_next, after = False, end + 2
            elif re.match(r"[ \t\r\n]+-}}", rest):
                trim_next, after = True, end + re.match(r"[ \t\r\n]+-}}", rest).end()
            else:
                raise TemplateError(line, "comment ends before closing delimiter")
            line += text.count("\n", start, after)
            pos = after
            continue
        tokens, after, trim_next = _tokens(text, inner, line)
        out.append(("action", tokens, line))
        line += text.count("\n", start, after)
        pos = after


_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n]+)
  | (?P<close>-?}})
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?))
  | (?P<declare>:=)
  | (?P<assign>=)
  | (?P<punct>[()|,])
  | (?P<variable>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)


def _tokens(text, pos, line):
    """The tokens of one action from ``pos``; returns (tokens, position after it, trim after)."""
    tokens = []
    while True:
        found = _TOKEN.match(text, pos)
        if not found:
            if pos >= len(text):
                raise TemplateError(line, "unclosed action")
            raise TemplateError(line, f"unexpected {text[pos]!r} in action")
        kind, value = found.lastgroup, found.group()
        pos = found.end()
        if kind == "space":
            if text.startswith("-}}", pos):
                return tokens, pos + 3, True
            continue
        if kind == "close":
            if value.startswith("-"):  # "-}}" needs a space before it; "3-}}" is not a trim
                raise TemplateError(line, "unexpected '-' before the closing delimiter")
            return tokens, pos, False
        if kind == "string":
            try:
                value = json.loads(value)
            except ValueError:
                raise TemplateError(line, f"bad string {value}") from None
            kind = "literal"
        elif kind == "raw":
            value, kind = value[1:-1], "literal"
        elif kind == "number":
            if re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+", value):
                value = int(value, 16)
            else:
                value = int(value) if re.fullmatch(r"[-+]?\d+", value) else float(value)
            kind = "literal"
        elif kind == "ident" and value in ("true", "false"):
            value, kind = value == "true", "literal"
        elif kind == "ident" and value == "nil":
            value, kind = None, "literal"
        tokens.append((kind, value))


# ---------------------------------------------------------------------------------------------
# Parsing: a tree of text, actions and blocks


class _Pipeline:
    def __init__(self, declare, names, commands, line):
        self.declare, self.names, self.commands, self.line = declare, names, commands, line


def _parse_pipeline(tokens, line, allow_two=False):
    """A pipeline: [$x :=] command | command ... ; a command is a list of operands."""
    names, declare, index = [], None, 0
    # $x := ..., $x = ..., or (range) $i, $v := ...
    if tokens and tokens[0][0] == "variable":
        if len(tokens) > 1 and tokens[1][0] in ("declare", "assign"):
            names, declare, index = [tokens[0][1]], tokens[1][0], 2
        elif allow_two and len(tokens) > 3 and tokens[1] == ("punct", ",") and tokens[2][0] == "variable" \
                and tokens[3][0] == "declare":
            names, declare, index = [tokens[0][1], tokens[2][1]], "declare", 4
    for name in names:
        if "." in name:
            raise TemplateError(line, f"cannot declare {name}")
    commands, operands, body, i = [], [], tokens[index:], 0
    while i < len(body):
        kind, value = body[i]
        if (kind, value) == ("punct", "("):  # a parenthesised pipeline: up to its matching paren
            depth, end = 1, i + 1
            while end < len(body) and depth:
                depth += {("punct", "("): 1, ("punct", ")"): -1}.get(body[end], 0)
                end += 1
            if depth:
                raise TemplateError(line, "unclosed left paren")
            operands.append(("pipeline", _parse_pipeline(body[i + 1:end - 1], line)))
            i = end
            continue
        if (kind, value) == ("punct", ")"):
            raise TemplateError(line, "unexpected right paren")
        if kind in ("declare", "assign") or (kind, value) == ("punct", ","):
            raise TemplateError(line, f"unexpected {value!r} in command")
        operands.append((kind, value))
        i += 1
    for command in _split_pipes(operands, line):
        commands.append([_operand(o, line) for o in command])
    if not commands:
        raise TemplateError(line, "missing value for command")
    return _Pipeline(declare, names, commands, line)


def _split_pipes(operands, line):
    commands, command = [], []
    for operand in operands:
        if operand == ("punct", "|"):
            if not command:
                raise TemplateError(line, "missing command before '|'")
            commands.append(command)
            command = []
        else:
            command.append(operand)
    if commands and not command:
        raise TemplateError(line, "missing command after '|'")
    if command:
        commands.append(command)
    return commands


def _operand(operand, line):
    kind, value = operand
    if kind == "ident":
        if value not in FUNCTIONS:
            raise TemplateError(line, f'function "{value}" not defined' + (
                "" if value not in _UNSUPPORTED_KEYWORDS else f" ({value} is not supported by Paddock)"))
        return ("function", value)
    return (kind, value)


_UNSUPPORTED_KEYWORDS = ("define", "template", "block", "break", "continue")


def parse(text):
    """The tree of ``text``: a list of nodes; raises TemplateError."""
    root = []
    stack = [("root", root, None)]
    for kind, value, line in _actions(text):
        body = stack[-1][1]
        if kind == "text":
            if value:
                body.append(("text", value))
            continue
        if not value:
            raise TemplateError(line, "missing value for command")
        head = value[0]
        word = head[1] if head[0] == "ident" else None
        if word in ("if", "with", "range"):
            node = {"kind": word, "branches": [(_parse_pipeline(value[1:], line, word == "range"), [])],
                    "else": None, "line": line}
            body.append(("block", node))
            stack.append((word, node["branches"][0][1], node))
        elif word == "else":
            if stack[-1][0] == "root":
                raise TemplateError(line, "unexpected {{else}}")
            _, _, node = stack.pop()
            if node["else"] is not None:
                raise TemplateError(line, "expected end; found else")
            if len(value) > 1 and value[1] == ("ident", "if") and node["kind"] == "if":
                branch = (_parse_pipeline(value[2:], line), [])
                node["branches"].append(branch)
                stack.append(("if", branch[1], node))
            elif len(value) > 1:
                raise TemplateError(line, "else takes no arguments here")
            else:
                node["else"] = []
                stack.append(("else", node["else"], node))
        elif word == "end":
            if len(value) > 1:
                raise TemplateError(line, "unexpected value after end")
            if stack[-1][0] == "root":
                raise TemplateError(line, "unexpected {{end}}")
            stack.pop()
        elif word in _UNSUPPORTED_KEYWORDS:
            raise TemplateError(line, f"{{{{{word}}}}} is not supported by Paddock")
        else:
            body.append(("action", _parse_pipeline(value, line)))
    if len(stack) > 1:
        raise TemplateError(stack[-1][2]["line"], f"unexpected EOF: {{{{{stack[-1][2]['kind']}}}}} has no {{{{end}}}}")
    return root


# ---------------------------------------------------------------------------------------------
# Values as Go sees them


class StringMap(dict):
    """A Go map[string]string: a missing key is the empty string (``.Values``)."""


class Struct(dict):
    """A Go struct: a missing field is an error (``.Stack``, ``.Release``, the root)."""


def truth(value):
    """Go's truth: false, 0, nil and empty strings, lists and maps are false."""
    if value is None:
        return False
    if isinstance(value, (bool, int, float)):
        return bool(value)
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) > 0
    return True


def show(value):
    """A value printed as Go's fmt prints it with %v."""
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value).removesuffix(".0") if value == int(value) and abs(value) < 1e21 else repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(_inner(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_inner(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _inner(value):
    return "<nil>" if value is None else show(value)


def _kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _to_int(value):
    """Sprig's toInt64: numbers as they are, strings parsed (0 when they are not numbers)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    try:
        return int(float(str(value).strip()))
    except ValueError:
        return 0


# ---------------------------------------------------------------------------------------------
# Functions: Go's built-ins, and the Sprig functions catalog files use


class _Fail(Exception):
    pass


def _compare(name, op):
    """eq (two or more arguments: the first equals any other), ne, lt, le, gt, ge."""
    def compare(*args):
        if len(args) < 2 or (name != "eq" and len(args) != 2):
            raise _Fail(f"wrong number of args for {name}: want 2 got {len(args)}")
        first = args[0]
        for other in args[1:]:
            if _kind(first) != _kind(other):
                raise _Fail("incompatible types for comparison")
            if _kind(first) not in ("int", "float", "string") + (("bool", "NoneType") if name in ("eq", "ne") else ()):
                raise _Fail("invalid type for comparison")
        return any(op(first, other) for other in args[1:])
    return compare


def _printf(fmt, *args):
    args, out, index = list(args), [], 0

    def take():
        nonlocal index
        if index >= len(args):
            return None, True
        index += 1
        return args[index - 1], False

    pos = 0
    for match in re.finditer(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])", fmt):
        out.append(fmt[pos:match.start()])
        pos = match.end()
        flags, width, precision, verb = match.groups()
        if verb == "%":
            out.append("%")
            continue
        value, missing = take()
        if missing:
            out.append(f"%!{verb}(MISSING)")
            continue
        if verb in "sv":
            text = show(value)
        elif verb == "q":
            text = json.dumps(show(value), ensure_ascii=False)
        elif verb == "d" and isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
        elif verb == "t" and isinstance(value, bool):
            text = show(value)
        elif verb in "fFeEg" and isinstance(value, (int, float)) and not isinstance(value, bool):
            text = f"%{'.' + precision if precision else ''}{verb}" % value
        elif verb in "xX" and isinstance(value, (int, str)) and not isinstance(value, bool):
            text = format(value, verb) if isinstance(value, int) else value.encode().hex()
            text = text.upper() if verb == "X" else text
        else:
            text = f"%!{verb}({_kind(value)}={show(value)})"
        if width:
            text = text.ljust(int(width)) if "-" in (flags or "") else text.rjust(int(width),
                                                                                   "0" if "0" in (flags or "") else " ")
        out.append(text)
    out.append(fmt[pos:])
    if index < len(args):
        out.append("%!(EXTRA " + ", ".join(f"{_kind(a)}={show(a)}" for a in args[index:]) + ")")
    return "".join(out)


def _sprint(*args):
    out = []
    for index, arg in enumerate(args):
        if index and not isinstance(arg, str) and not isinstance(args[index - 1], str):
            out.append(" ")
        out.append(show(arg))
    return "".join(out)


def _index(collection, *keys):
    for key in keys:
        if isinstance(collection, dict):
            collection = collection.get(key, "" if isinstance(collection, StringMap) else None)
        elif isinstance(collection, (list, tuple, str)):
            if not isinstance(key, int) or not 0 <= key < len(collection):
                raise _Fail(f"index out of range: {show(key)}")
            collection = collection[key]
        else:
            raise _Fail(f"can't index item of type {_kind(collection)}")
    return collection


def _length(value):
    if not isinstance(value, (str, list, tuple, dict)):
        raise _Fail(f"len of type {_kind(value)}")
    return len(value)


def _split_preserve_quotes(text):
    """Rancher's splitPreserveQuotes: split at white space outside quotation marks, keeping them."""
    pieces, piece, quoted = [], [], False
    for index, char in enumerate(text):
        if char in "\"'\u00ab\u00bb\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2039\u203a":
            quoted = not quoted
        last = index == len(text) - 1
        if (char.isspace() and not quoted) or last:
            if last:
                piece.append(char)
            pieces.append("".join(piece))
            piece = []
        else:
            piece.append(char)
    return pieces


def _indent(width, text):
    pad = " " * _to_int(width)
    return pad + str(text).replace("\n", "\n" + pad)


def _go_regex(pattern):
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise _Fail(f"bad regular expression {pattern!r}: {exc}") from None


def _b64decode(text):
    try:
        return base64.b64decode(str(text), validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        return str(exc)


def _empty(value):
    return not truth(value)


def _div(a, b):
    a, b = _to_int(a), _to_int(b)
    if b == 0:
        raise _Fail("integer divide by zero")
    return int(a / b)


def _mod(a, b):
    a, b = _to_int(a), _to_int(b)
    if b == 0:
        raise _Fail("integer divide by zero")
    return a - b * int(a / b)


FUNCTIONS = {
    # Go's built-ins (and, or are evaluated lazily in _call)
    "and": None, "or": None,
    "not": lambda value: not truth(value),
    "len": _length,
    "index": _index,
    "print": _sprint,
    "printf": _printf,
    "println": lambda *args: " ".join(show(a) for a in args) + "\n",
    "eq": _compare("eq", lambda a, b: a == b),
    "ne": _compare("ne", lambda a, b: a != b),
    "lt": _compare("lt", lambda a, b: a < b),
    "le": _compare("le", lambda a, b: a <= b),
    "gt": _compare("gt", lambda a, b: a > b),
    "ge": _compare("ge", lambda a, b: a >= b),
    # Sprig: defaults and logic
    "default": lambda default, *given: given[0] if given and truth(given[0]) else default,
    "empty": _empty,
    "coalesce": lambda *values: next((v for v in values if truth(v)), None),
    "ternary": lambda yes, no, condition: yes if truth(condition) else no,
    # Sprig: strings
    "toString": show,
    "quote": lambda *values: " ".join(json.dumps(show(v), ensure_ascii=False) for v in values if v is not None),
    "squote": lambda *values: " ".join(f"'{show(v)}'" for v in values if v is not None),
    "upper": lambda text: str(text).upper(),
    "lower": lambda text: str(text).lower(),
    "title": lambda text: re.sub(r"\b\w", lambda m: m.group().upper(), str(text)),
    "trim": lambda text: str(text).strip(),
    "trimAll": lambda chars, text: str(text).strip(str(chars)),
    "trimPrefix": lambda prefix, text: str(text).removeprefix(str(prefix)),
    "trimSuffix": lambda suffix, text: str(text).removesuffix(str(suffix)),
    "replace": lambda old, new, text: str(text).replace(str(old), str(new)),
    "contains": lambda part, text: str(part) in str(text),
    "hasPrefix": lambda prefix, text: str(text).startswith(str(prefix)),
    "hasSuffix": lambda suffix, text: str(text).endswith(str(suffix)),
    "repeat": lambda count, text: str(text) * max(_to_int(count), 0),
    "substr": lambda start, end, text: str(text)[_to_int(start):_to_int(end) if _to_int(end) >= 0 else None],
    "trunc": lambda count, text: str(text)[:_to_int(count)] if _to_int(count) >= 0 else str(text)[_to_int(count):],
    "nospace": lambda text: re.sub(r"\s", "", str(text)),
    "cat": lambda *values: " ".join(show(v) for v in values if v is not None),
    "indent": _indent,
    "nindent": lambda width, text: "\n" + _indent(width, text),
    "b64enc": lambda text: base64.b64encode(str(text).encode()).decode(),
    "b64dec": _b64decode,
    "regexMatch": lambda pattern, text: _go_regex(pattern).search(str(text)) is not None,
    "regexReplaceAll": lambda pattern, text, new: _go_regex(pattern).sub(
        re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", str(new)), str(text)),
    "splitList": lambda separator, text: str(text).split(str(separator)) if separator else list(str(text)),
    "split": lambda separator, text: {f"_{i}": part for i, part in enumerate(str(text).split(str(separator)))},
    "splitPreserveQuotes": _split_preserve_quotes,
    "join": lambda separator, values: str(separator).join(
        show(v) for v in (values if isinstance(values, (list, tuple)) else [values]) if v is not None),
    # Sprig: lists
    "list": lambda *values: list(values),
    "first": lambda values: values[0] if values else None,
    "last": lambda values: values[-1] if values else None,
    "rest": lambda values: list(values[1:]),
    "initial": lambda values: list(values[:-1]),
    "append": lambda values, value: list(values) + [value],
    "has": lambda value, values: value in values,
    "uniq": lambda values: list(dict.fromkeys(values)),
    "sortAlpha": lambda values: sorted(show(v) for v in values),
    "until": lambda count: list(range(_to_int(count))),
    # Sprig: maps
    "dict": lambda *pairs: {str(pairs[i]): pairs[i + 1] if i + 1 < len(pairs) else "" for i in range(0, len(pairs), 2)},
    "get": lambda mapping, key: mapping.get(key, "") if isinstance(mapping, dict) else "",
    "hasKey": lambda mapping, key: isinstance(mapping, dict) and key in mapping,
    "keys": lambda *maps: [k for m in maps for k in m],
    # Sprig: numbers
    "atoi": lambda text: _to_int(text) if re.fullmatch(r"\s*[-+]?\d+\s*", str(text)) else 0,
    "int": _to_int,
    "int64": _to_int,
    "float64": lambda value: float(value) if isinstance(value, (int, float)) else float(
        str(value)) if re.fullmatch(r"\s*[-+]?\d+(\.\d*)?\s*", str(value)) else 0.0,
    "add": lambda *values: sum(_to_int(v) for v in values),
    "add1": lambda value: _to_int(value) + 1,
    "sub": lambda a, b: _to_int(a) - _to_int(b),
    "mul": lambda *values: math.prod(_to_int(v) for v in values),
    "div": _div,
    "mod": _mod,
    "max": lambda *values: max(_to_int(v) for v in values),
    "min": lambda *values: min(_to_int(v) for v in values),
}


# ---------------------------------------------------------------------------------------------
# Execution


class _State:
    def __init__(self, data):
        self.scopes = [{"$": data}]

    def lookup(self, name, line):
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        raise TemplateError(line, f'undefined variable "{name}"')

    def assign(self, name, value, line):
        for scope in reversed(self.scopes):
            if name in scope:
                scope[name] = value
                return
        raise TemplateError(line, f'undefined variable "{name}"')


def _field(value, names, line, shown):
    for name in names:
        if isinstance(value, Struct) and name not in value:
            raise TemplateError(line, f"can't evaluate field {name} in {shown or 'the data'}")
        if isinstance(value, dict):
            value = value.get(name, "" if isinstance(value, StringMap) else None)
        elif value is None:
            raise TemplateError(line, f"nil pointer evaluating {shown}.{name}")
        else:
            raise TemplateError(line, f"can't evaluate field {name} in type {_kind(value)}")
        shown = f"{shown}.{name}"
    return value


def _term(operand, dot, state, line):
    kind, value = operand
    if kind == "literal":
        return value
    if kind == "field":
        if value == ".":
            return dot
        return _field(dot, value[1:].split("."), line, "")
    if kind == "variable":
        name, _, rest = value.partition(".")
        found = state.lookup(name, line)
        return _field(found, rest.split("."), line, name) if rest else found
    if kind == "pipeline":
        return _pipeline(value, dot, state)
    if kind == "function":
        return _call(value, [], None, False, dot, state, line)
    raise TemplateError(line, f"unexpected {value!r}")


def _call(name, operands, piped, has_piped, dot, state, line):
    if name in ("and", "or"):
        values = [lambda o=o: _term(o, dot, state, line) for o in operands]
        if has_piped:
            values.append(lambda: piped)
        if not values:
            raise TemplateError(line, f"wrong number of args for {name}: want at least 1 got 0")
        result = None
        for get in values:
            result = get()
            if truth(result) != (name == "and"):
                return result
        return result
    args = [_term(o, dot, state, line) for o in operands] + ([piped] if has_piped else [])
    function = FUNCTIONS[name]
    try:
        inspect.signature(function).bind(*args)
    except TypeError:
        raise TemplateError(line, f"wrong number of args for {name}: got {len(args)}") from None
    try:
        return function(*args)
    except _Fail as exc:
        raise TemplateError(line, f"error calling {name}: {exc}") from None
    except (TypeError, ValueError, AttributeError, IndexError, KeyError) as exc:
        raise TemplateError(line, f"error calling {name}: {exc}") from None


def _pipeline(pipeline, dot, state, declare=True):
    """The pipeline's value; with ``declare``, its $variable (if any) is set too."""
    value, has_value = None, False
    for command in pipeline.commands:
        head = command[0]
        if head[0] == "function":
            value = _call(head[1], command[1:], value, has_value, dot, state, pipeline.line)
        else:
            if len(command) > 1 or has_value:
                raise TemplateError(pipeline.line, f"can't give argument to non-function {_shown(head)}")
            value = _term(head, dot, state, pipeline.line)
        has_value = True
    if not declare:
        return value
    if pipeline.declare == "declare" and len(pipeline.names) == 1:
        state.scopes[-1][pipeline.names[0]] = value
    elif pipeline.declare == "assign":
        state.assign(pipeline.names[0], value, pipeline.line)
    return value


def _shown(operand):
    """An operand as the template wrote it (Go's messages quote the source, not a value)."""
    kind, value = operand
    if kind == "pipeline":
        return "(" + " | ".join(" ".join(_shown(o) for o in command) for command in value.commands) + ")"
    return json.dumps(value) if kind == "literal" and isinstance(value, str) else str(value)


def _run(nodes, dot, state, out):
    for kind, node in nodes:
        if kind == "text":
            out.append(node)
        elif kind == "action":
            value = _pipeline(node, dot, state)
            if not node.declare:
                out.append(show(value))
        else:
            _block(node, dot, state, out)


def _block(node, dot, state, out):
    state.scopes.append({})
    try:
        if node["kind"] == "range":
            pipeline, body = node["branches"][0]
            names = pipeline.names  # bound to each element below, not to the collection
            items = _pipeline(pipeline, dot, state, declare=False)
            if isinstance(items, dict):
                pairs = sorted(items.items())
            elif isinstance(items, (list, tuple)):
                pairs = list(enumerate(items))
            elif isinstance(items, int) and not isinstance(items, bool):
                pairs = [(i, i) for i in range(items)]
            elif items is None:
                pairs = []
            else:
                raise TemplateError(node["line"], f"range can't iterate over {show(items)}")
            for key, item in pairs:
                state.scopes.append({})
                if len(names) == 1:
                    state.scopes[-1][names[0]] = item
                elif len(names) == 2:
                    state.scopes[-1][names[0]], state.scopes[-1][names[1]] = key, item
                _run(body, item, state, out)
                state.scopes.pop()
            if not pairs and node["else"] is not None:
                _run(node["else"], dot, state, out)
            return
        for pipeline, body in node["branches"]:
            value = _pipeline(pipeline, dot, state)
            if truth(value):
                _run(body, value if node["kind"] == "with" else dot, state, out)
                return
        if node["else"] is not None:
            _run(node["else"], dot, state, out)
    finally:
        state.scopes.pop()


def render(text, values, stack=None):
    """``text`` executed as Rancher did: ``.Values`` (strings; a missing one is ""), ``.Stack``
    and ``.Release`` (``Name`` and ``Version`` of the catalog entry). Raises TemplateError."""
    if not templated(text):
        return text
    info = Struct(stack or {})
    data = Struct(Values=StringMap({k: str(v) for k, v in values.items()}), Stack=info, Release=info)
    out = []
    _run(parse(text), data, _State(data), out)
    return "".join(out)
