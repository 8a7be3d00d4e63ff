#!/usr/bin/python
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: inventory_validate
short_description: Check a host's settings for Paddock's roles before any host is touched
version_added: "0.7.0"
description:
  - An action that runs on the controller only. It reads every role's C(meta/argument_specs.yml) and
    checks each of those variables that the inventory or C(-e) sets for this host - its type, its
    choices and its elements - and fails naming the file and line that set a bad value.
  - It exists because Ansible checks a role's argument spec only when the role starts, which for a
    late role is after earlier roles have changed the host; and
    M(ansible.builtin.validate_argument_spec) names neither the file nor the line, and turns a mapping
    or a float given for a string into its text instead of refusing it.
options:
  roles_dir:
    description: Where the roles are; the collection's own C(roles/) by default.
    type: path
author: Paddock contributors
"""

EXAMPLES = r"""
- name: Check the hosts' settings
  paddock.platform.inventory_validate:
"""

RETURN = r"""
checked:
  description: The role variables this host sets, which were checked.
  returned: success
  type: list
  elements: str
"""
