#!/usr/bin/python
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloud_config_validate
short_description: Validate and merge a host's RancherOS-style cloud-config on the controller
description:
  - Loads each cloud-config source (a file path relative to the inventory, or an inline
    mapping), checks it against the RancherOS cloud-config schema plus semantic checks
    (addresses and CIDRs parse, gateways sit inside their network, a bond names a configured
    interface, write_files content decodes, mount points are absolute), and deep-merges the
    sources in order.
  - "It reports every problem at once, each as C(host: file: key.path: problem), and fails.
    RancherOS's own C(ros config validate) logs errors and exits 0; this fails the run."
  - Why a custom plugin - validation must happen on the controller, for every host, before
    any host is touched. It runs as an action plugin and never opens a connection, so it
    also works for hosts that are down.
  - RancherOS-only keys (system containers, C(bootcmd) and the like) are accepted with a
    warning that names the key.
version_added: "0.1.0"
author: Paddock contributors
options:
  config:
    description: The host's cloud-config - a path, an inline mapping, or a list of them merged in order.
    type: raw
  defaults:
    description: Sources merged beneath O(config), usually set per group.
    type: raw
  base_dir:
    description: The directory that relative paths are read from. Defaults to the inventory directory.
    type: path
  variable:
    description: The inventory variable name to cite in errors about inline documents.
    type: str
    default: cloud_config
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  action:
    support: full
"""

EXAMPLES = r"""
- name: Validate the cloud-config before any host is touched
  paddock.platform.cloud_config_validate:
    defaults: "{{ cloud_config_defaults | default(omit) }}"
    config: "{{ cloud_config | default(omit) }}"
  register: cloud_config_validated
"""

RETURN = r"""
cloud_config:
  description: The merged, validated document.
  returned: success
  type: dict
sources:
  description: The sources merged, in order.
  returned: success
  type: list
  elements: str
  sample: [inventory/cloud-config/common.yml, inline cloud_config]
errors:
  description: "Every problem found, as C(host: file: key.path: problem)."
  returned: failure
  type: list
  elements: str
"""
