#!/usr/bin/python
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: inventory_validate
short_description: Check the whole inventory before any host is touched
version_added: "0.7.0"
description:
  - An action that runs on the controller only, once (C(run_once)), for all hosts. It reports every
    problem at once, each naming the file and line that set the value (or C(-e)).
  - "It checks: every variable of a Paddock role that the inventory or C(-e) sets, against that
    role's C(meta/argument_specs.yml) (type, choices, elements); the Swarm's description (role
    groups, C(node_state), advertise and listen addresses, labels, manager count, load balancer
    hosts); the managed network (range, per-host prefix, overlaps, authentication, PSK); the users,
    what members may ask, the admin networks; and the images to build."
  - It exists because Ansible checks a role's argument spec only when the role starts, which for a
    late role is after earlier roles have changed the hosts, and
    M(ansible.builtin.validate_argument_spec) names neither the file nor the line, and turns a mapping
    or a float given for a string into its text instead of refusing it. The checks are one Python
    function (C(module_utils/_inventory.py)), which the bad-input suite calls too.
options:
  hosts:
    description: The hosts to check; the group C(paddock) by default.
    type: list
    elements: str
  roles_dir:
    description: Where the roles are; the collection's own C(roles/) by default.
    type: path
author: Paddock contributors
"""

EXAMPLES = r"""
- name: Check the inventory
  paddock.platform.inventory_validate:
  run_once: true
"""

RETURN = r"""
errors:
  description: Every problem, one line each (on failure).
  returned: failure
  type: list
  elements: str
"""
