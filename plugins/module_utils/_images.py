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

import hashlib
import json
import os

from ansible_collections.paddock.platform.plugins.module_utils._problems import listed_mappings, shown_path

KEYS = {"name", "tag", "build", "args", "on_demand"}


def context_dir(item, base_dir):
    build = str(item["build"])
    return build if os.path.isabs(build) else os.path.normpath(os.path.join(base_dir, build))


def context_digest(directory, args):
    """SHA-256 (32 hex digits) of the build arguments and every file of the context, by relative
    path. Links are followed, as the builder's copy of the context follows them; Python's caches
    are left out, as the images' .dockerignore leaves them out."""
    digest = hashlib.sha256(json.dumps(args or {}, sort_keys=True).encode())
    paths = []
    for base, dirs, files in os.walk(directory, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        paths += [os.path.join(base, name) for name in files]
    for path in sorted(paths, key=lambda p: os.path.relpath(p, directory)):
        digest.update(os.path.relpath(path, directory).encode() + b"\0")
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
        ref = f"{item.get('name')}:{item.get('tag')}"
        if ref in seen:
            problems.append(f"{where}: {ref} is already listed as {variable}[{seen[ref]}]")
        seen.setdefault(ref, index)
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
        directory = context_dir(item, base_dir)
        out.append({"name": item["name"], "tag": str(item["tag"]), "ref": ref, "dir": directory,
                    "args": item.get("args") or {}, "context": context_digest(directory, item.get("args"))})
    return out
