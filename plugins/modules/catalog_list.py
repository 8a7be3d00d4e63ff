#!/usr/bin/python
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: catalog_list
short_description: List Rancher-style catalog entries, or show one entry's questions, on the controller
description:
  - Reads catalogs in Rancher 1.x's layout (C(<entry>/config.yml) and numbered version folders,
    or a whole catalog checkout with C(templates/<entry>/)), plus the catalog shipped with Paddock.
  - Without O(entry), lists every entry with its versions, default version and description.
    With O(entry), shows one version's questions; password defaults are hidden.
  - Why a custom plugin - nothing else reads Rancher's catalog format. It is an action plugin and
    opens no connection.
version_added: "0.4.0"
author: Paddock contributors
options:
  catalogs:
    description: Catalog directories to read before Paddock's own, relative to the inventory.
    type: list
    elements: path
    default: []
  entry:
    description: The entry to show.
    type: str
  version:
    description: Its version folder or version string; the entry's default version otherwise.
    type: str
  base_dir:
    description: Where relative catalog paths are read from. Defaults to the inventory directory.
    type: path
attributes:
  check_mode:
    support: full
"""

EXAMPLES = r"""
- name: List the catalog
  paddock.platform.catalog_list:
  register: catalog
"""

RETURN = r"""
entries:
  description: Without O(entry), each entry with its name, category, description, versions and problems.
  returned: without entry
  type: list
questions:
  description: With O(entry), the version's questions.
  returned: with entry
  type: list
listing:
  description: The same, as lines to read.
  returned: always
  type: list
"""
