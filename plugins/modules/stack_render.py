#!/usr/bin/python
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: stack_render
short_description: Validate the inventory's Rancher-style stacks and render them for Swarm, on the controller
description:
  - Reads each stack's C(docker-compose.yml) (formats 1, 2 and 3) and Rancher's
    C(rancher-compose.yml), validates both (unknown keys with the nearest known key, wrong types,
    negative scales, port rules whose target does not exist, duplicate source ports, host ports
    published twice across stacks), and translates them into a compose file of format 3.8 for
    C(docker stack deploy) plus each load balancer's C(haproxy.cfg).
  - "Every problem is reported at once, each as C(stack NAME: FILE: key.path: problem), and the
    run fails before any host is touched. What Swarm cannot do is a warning naming the key."
  - Why a custom plugin - no existing tool reads rancher-compose.yml, and validation must run on
    the controller, before any host is touched. It is an action plugin and opens no connection.
version_added: "0.2.0"
author: Paddock contributors
options:
  stacks:
    description:
      - The C(paddock_stacks) list - name, path (relative to the inventory), state, prune.
      - A catalog app is an item with C(catalog) (the entry) instead of C(path), and optionally
        C(version) (folder or version string), C(answers) and C(answers_file). Its answers are
        checked against the entry's questions and its templates filled before it is validated
        like any other stack; every service carries the entry, folder and version as labels.
    type: list
    elements: dict
    required: true
  launch:
    description:
      - The catalog apps C(playbooks/catalog.yml) launches from its command line, as items like those
        of O(stacks) with C(catalog). Their answers given with C(-e answers=...) are read from the
        extra vars as data, never templated, and messages name them as given on the command line.
    type: list
    elements: dict
    default: []
  catalogs:
    description: Catalog directories searched before Paddock's own C(catalog/), relative to the inventory.
    type: list
    elements: path
    default: []
  only:
    description: Render only this stack (the others are still validated).
    type: str
  only_state:
    description: Override the state of the O(only) stack.
    type: str
    choices: [present, absent]
  base_dir:
    description: Where relative paths are read from. Defaults to the inventory directory.
    type: path
  ipvs:
    description: Whether the nodes have IPVS; without it services use DNS round robin and host-mode ports.
    type: bool
    default: false
  image_map:
    description: Image as a stack names it -> image to run.
    type: dict
  lb_image:
    description: The load balancer's image.
    type: str
  lb_constraint:
    description: The placement constraint of load balancers (the load-balancer hosts' node label).
    type: str
  lb_dir:
    description: Where each load balancer's files live on its hosts.
    type: path
  lb_max_servers:
    description: Server slots per backend.
    type: int
  lb_check_interval_ms:
    description: The health-check interval of targets without a health_check.
    type: int
  console:
    description:
      - Where the console runs, when it is enabled - C(port) and the managers' C(servers)
        (addresses). A load balancer's port rule may then target C(paddock-console/console) with
        protocol C(tcp), passing the console's own TLS through to the managers.
    type: dict
  certificates:
    description:
      - The names of the inventory's C(paddock_certificates), which a load balancer's
        C(lb_config.default_cert) and C(certs) may name.
    type: list
    elements: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  action:
    support: full
"""

EXAMPLES = r"""
- name: Validate the stacks before any host is touched
  paddock.platform.stack_render:
    stacks: "{{ paddock_stacks }}"
"""

RETURN = r"""
stacks:
  description: >-
    Per stack - name, state, prune, the rendered compose, its hash, the load balancers' configs,
    warnings, and for a catalog app its entry and version and its password values (the result
    is then hidden from the output, as with no_log).
  returned: success
  type: list
  elements: dict
errors:
  description: "Every problem found, as C(stack NAME: FILE: key.path: problem)."
  returned: failure
  type: list
  elements: str
"""
