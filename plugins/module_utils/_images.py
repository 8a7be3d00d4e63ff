# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""The images the platform builds, decided on the controller where their contexts live.

Each image's context (its files and build arguments) is hashed here; the builder labels the
image with that digest, so a context that did not change is neither copied nor built again.
An image marked ``on_demand`` is built only when a stack being deployed runs it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os

from ansible_collections.paddock.platform.plugins.module_utils._problems import listed_mappings, shown_path

KEYS = {"name", "tag", "build", "args", "on_demand", "include"}


def context_dir(item, base_dir):
    build = str(item["build"])
    return build if os.path.isabs(build) else os.path.normpath(os.path.join(base_dir, build))


def _ignored(relative, patterns):
    """Whether the build leaves out ``relative`` (a path in the context): it or a directory above
    it matches a line of the context's .dockerignore (the forms Paddock's images use: a path,
    a glob, ``**/name``). Python's caches are always left out."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return "__pycache__" in parts or any(
        fnmatch.fnmatchcase(prefix, pattern) or pattern.startswith("**/") and fnmatch.fnmatchcase(part, pattern[3:])
        for pattern in patterns for prefix, part in zip(prefixes, parts, strict=True))


def _files(source, dest, patterns=()):
    """(path in the context, path on the controller) of every file ``source`` (a file or a
    directory) puts at ``dest`` that the build reads; links are followed, as the builder's copy
    follows them."""
    if not os.path.isdir(source):
        return [(dest, source)]
    found = []
    for base, _dirs, files in os.walk(source, followlinks=True):
        for name in files:
            relative = os.path.normpath(os.path.join(dest, os.path.relpath(os.path.join(base, name), source)))
            if not _ignored(relative, patterns):
                found.append((relative, os.path.join(base, name)))
    return found


INCLUDE_FILE = "paddock-include.json"


def _declared(item, base_dir):
    """(include mapping, the directory its sources are relative to): the item's own, else the
    one its context declares in paddock-include.json (relative to the context)."""
    if item.get("include"):
        return item["include"], base_dir
    path = os.path.join(context_dir(item, base_dir), INCLUDE_FILE)
    if os.path.exists(path):
        with open(path) as handle:
            return json.load(handle).get("include") or {}, context_dir(item, base_dir)
    return {}, base_dir


def includes(item, base_dir):
    """What an image's context takes from elsewhere in the repository, copied in, never linked:
    [{dest, src, dir}], by destination (the console's image takes the collection's module_utils
    and catalog, which it imports). Given as the item's ``include``, or in the context's own
    paddock-include.json."""
    declared, relative_to = _declared(item, base_dir)
    return [{"dest": dest, "src": context_dir({"build": src}, relative_to),
             "dir": os.path.isdir(context_dir({"build": src}, relative_to))}
            for dest, src in sorted(declared.items())]


def context_digest(directory, args, included=()):
    """SHA-256 (32 hex digits) of the build arguments and every file of the context, its
    ``included`` files (``includes``) among them, by their path in the context."""
    digest = hashlib.sha256(json.dumps(args or {}, sort_keys=True).encode())
    ignore = os.path.join(directory, ".dockerignore")
    patterns = []
    if os.path.exists(ignore):
        with open(ignore) as handle:
            patterns = [line.strip().strip("/") for line in handle if line.strip() and not line.startswith("#")]
    files = _files(directory, ".", patterns)
    for each in included:
        files += _files(each["src"], each["dest"], patterns)
    for relative, path in sorted(files):
        digest.update(relative.encode() + b"\0")
        with open(path, "rb") as handle:
            digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()[:32]


def errors(images, base_dir, variable="paddock_images"):
    """Every problem of the images list, as ``<file>:<line>: paddock_images[i].key: problem``."""
    if images is None:
        return []
    problems, seen = [], {}
    for index, where, item in listed_mappings(images, variable, "a list of images (name, tag, build)",
                                              "a mapping with name, tag and build", sorted(KEYS), problems):
        problems += [f"{where}.{key}: must be set" for key in ("name", "tag", "build") if not item.get(key)]
        if item.get("build") and not os.path.isdir(context_dir(item, base_dir)):
            problems.append(f"{where}.build: no such directory: {shown_path(context_dir(item, base_dir))}")
        if not isinstance(item.get("args", {}), dict):
            problems.append(f"{where}.args: must be a mapping of build arguments")
        if not isinstance(item.get("on_demand", False), bool):
            problems.append(f"{where}.on_demand: must be a boolean")
        problems += _include_problems(item.get("include", {}), where, base_dir)
        ref = f"{item.get('name')}:{item.get('tag')}"
        if ref in seen:
            problems.append(f"{where}: {ref} is already listed as {variable}[{seen[ref]}]")
        seen.setdefault(ref, index)
    return problems


def _include_problems(include, where, base_dir):
    if not isinstance(include, dict):
        return [f"{where}.include: must be a mapping of a path in the context to a file or directory"]
    problems = []
    for dest, src in include.items():
        if not isinstance(dest, str) or dest.startswith("/") or ".." in dest.split("/") or not dest:
            problems.append(f"{where}.include.{dest}: must be a relative path inside the context")
        elif not isinstance(src, str) or not os.path.exists(context_dir({"build": src}, base_dir)):
            problems.append(f"{where}.include.{dest}: no such file or directory: {src!r}")
    return problems


def stack_images(stacks, image_map):
    """The images that the rendered stacks to deploy run, after the image map."""
    refs = set()
    for stack in stacks or []:
        if stack.get("state") != "present":
            continue
        for service in ((stack.get("compose") or {}).get("services") or {}).values():
            image = (service or {}).get("image")
            if image:
                refs.add((image_map or {}).get(image, image))
    return sorted(refs)


def plan(images, base_dir, registry, used):
    """The images to build: each with its ref in the registry and its context's digest. An
    ``on_demand`` image is left out unless ``used`` (refs, as stacks run them) names it."""
    out = []
    for item in images or []:
        ref = f"{registry}/{item['name']}:{item['tag']}"
        if item.get("on_demand") and ref not in (used or []):
            continue
        directory, included = context_dir(item, base_dir), includes(item, base_dir)
        out.append({"name": item["name"], "tag": str(item["tag"]), "ref": ref, "dir": directory,
                    "include": included, "args": item.get("args") or {},
                    "context": context_digest(directory, item.get("args"), included)})
    return out
