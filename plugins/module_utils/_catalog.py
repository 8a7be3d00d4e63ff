# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Rancher 1.x catalog entries: find them, read their questions, check answers, fill templates.

A catalog is a directory of entries (``<catalog>/<entry>/``), or a whole Rancher catalog
checkout (``<catalog>/templates/<entry>/``). An entry has ``config.yml`` and numbered version
folders, each with ``docker-compose.yml`` and ``rancher-compose.yml``; the ``.catalog`` section
of the latter holds the version, ``upgrade_from`` and the questions.

Answers are checked against the questions (type, required, default, min and max, lengths,
valid and invalid characters, enum options) and every problem is reported at once. Templates
are filled as Rancher 1.6's compose executor did, in two steps. First the file's Go template
actions (``{{ if eq .Values.x "y" }}``; ``docker-compose.yml.tpl``, or any file with actions
not starting ``# notemplating``) run with the answers (``_gotemplate.py``); then, in every
string value of the parsed YAML, ``${var}`` and ``$var`` (with ``${var:-default}`` and
``${var-default}``) and ``$$`` for a literal ``$``, with the answers plus ``stack_name`` and,
inside a service, ``service_name``. A variable nobody answers becomes an empty string with a
warning, as Rancher did.
"""

from __future__ import annotations

import copy
import difflib
import os
import re

from ansible_collections.paddock.platform.plugins.module_utils._catalog_upgrade import LABELS
from ansible_collections.paddock.platform.plugins.module_utils._certificates import NAME as CERTIFICATE_NAME
from ansible_collections.paddock.platform.plugins.module_utils._gotemplate import (
    TemplateError,
    parse,
    render,
    templated,
)
from ansible_collections.paddock.platform.plugins.module_utils._problems import as_text, key_path
from ansible_collections.paddock.platform.plugins.module_utils._semver import range_errors
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import first_file
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import load as load_yaml
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import parse as parse_yaml
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import read as read_file

TYPES = ("string", "int", "boolean", "enum", "password", "multiline", "service", "certificate")
QUESTION_KEYS = ("variable", "label", "description", "type", "required", "default", "group", "min_length",
                 "max_length", "min", "max", "options", "valid_chars", "invalid_chars")
TEXT_TYPES = ("string", "password", "multiline", "service", "certificate", "enum")
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SERVICE = re.compile(r"^([a-z0-9][a-z0-9_-]*/)?[A-Za-z0-9][A-Za-z0-9_.-]*$")
TEMPLATE = re.compile(r"\$(?:(\$)|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "docker-compose.yml.tpl", "docker-compose.yaml.tpl")
RANCHER_NAMES = ("rancher-compose.yml", "rancher-compose.yaml", "rancher-compose.yml.tpl", "rancher-compose.yaml.tpl")
MASK = "********"
# The catalog shipped with Paddock: catalog/ at the top of the collection.
BUILTIN = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", "catalog"))


def _rel(path):
    return os.path.relpath(path)


def search_path(catalogs, base_dir):
    """The catalogs to search, in order: those given (relative to ``base_dir``), then Paddock's own."""
    return [c if os.path.isabs(c) else os.path.normpath(os.path.join(base_dir, c))
            for c in catalogs if isinstance(c, str)] + [BUILTIN]


def entry_dirs(catalogs):
    """[(entry id, directory, catalog)] of every entry, the first catalog winning a name."""
    found, seen = [], set()
    for catalog in catalogs:
        root = os.path.join(catalog, "templates") if os.path.isdir(os.path.join(catalog, "templates")) else catalog
        if not os.path.isdir(root):
            continue
        for name in sorted(os.listdir(root)):
            directory = os.path.join(root, name)
            if name not in seen and os.path.isfile(os.path.join(directory, "config.yml")):
                seen.add(name)
                found.append((name, directory, catalog))
    return found


def catalog_section(rancher):
    """The ``.catalog`` section, however it is written (top level, ``catalog:``, or under services)."""
    if not isinstance(rancher, dict):
        return None, None
    for key in (".catalog", "catalog"):
        if isinstance(rancher.get(key), dict):
            return rancher[key], [key]
    services = rancher.get("services")
    if isinstance(services, dict) and isinstance(services.get(".catalog"), dict):
        return services[".catalog"], ["services", ".catalog"]
    return None, None


def without_catalog(rancher):
    """rancher-compose.yml without its catalog section (it is read here, not deployed)."""
    if not isinstance(rancher, dict):
        return rancher
    out = {k: v for k, v in rancher.items() if k not in (".catalog", "catalog")}
    if isinstance(out.get("services"), dict):
        out["services"] = {k: v for k, v in out["services"].items() if k != ".catalog"}
    return out


class Version:
    """One numbered folder of an entry."""

    def __init__(self, folder, directory):
        self.folder = folder
        self.directory = directory
        self.compose_path = first_file(directory, COMPOSE_NAMES)
        self.rancher_path = first_file(directory, RANCHER_NAMES)
        self.compose = self.rancher = None
        # The text of a file with Go template actions: it is YAML only once rendered with answers.
        self.compose_template = self.rancher_template = None
        self.meta, self.meta_path = {}, []
        self.errors, self.warnings = [], []
        self.loaded = False

    @property
    def version(self):
        return str(self.meta.get("version", self.folder))

    @property
    def questions(self):
        """The questions asked: each variable once (the first), named as a variable can be; a
        type Rancher's form did not know reads as a string."""
        questions = self.meta.get("questions")
        asked, seen = [], set()
        for question in questions if isinstance(questions, list) else []:
            variable = question.get("variable") if isinstance(question, dict) else None
            if isinstance(variable, str) and VARIABLE.match(variable) and variable not in seen:
                seen.add(variable)
                asked.append(question if question.get("type", "string") in TYPES else {**question, "type": "string"})
        return asked

    def load(self):
        if self.loaded:
            return self
        self.loaded = True
        if self.compose_path is None:
            self.errors.append(f"{_rel(self.directory)}: no docker-compose.yml")
            return self
        # A catalog entry is someone else's file, run as Rancher ran it: a key written twice is
        # a warning, and the last is kept (the user's own files refuse it).
        self.compose, self.compose_template, problem = _read(self.compose_path, self.warnings)
        self.errors += [problem] if problem else []
        if self.rancher_path:
            self.rancher, self.rancher_template, problem = _read(self.rancher_path, self.warnings)
            if self.rancher_template is not None and not problem:
                # The questions are read with every answer empty; the file is rendered again
                # with the real answers when the entry is launched.
                self.rancher, problem = _render_yaml(self.rancher_template, {}, _rel(self.rancher_path),
                                                     {"Name": "", "Version": ""}, [])
            self.errors += [problem] if problem else []
        meta, where = catalog_section(self.rancher)
        self.meta, self.meta_path = (meta or {}), (where or [".catalog"])
        self.errors += question_errors(self)
        file = _rel(self.rancher_path) if self.rancher_path else ""
        for index, question in enumerate(self.questions):
            for key in sorted(set(question) - set(QUESTION_KEYS) if isinstance(question, dict) else ()):
                self.warnings.append(f"{file}: {key_path(self.meta_path + ['questions', index, key])}: "
                                     "not a question field Rancher 1.x knew; ignored")
        return self


def _read(path, warnings):
    """(document, template, problem) of a compose file, read once: a file with Go template
    actions is checked and kept as text (template), any other is parsed as YAML (document)."""
    shown = _rel(path)
    text, problem = read_file(path, shown)
    if problem:
        return None, None, problem
    if not templated(text):
        document, problem = parse_yaml(text, shown, duplicates=warnings)
        return document, None, problem
    try:
        parse(text)
    except TemplateError as exc:
        return None, None, f"{shown}: {exc} (a file that is not a template starts with '# notemplating')"
    return None, text, None


def _render_yaml(text, values, shown, stack, warnings):
    """(document, problem): a template rendered with ``values`` and read as YAML."""
    try:
        rendered = render(text, values, stack)
    except TemplateError as exc:
        return None, f"{shown}: {exc}"
    return parse_yaml(rendered, shown, "rendered with the answers, ", duplicates=warnings)


class Entry:
    """A catalog entry: config.yml and its numbered version folders."""

    def __init__(self, name, directory, catalog):
        self.name, self.directory, self.catalog = name, directory, catalog
        self.config, problem = load_yaml(os.path.join(directory, "config.yml"),
                                         _rel(os.path.join(directory, "config.yml")))
        self.errors = [problem] if problem else []
        if not problem and not isinstance(self.config, dict):
            self.errors.append(f"{_rel(os.path.join(directory, 'config.yml'))}: must be a mapping")
        if not isinstance(self.config, dict):
            self.config = {}
        folders = sorted((f for f in os.listdir(directory)
                          if f.isdigit() and os.path.isdir(os.path.join(directory, f))), key=int)
        self.versions = {f: Version(f, os.path.join(directory, f)) for f in folders}
        if not folders:
            self.errors.append(f"{_rel(directory)}: no numbered version folders")

    def default_folder(self):
        """The folder whose version is config.yml's version (Rancher's default), else the newest."""
        wanted = str(self.config.get("version", ""))
        for folder, version in self.versions.items():
            if wanted and version.load().version == wanted:
                return folder
        return list(self.versions)[-1] if self.versions else None

    def find(self, wanted):
        """The folder for ``wanted``: a folder number or a version string; None for the default."""
        if wanted is None or str(wanted) == "":
            return self.default_folder(), None
        if str(wanted) in self.versions:
            return str(wanted), None
        for folder, version in self.versions.items():
            if version.load().version == str(wanted):
                return folder, None
        have = ", ".join(f"{f} ({v.load().version})" for f, v in self.versions.items())
        return None, f"catalog entry {self.name} has no version {wanted!r}; it has {have}"


def find_entry(catalogs, name):
    """(Entry, problem) for the entry called ``name`` in the catalogs."""
    entries = entry_dirs(catalogs)
    for entry_name, directory, catalog in entries:
        if entry_name == name:
            return Entry(entry_name, directory, catalog), None
    near = difflib.get_close_matches(str(name), [e[0] for e in entries], n=1)
    hint = f" (did you mean '{near[0]}'?)" if near else ""
    return None, f"no catalog entry named {name!r}{hint} in {', '.join(_rel(c) for c in catalogs) or 'no catalog'}"


# ---------------------------------------------------------------------------------------------
# Questions and answers


def _is_int(value):
    return not isinstance(value, bool) and (isinstance(value, int) or bool(re.fullmatch(r"-?\d+", str(value).strip())))


def _chars(pattern):
    try:
        return re.compile(f"[{pattern}]")
    except re.error:
        return None


def check_value(question, value):
    """Problems of one answer (never quoting a password), and the value as it is substituted."""
    kind = question.get("type") or "string"
    secret = kind == "password"
    shown = "" if secret else f", got {value!r}"
    if isinstance(value, (dict, list)):
        return [f"must be {'a whole number' if kind == 'int' else 'text'}, got a "
                f"{'mapping' if isinstance(value, dict) else 'list'}"], None
    if kind == "int":
        if not _is_int(value):
            return [f"must be a whole number{shown}"], None
        number, problems = int(str(value).strip()), []
        if _is_int(question.get("min")) and number < int(question["min"]):
            problems.append(f"must be at least {question['min']}, got {number}")
        if _is_int(question.get("max")) and number > int(question["max"]):
            problems.append(f"must be at most {question['max']}, got {number}")
        return problems, number
    if kind == "boolean":
        text = str(value).strip().lower()
        if isinstance(value, bool) or text in ("true", "false"):
            return [], value if isinstance(value, bool) else text == "true"
        return [f"must be true or false{shown}"], None
    # Rancher passed answers and options to templates as text: YAML's true is "true", not "True".
    text = "" if value is None else as_text(value)
    problems = []
    if kind == "enum":
        options = [as_text(o) for o in question.get("options") or []]
        if text not in options:
            problems.append(f"must be one of {', '.join(options)}{shown}")
    if kind == "service" and text and not SERVICE.match(text):
        problems.append(f"must name a service as STACK/SERVICE, or SERVICE in this stack{shown}")
    # As Rancher's certificate store: the answer names a certificate (of paddock_certificates).
    if kind == "certificate" and text and (not CERTIFICATE_NAME.match(text) or "-----BEGIN" in text):
        problems.append(f"must name a certificate of the inventory's paddock_certificates{shown}")
    if kind in ("string", "password") and "\n" in text:
        problems.append("must be one line (a multiline question takes several)")
    if _is_int(question.get("min_length")) and len(text) < int(question["min_length"]):
        problems.append(f"must be at least {question['min_length']} characters long, got {len(text)}")
    if _is_int(question.get("max_length")) and len(text) > int(question["max_length"]):
        problems.append(f"must be at most {question['max_length']} characters long, got {len(text)}")
    valid = _chars(question["valid_chars"]) if question.get("valid_chars") else None
    if valid:
        bad = sorted({c for c in text if not valid.match(c)})
        if bad:
            problems.append(f"has {len(bad)} character(s) outside valid_chars [{question['valid_chars']}]"
                            + ("" if secret else f": {' '.join(repr(c) for c in bad)}"))
    invalid = _chars(question["invalid_chars"]) if question.get("invalid_chars") else None
    if invalid:
        bad = sorted({c for c in text if invalid.match(c)})
        if bad:
            problems.append(f"has {len(bad)} character(s) from invalid_chars [{question['invalid_chars']}]"
                            + ("" if secret else f": {' '.join(repr(c) for c in bad)}"))
    return problems, text


def question_errors(version):
    """Problems of a version's catalog section itself: its author's mistakes, not the user's."""
    file = _rel(version.rancher_path) if version.rancher_path else f"{_rel(version.directory)}/rancher-compose.yml"
    where = version.meta_path
    errors = []
    meta = version.meta
    if "upgrade_from" in meta:
        errors += [f"{file}: {key_path(where + ['upgrade_from'])}: {e}" for e in range_errors(meta["upgrade_from"])]
    questions = meta.get("questions") or []  # an empty `questions:` is no question, as Rancher read it
    if not isinstance(questions, list):
        return errors + [f"{file}: {key_path(where + ['questions'])}: must be a list of questions"]
    seen = set()
    for index, question in enumerate(questions):
        at = where + ["questions", index]
        if not isinstance(question, dict):
            errors.append(f"{file}: {key_path(at)}: must be a mapping with a variable and a type")
            continue
        # What Rancher's form tolerated in a question is a warning, and the question is read as
        # Rancher read it; what leaves it meaningless is an error.
        variable = question.get("variable")
        if not isinstance(variable, str) or not VARIABLE.match(variable):
            version.warnings.append(f"{file}: {key_path(at + ['variable'])}: not a variable name, got {variable!r}; "
                                    "the question is skipped (no template can refer to it)")
            continue
        if variable in seen:
            version.warnings.append(f"{file}: {key_path(at + ['variable'])}: {variable} is asked twice; the first "
                                    "question is the one asked")
            continue
        seen.add(variable)
        kind = question.get("type", "string")
        if kind not in TYPES:
            near = difflib.get_close_matches(str(kind), TYPES, n=1)
            version.warnings.append(f"{file}: {key_path(at + ['type'])}: unknown type {kind!r}"
                                    + (f" (did you mean '{near[0]}'?)" if near else f"; known: {', '.join(TYPES)}")
                                    + "; read as a string, as Rancher's form showed it")
            continue
        if kind == "enum" and (not isinstance(question.get("options"), list) or not question["options"]):
            errors.append(f"{file}: {key_path(at + ['options'])}: an enum question needs a list of options")
            continue
        for key in ("min", "max", "min_length", "max_length"):
            if key in question and not _is_int(question[key]):
                errors.append(f"{file}: {key_path(at + [key])}: must be a whole number, got {question[key]!r}")
        for key in ("valid_chars", "invalid_chars"):
            if question.get(key) and _chars(question[key]) is None:
                errors.append(f"{file}: {key_path(at + [key])}: not a set of characters as a regular expression "
                              f"class takes, got {question[key]!r}")
        if "required" in question and not isinstance(question["required"], bool):
            errors.append(f"{file}: {key_path(at + ['required'])}: must be true or false")
        if question.get("default") not in (None, "") and not any(e.startswith(f"{file}: {key_path(at)}.")
                                                                  for e in errors):
            problems, _value = check_value(question, question["default"])
            version.warnings += [f"{file}: {key_path(at + ['default'])}: {p}; used as it is, as Rancher used it"
                                 for p in problems]
    return errors


def check_answers(version, answers, source, certificates=None):
    """(values, typed, secrets, errors): the answers checked against the version's questions.

    ``source`` names where the answers were written: a string, or a function of the variable
    (``None`` for the answers as a whole) that names its file and line.
    ``values`` are the strings substituted for each variable, ``typed`` the int and boolean
    values as such, ``secrets`` the values of password questions; each error reads
    ``SOURCE: variable: problem``. ``certificates``, when given, are the inventory's certificate
    names, one of which a certificate answer must be."""
    def at(variable):
        return source(variable) if callable(source) else source

    errors = []
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        return {}, {}, [], [f"{at(None)}: must be a mapping of question variables to answers"]
    questions = [q for q in version.questions if isinstance(q, dict) and isinstance(q.get("variable"), str)]
    known = [q["variable"] for q in questions]
    for key in answers:
        if key not in known:
            near = difflib.get_close_matches(str(key), known, n=1)
            hint = f"(did you mean '{near[0]}'?)" if near else f"(its questions: {', '.join(known) or 'none'})"
            errors.append(f"{at(key)}: {key}: not a question of {_rel(version.directory)} {hint}")
    values, typed, secrets = {}, {}, []
    for question in questions:
        variable, kind = question["variable"], question.get("type") or "string"
        answered = variable in answers and answers[variable] is not None and str(answers[variable]) != ""
        if answered:
            value = answers[variable]
        elif question.get("default") not in (None, ""):
            value = question["default"]
        elif question.get("required"):
            errors.append(f"{at(None)}: {variable}: required ({question.get('label') or kind}), and the question "
                          "has no default")
            continue
        else:
            values[variable] = ""
            continue
        problems, checked = check_value(question, value)
        if problems and not answered:  # the entry's own default, warned about with its questions
            problems, checked = [], as_text(value)
        if answered and "{{" in str(value):
            problems.append("has '{{', which Swarm reads as its own template in environment values and "
                            "host names; an answer is data, never a template")
        if kind == "certificate" and not problems and certificates is not None and checked not in certificates:
            problems.append(f"certificate '{checked}' is not in the inventory's paddock_certificates "
                            + (f"(it has: {', '.join(sorted(certificates))})" if certificates else "(it lists none)"))
        errors += [f"{at(variable)}: {variable}: {p}" for p in problems]
        if problems:
            continue
        if kind in ("int", "boolean"):
            typed[variable] = checked
        values[variable] = (str(checked).lower() if isinstance(checked, bool) else str(checked))
        if kind == "password" and values[variable]:
            secrets += [values[variable], values[variable].replace("$", "$$")]
    return values, typed, secrets, errors


# ---------------------------------------------------------------------------------------------
# Templates


def _substitute(text, variables, typed, file, parts, warnings):
    whole = TEMPLATE.fullmatch(text)
    if whole and not whole.group(1):
        name = whole.group(3) or (whole.group(2) or "")
        if name in typed:
            return typed[name]

    def one(match):
        if match.group(1):
            return "$"
        body = match.group(3) if match.group(3) is not None else match.group(2)
        name, default, has_default = body, "", False
        for separator in (":-", "-"):
            if separator in body:
                name, _, default = body.partition(separator)
                has_default = True
                break
        if not VARIABLE.match(name):
            warnings.append(f"{file}: {key_path(parts)}: {match.group(0)} is not a variable reference; kept as it is")
            return match.group(0)
        if name in variables and (variables[name] != "" or not has_default):
            return variables[name]
        if has_default:
            return default
        warnings.append(f"{file}: {key_path(parts)}: ${{{name}}} is not a question of this entry; "
                        "substituted with an empty string, as Rancher did")
        return ""
    # docker stack deploy interpolates again: a `$` that is meant (from an answer, or `$$`) is
    # escaped for it.
    return TEMPLATE.sub(one, text).replace("$", "$$")


def fill(document, variables, typed, file, warnings, services_at=None):
    """Substitute templates in every string value of a parsed compose file.

    ``services_at`` is the key path of the services mapping; inside each service,
    ``service_name`` is that service's name."""
    def walk(node, parts, scope):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                inner = scope
                if services_at is not None and parts == services_at:
                    inner = {**scope, "service_name": str(key)}
                if isinstance(key, str) and "$" in key:  # a name from an answer (a volume's, say)
                    key = _substitute(key, scope, {}, file, parts + [key], warnings).replace("$$", "$")
                out[key] = walk(value, parts + [key], inner)
            return out
        if isinstance(node, list):
            return [walk(value, parts + [index], scope) for index, value in enumerate(node)]
        if isinstance(node, str) and "$" in node:
            return _substitute(node, scope, typed, file, parts, warnings)
        return node
    return walk(copy.deepcopy(document), [], variables)


def _services_at(document):
    if isinstance(document, dict) and ("services" in document or "version" in document):
        return ["services"]
    return []


def prepare(entry, wanted_version, answers, answers_source, stack_name, certificates=None):
    """Everything needed to deploy one entry as a stack, or the errors that stop it.

    Returns a dict: errors, warnings, folder, version, compose, rancher, compose_file,
    rancher_file, labels (for the services), upgrade_from, secrets (every form of every password,
    for masking), passwords (the password answers by variable)."""
    out = {"errors": list(entry.errors), "warnings": [], "secrets": []}
    folder, problem = entry.find(wanted_version)
    if problem:
        out["errors"].append(problem)
    if out["errors"]:
        return out
    version = entry.versions[folder].load()
    out["errors"] += version.errors
    out["warnings"] += version.warnings
    if out["errors"]:
        return out
    values, typed, secrets, errors = check_answers(version, answers, answers_source, certificates)
    out["secrets"] = secrets
    out["passwords"] = {q["variable"]: values[q["variable"]] for q in version.questions
                        if isinstance(q, dict) and q.get("type") == "password" and values.get(q.get("variable"))}
    if errors:
        out["errors"] = errors
        return out
    variables = {**values, "stack_name": stack_name}
    compose_file = _rel(version.compose_path)
    rancher_file = (_rel(version.rancher_path) if version.rancher_path
                    else f"{_rel(version.directory)}/rancher-compose.yml")
    compose, rancher = version.compose, version.rancher
    stack = {"Name": str(entry.config.get("name", entry.name)), "Version": version.version}
    if version.compose_template is not None:
        compose, problem = _render_yaml(version.compose_template, values, compose_file, stack, out["warnings"])
        out["errors"] += [problem] if problem else []
    if version.rancher_template is not None:
        rancher, problem = _render_yaml(version.rancher_template, values, rancher_file, stack, out["warnings"])
        out["errors"] += [problem] if problem else []
    if out["errors"]:
        return out
    out.update(
        folder=folder, version=version.version, upgrade_from=version.meta.get("upgrade_from"),
        compose_file=compose_file, rancher_file=rancher_file,
        compose=fill(compose, variables, typed, compose_file, out["warnings"], _services_at(compose)),
        rancher=fill(without_catalog(rancher), variables, typed, rancher_file, out["warnings"],
                     _services_at(rancher)),
        labels={LABELS["entry"]: entry.name, LABELS["folder"]: folder, LABELS["version"]: version.version})
    return out


def mask(text, secrets):
    """``text`` with every secret value replaced."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def describe(entry):
    """An entry as the listing shows it."""
    default = entry.default_folder()
    return {"entry": entry.name, "name": entry.config.get("name", entry.name),
            "description": entry.config.get("description", ""), "category": entry.config.get("category", ""),
            "catalog": _rel(entry.catalog), "default_version": default,
            "versions": [{"folder": f, "version": v.load().version,
                          "upgrade_from": v.meta.get("upgrade_from")} for f, v in entry.versions.items()],
            "errors": entry.errors + [e for v in entry.versions.values() for e in v.load().errors]}


def questions_of(version):
    """A version's questions, with password defaults hidden."""
    shown = []
    for question in version.questions:
        if not isinstance(question, dict):
            continue
        item = {k: question[k] for k in QUESTION_KEYS if k in question}
        item.setdefault("type", "string")
        if item["type"] == "password" and item.get("default"):
            item["default"] = MASK
        shown.append(item)
    return shown
