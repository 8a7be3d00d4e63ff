# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for stacks. Each filter is documented in the YAML file of its name beside this one."""

from __future__ import annotations

import os


def stack_image_map(images, registry):
    """Each image images.yml builds, as a stack names it, -> its copy in the platform's registry."""
    if not registry:
        return {}
    return {f"{i['name']}:{i['tag']}": f"{registry}/{i['name']}:{i['tag']}" for i in images or []}


def images_stale_files(results, workdir, base_dir):
    """Files in the builder's copies of the build contexts that their sources no longer have.

    ``results`` are ``find`` results looped over the images (each with its ``item``); sources
    are read on the controller, where the contexts live."""
    stale = []
    for result in results or []:
        item = result.get("item") or {}
        source = item.get("build", "")
        source = source if os.path.isabs(source) else os.path.join(base_dir, source)
        copy = os.path.join(workdir, item.get("name", ""))
        for found in result.get("files") or []:
            relative = os.path.relpath(found["path"], copy)
            if not os.path.lexists(os.path.join(source, relative)):
                stale.append(found["path"])
    return sorted(set(stale))


class FilterModule:
    def filters(self):
        return {"stack_image_map": stack_image_map, "images_stale_files": images_stale_files}
