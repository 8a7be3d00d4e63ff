# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for stacks and the images they run. Each filter is documented in the YAML file of
its name beside this one."""

from __future__ import annotations

from ansible_collections.paddock.platform.plugins.module_utils._certificates import bundles, file_name
from ansible_collections.paddock.platform.plugins.module_utils._images import errors, plan, stack_images
from ansible_collections.paddock.platform.plugins.module_utils._stack import LB_CERT_DIR
from ansible_collections.paddock.platform.plugins.module_utils._vips import entries as lb_vip_entries


def stack_image_map(images, registry):
    """Each image images.yml builds, as a stack names it, -> its copy in the platform's registry."""
    if not registry:
        return {}
    return {f"{i['name']}:{i['tag']}": f"{registry}/{i['name']}:{i['tag']}" for i in images or []}


def stack_lb_files(lbs, run_script, certificates=None):
    """The files of each load balancer on its host, as paddock.platform.host_files takes them:
    its run script, haproxy.cfg and, where it terminates TLS, each certificate it serves (with
    its key) and the crt-list naming them, its default first."""
    files = {}
    for lb in lbs or []:
        files[f"{lb['dir']}/run"] = {"content": run_script, "mode": "0755"}
        files[f"{lb['dir']}/haproxy.cfg"] = {"content": f"{lb['config']}\n", "mode": "0644"}
        names = lb.get("certs") or []
        for name in names:
            files[f"{lb['dir']}/certs/{file_name(name)}"] = {"content": (certificates or {})[name], "mode": "0600",
                                                             "secret": True}
        if names:
            listed = "".join(f"{LB_CERT_DIR}/{file_name(name)}\n" for name in names)
            files[f"{lb['dir']}/certs/crt-list"] = {"content": listed, "mode": "0644"}
    return files


class FilterModule:
    def filters(self):
        return {"stack_image_map": stack_image_map, "stack_images": stack_images, "images_plan": plan,
                "images_errors": errors,
                "stack_lb_files": stack_lb_files, "certificate_bundles": bundles,
                "lb_vip_entries": lb_vip_entries}
