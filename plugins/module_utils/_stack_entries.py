# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""From the inventory's stack entries to rendered stacks: read each entry's files, fill a
catalog app's templates with its checked answers, render them all, and collect every problem.

The ``stack_render`` action is a thin wrapper around ``check``; the bad-input suite calls
``check`` directly, so both see the same messages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

from ansible_collections.paddock.platform.plugins.module_utils import _catalog
from ansible_collections.paddock.platform.plugins.module_utils._problems import as_text, key_path, origin
from ansible_collections.paddock.platform.plugins.module_utils._stack import STACK_NAME, render_all
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import Lines, first_file
from ansible_collections.paddock.platform.plugins.module_utils._yaml_file import load as load_yaml

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
RANCHER_NAMES = ("rancher-compose.yml", "rancher-compose.yaml")
STACK_KEYS = {"name", "path", "state", "prune", "compose_file", "rancher_file", "variables"}
CATALOG_KEYS = {"name", "catalog", "version", "answers", "answers_file", "state", "prune"}
# playbooks/catalog.yml's command line: the argument that sets each key of a launched app.
LAUNCH_ARGS = {"name": "stack_name", "catalog": "app"}


def _at(where, launched):
    """Name a key of an entry: ``paddock_stacks[0].state``, or ``-e state`` for a launched app."""
    if launched:
        return lambda key=None: f"-e {LAUNCH_ARGS.get(key, key or 'app')}"
    return lambda key=None: f"{where}.{key}" if key else where


def _keys_and_state(at, entry, known):
    """(state, problems) of an entry: its unknown keys and a state that is neither."""
    problems = [f"{at(key)}: unknown key" for key in sorted(set(entry) - known)]
    state = entry.get("state", "present")
    if state not in ("present", "absent"):
        problems.append(f"{at('state')}: must be present or absent, got {state!r}")
    if not isinstance(entry.get("prune", True), bool):
        problems.append(f"{at('prune')}: must be a boolean")
    return state, problems


class Reader:
    """Reads entries. ``load_answers(path)`` returns (document, problem) for an answers file
    (the action reads it through Ansible's loader, so a vault-encrypted file works);
    ``launch_answers`` are the answers given with ``-e`` to playbooks/catalog.yml, as data."""

    def __init__(self, base_dir, catalogs, load_answers=None, launch_answers=None, certificates=None,
                 launch_source="-e answers"):
        self.base_dir = base_dir
        self.launch_source = launch_source  # how messages name the launch's answers
        self.certificates = certificates
        self.catalogs = _catalog.search_path(catalogs, base_dir)
        self.load_answers = load_answers or (lambda path: load_yaml(path, os.path.relpath(path)))
        self.launch_answers = launch_answers
        self.warnings = []

    def read(self, where, entry, launched=False):
        """(document or None, problems) for one entry; ``where`` names it in messages."""
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            return None, [f"{where}: must be a mapping with a name and a path (or a catalog entry)"]
        at = _at(where, launched)
        if not STACK_NAME.match(entry["name"]):
            return None, [f"{at('name')}: a stack name is lower-case letters, digits, - and _ (it names the "
                          f"stack's services and networks), got {entry['name']!r}"]
        if "catalog" in entry:
            return self._catalog_app(at, entry, launched)
        state, problems = _keys_and_state(at, entry, STACK_KEYS)
        if state == "absent":
            return ({"name": entry["name"], "state": state} if not problems else None), problems
        path = entry.get("path")
        if not isinstance(path, str):
            return None, problems + [f"{at('path')}: must be the directory of docker-compose.yml"]
        directory = path if os.path.isabs(path) else os.path.normpath(os.path.join(self.base_dir, path))
        compose_path = (os.path.join(directory, entry["compose_file"]) if entry.get("compose_file")
                        else first_file(directory, COMPOSE_NAMES))
        rancher_path = (os.path.join(directory, entry["rancher_file"]) if entry.get("rancher_file")
                        else first_file(directory, RANCHER_NAMES))
        if compose_path is None:
            return None, problems + [f"{at('path')}: no docker-compose.yml in {os.path.relpath(directory)}"]
        compose, problem = load_yaml(compose_path, os.path.relpath(compose_path))
        rancher = None
        if problem is None and rancher_path:
            rancher, problem = load_yaml(rancher_path, os.path.relpath(rancher_path))
        if problem:
            return None, problems + [f"stack {entry['name']}: {problem}"]
        located = _Located()
        variables = entry.get("variables") or {}
        if not isinstance(variables, dict) or not all(
                isinstance(v, (str, int, float, bool)) for v in variables.values()):
            return None, problems + [f"{at('variables')}: must be a mapping of variable names to values"]
        given = {str(k): as_text(v) for k, v in variables.items()}
        documents = {}
        for path, document in ((compose_path, compose), (rancher_path, rancher)):
            if path is None or document is None:
                continue
            shown = os.path.relpath(path)
            found = interpolation_errors(document)
            problems += [f"stack {entry['name']}: {located(shown, parts, p)}" for parts, p in found]
            if not found:
                document, missing = substitute(document, given)
                hint = f"; give it in {at('variables')}"
                problems += [f"stack {entry['name']}: {located(shown, parts, p + hint)}" for parts, p in missing]
            documents[path] = document
        compose, rancher = documents.get(compose_path, compose), documents.get(rancher_path, rancher)
        if problems:
            return None, problems
        return {"name": entry["name"], "state": state, "prune": entry.get("prune", True),
                "compose": compose, "rancher": rancher, "compose_file": os.path.relpath(compose_path),
                "rancher_file": os.path.relpath(rancher_path) if rancher_path else "rancher-compose.yml"}, []

    def _answers(self, at, entry, launched):
        """(answers, where they were written, problems)."""
        if launched and self.launch_answers is not None:
            answers, source = self.launch_answers, self.launch_source
        else:
            answers, source = entry.get("answers") or {}, at("answers")
        if not entry.get("answers_file"):
            return answers, source, []
        path = entry["answers_file"]
        path = path if os.path.isabs(path) else os.path.normpath(os.path.join(self.base_dir, path))
        shown = os.path.relpath(path)
        if not os.path.isfile(path):
            return None, source, [f"{shown}: file not found"]
        from_file, problem = self.load_answers(path)
        if problem:
            return None, source, [problem]
        if from_file is not None and not isinstance(from_file, dict):
            return None, source, [f"{shown}: must be a mapping of question variables to answers"]
        if not isinstance(answers, dict):
            return answers, source, []
        given, lines = answers, Lines(path)

        def at(variable):
            """An answer from the file is named by its line; one given beside it, by where it was."""
            if variable is None:
                return shown + (f" + {source}" if given else "")
            if variable in given:
                return source
            line = lines.line([variable]) if variable in (from_file or {}) else None
            return f"{shown}:{line}" if line else shown
        # Answers given beside the file win.
        return {**(from_file or {}), **given}, at, []

    def _catalog_app(self, at, entry, launched):
        """A catalog app: its entry's version, filled with the checked answers."""
        state, problems = _keys_and_state(at, entry, CATALOG_KEYS)
        if state == "absent":
            return ({"name": entry["name"], "state": state} if not problems else None), problems
        app, problem = _catalog.find_entry(self.catalogs, entry["catalog"])
        if problem:
            return None, problems + [f"{at('catalog')}: {problem}"]
        answers, source, answer_problems = self._answers(at, entry, launched)
        if answer_problems:
            return None, problems + answer_problems
        prepared = _catalog.prepare(app, entry.get("version"), answers, source, entry["name"], self.certificates)
        self.warnings += [f"stack {entry['name']}: {warning}" for warning in prepared["warnings"]]
        problems += [f"stack {entry['name']}: {e}" for e in prepared["errors"]]
        if problems:
            return None, problems
        return {"name": entry["name"], "state": state, "prune": entry.get("prune", True),
                "compose": prepared["compose"], "rancher": prepared["rancher"],
                "compose_file": prepared["compose_file"], "rancher_file": prepared["rancher_file"],
                "labels": prepared["labels"], "secrets": prepared["secrets"], "passwords": prepared["passwords"],
                "catalog": {"entry": app.name, "folder": prepared["folder"], "version": prepared["version"],
                            "upgrade_from": prepared["upgrade_from"]}}, []


class _Located:
    """Formats ``(file, key path, problem)`` as ``file:line: key.path: problem``. The line is looked
    up in the file as the user wrote it; a template (``.tpl``) is skipped, since its lines are
    not those of the rendered document the key path is in."""

    def __init__(self):
        self.files = {}

    def __call__(self, file, parts, problem):
        if file not in self.files:
            self.files[file] = Lines(file) if os.path.isfile(file) and not file.endswith(".tpl") else None
        line = self.files[file].line(parts) if self.files[file] and parts else None
        return f"{file}{f':{line}' if line else ''}: {key_path(parts)}: {problem}"


CUSTOM_MARK = "# lb_config.config, as given"
_ALERT = re.compile(r"\[ALERT\].*?parsing \[[^:\]]+:(\d+)\] : (.*)$", re.M)
_TLS_BIND = re.compile(r" ssl crt-list \S+(?: alpn \S+)?")


def _check_custom_haproxy(stack):
    """A load balancer's ``lb_config.config`` lines are HAProxy's to judge: its own check
    (``haproxy -c``) runs on the whole configuration, on the controller, and each line it refuses
    is an error at that key. Paddock's own lines are HAProxy 2.6's by construction, so only a
    configuration with custom lines is checked."""
    for lb in stack.lbs:
        where = ["services", lb["service"], "lb_config", "config"]
        if CUSTOM_MARK not in lb["config"]:
            continue
        haproxy = shutil.which("haproxy") or next(
            (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.path.exists(p)), None)
        if haproxy is None:
            stack.warn(stack.rancher_file, where, "not checked: haproxy is not installed on the controller, so HAProxy "
                                                  "judges these lines only when the load balancer starts")
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as handle:
            # The certificates are on the load balancer's hosts only: TLS binds are checked plain
            # (the same number of lines, so HAProxy's line numbers hold).
            handle.write(_TLS_BIND.sub("", lb["config"]))
        try:
            done = subprocess.run([haproxy, "-c", "-f", handle.name], capture_output=True, text=True, timeout=30)
        finally:
            os.unlink(handle.name)
        if done.returncode == 0:
            continue
        first = lb["config"].splitlines().index(CUSTOM_MARK) + 2  # the custom text's line 1
        alerts = _ALERT.findall(done.stdout + done.stderr)
        for line, text in alerts or [("0", (done.stdout + done.stderr).strip().splitlines()[-1])]:
            at = f"line {int(line) - first + 1}: " if int(line) >= first else ""
            stack.error(stack.rancher_file, where, f"{at}HAProxy 2.6 refuses it: {text.strip()}")


def check(stacks, launch, reader, ctx, only=None, only_state=None):
    """Read, check and render every entry. Returns ``{"errors", "warnings", "documents", "stacks",
    "absent"}``; ``stacks`` are the rendered ``Stack`` objects of the present ``documents``, in order.

    ``stacks`` is the inventory's ``paddock_stacks``; ``launch`` the apps ``playbooks/catalog.yml``
    launches from its command line, named as such in messages."""
    errors, documents = [], []
    if not isinstance(stacks, list):
        return {"errors": [f"{origin(stacks, 'inventory')}: paddock_stacks: must be a list of stacks"],
                "warnings": [], "documents": [], "stacks": [], "absent": []}
    entries = [(f"{origin(e, origin(stacks, 'inventory'))}: paddock_stacks[{i}]", e, False)
               for i, e in enumerate(stacks)]
    entries += [("-e app", e, True) for e in launch or []]
    for where, entry, launched in entries:
        if only_state and isinstance(entry, dict) and entry.get("name") == only:
            entry = {**entry, "state": only_state}
        doc, problems = reader.read(where, entry, launched)
        errors += problems
        if doc:
            documents.append(doc)
    absent = [d for d in documents if d["state"] == "absent"]
    documents = [d for d in documents if d["state"] == "present"]
    rendered = render_all(documents, ctx) if not errors else []
    secrets = [v for d in documents for v in d.get("secrets", [])]
    located = _Located()
    for stack in rendered:
        _check_custom_haproxy(stack)
        errors += [_catalog.mask(f"stack {stack.name}: {located(*e)}", secrets) for e in stack.error_at]
    if only and only not in [d["name"] for d in documents + absent]:
        errors.append(f"{origin(stacks, 'inventory')}: paddock_stacks: no stack named '{only}'")
    warnings = reader.warnings + [f"stack {s.name}: {located(*w)}" for s in rendered for w in s.warning_at]
    return {"errors": errors, "warnings": warnings, "documents": documents, "stacks": rendered, "absent": absent}


# Compose interpolation, as Docker's loader reads it: $$ is a dollar; $NAME and ${NAME} with
# :-, -, :?, ?, :+ or + after the name.
_REFERENCE = re.compile(r"\$(?:\$|(?P<bare>[A-Za-z_][A-Za-z0-9_]*)|\{(?P<braced>[^}]*)\}|(?P<open>\{[^}]*$)|)")
_BRACED = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<rest>.*))?$", re.S)


def _strings(node, parts=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, (*parts, index))
    elif isinstance(node, str) and "$" in node:
        yield list(parts), node


def substitute(document, variables):
    """(document, [(key path, problem)]): every variable reference of a plain stack's file filled
    from ``variables`` (``paddock_stacks[].variables``), as docker-compose fills them from the
    environment: ``${V:-d}`` and ``${V-d}`` default, ``${V:+r}`` and ``${V+r}`` replace, ``${V:?m}``
    and ``${V?m}`` require. A variable neither given nor defaulted is a problem (compose would
    substitute an empty string, silently). Every ``$`` left is escaped for docker stack deploy,
    which interpolates once more."""
    missing = []

    def fill(text, parts):
        def one(match):
            if match.group(0) == "$$":
                return "$"
            body = match["bare"] or match["braced"]
            braced = _BRACED.match(body)
            name, op, rest = braced["name"], braced["op"] or "", braced["rest"] or ""
            value = variables.get(name)
            empty = value is None or (value == "" and op.startswith(":"))
            if op.endswith("-"):
                return rest if empty else value
            if op.endswith("+"):
                return "" if empty else rest
            if empty and (op.endswith("?") or value is None):
                missing.append((parts, f"needs variable {name}" + (f" ({rest})" if rest else "")))
                return ""
            return value
        return _REFERENCE.sub(one, text).replace("$", "$$")

    def walk(node, parts):
        if isinstance(node, dict):
            return {key: walk(value, [*parts, key]) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value, [*parts, index]) for index, value in enumerate(node)]
        if isinstance(node, str) and "$" in node:
            return fill(node, parts)
        return node

    return walk(document, []), missing


def interpolation_errors(document):
    """``[(key path, problem)]`` for the variable references of a plain stack's file that are not
    references: an unclosed ``${``, a name that is not one, a ``$`` that starts nothing."""
    found = []
    for parts, text in _strings(document):
        for match in _REFERENCE.finditer(text):
            if match.group(0) == "$$" or match["bare"]:
                continue
            if match["open"] is not None:
                found.append((parts, f"'{text}' has an unclosed '${{' (write a dollar as $$)"))
                continue
            if match["braced"] is None:
                found.append((parts, f"'{text}' has a '$' that starts no variable (write a dollar as $$)"))
                continue
            if not _BRACED.match(match["braced"]):
                found.append((parts, f"'{text}': '${{{match['braced']}}}' is not a variable reference"))
    return found
