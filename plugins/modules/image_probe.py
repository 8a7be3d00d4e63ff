#!/usr/bin/python
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_probe
short_description: Read which images a builder has built from their current context, and which the registry has
description:
  - For each image, whether the builder's engine holds it built from the context the controller
    describes (its C(io.paddock.context) label equals O(images[].context)), and whether the
    platform's registry serves the tag. For each base image, whether the engine has it.
    It changes nothing.
  - Why a custom module - community.docker's C(docker_image_info) reads local images but not a
    registry's tags, and the controller, which holds the build contexts, has already hashed them;
    one round trip answers for every image instead of one task per image.
version_added: "0.5.0"
author: Paddock contributors
options:
  registry:
    description: The platform's registry (host:port). It is asked over HTTPS when the engine trusts a CA for it.
    type: str
    required: true
  images:
    description: C(ref) (registry/name:tag) and C(context), the digest of its build context and arguments.
    type: list
    elements: dict
    default: []
  bases:
    description: Base images that builds name in FROM.
    type: list
    elements: str
    default: []
  push:
    description:
      - The registry's push endpoint (host:port, plain HTTP on the registry host's loopback address),
        asked instead of O(registry), whose pull instance admits only client certificates.
    type: str
attributes:
  check_mode:
    support: full
"""

EXAMPLES = r"""
- name: Read what is built and pushed
  paddock.platform.image_probe:
    registry: 10.3.0.4:5000
    push: 127.0.0.1:5001
    images: [{ref: "10.3.0.4:5000/apacz:1", context: 0123abcd}]
    bases: [debian:bookworm]
  register: images_probe
"""

RETURN = r"""
images:
  description: Per ref - C(current) (built from this context) and C(pushed) (the registry serves the tag).
  type: dict
  returned: always
  sample: {"10.3.0.4:5000/apacz:1": {current: true, pushed: false}}
bases:
  description: Per base image - whether the engine has it.
  type: dict
  returned: always
"""

import json
import os
import ssl
import urllib.error
import urllib.request

from ansible.module_utils.basic import AnsibleModule

LABEL = "io.paddock.context"
MANIFESTS = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"


def labels_by_ref(inspected):
    """``docker image inspect`` output -> each tag it carries -> the image's context label."""
    found = {}
    for image in inspected:
        label = ((image.get("Config") or {}).get("Labels") or {}).get(LABEL, "")
        for tag in image.get("RepoTags") or []:
            found[tag] = label
    return found


def split_ref(ref):
    """``host:port/name:tag`` -> (name, tag)."""
    _, _, rest = ref.partition("/")
    name, _, tag = rest.rpartition(":")
    return name, tag


def pushed(registry, ref, push=None):
    name, tag = split_ref(ref)
    ca = f"/etc/docker/certs.d/{registry}/ca.crt"
    scheme = "https" if os.path.exists(ca) and not push else "http"
    request = urllib.request.Request(f"{scheme}://{push or registry}/v2/{name}/manifests/{tag}", method="HEAD",
                                     headers={"Accept": MANIFESTS})
    context = ssl.create_default_context(cafile=ca) if scheme == "https" else None
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main():
    module = AnsibleModule(
        argument_spec={
            "registry": {"type": "str", "required": True},
            "images": {"type": "list", "elements": "dict", "default": []},
            "bases": {"type": "list", "elements": "str", "default": []},
            "push": {"type": "str"},
        },
        supports_check_mode=True,
    )
    images, bases = module.params["images"], module.params["bases"]
    refs = [image["ref"] for image in images] + bases
    inspected = []
    if refs and module.get_bin_path("docker"):
        # Exit status 1 when any image is missing; the found ones are still printed.
        _, out, _ = module.run_command(["docker", "image", "inspect", *refs])
        inspected = json.loads(out) if out.strip().startswith("[") else []
    labels = labels_by_ref(inspected)
    module.exit_json(
        changed=False,
        images={image["ref"]: {"current": labels.get(image["ref"]) == image["context"],
                               "pushed": pushed(module.params["registry"], image["ref"],
                                                 module.params["push"])} for image in images},
        bases={base: base in labels or f"{base}:latest" in labels for base in bases},
    )


if __name__ == "__main__":
    main()
