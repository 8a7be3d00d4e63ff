# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that plan the IPsec managed network. Each is documented in the YAML file of its name beside this one."""

from __future__ import annotations

from ansible_collections.paddock.platform.plugins.module_utils._network import config_errors, host_view, plan


class FilterModule:
    def filters(self):
        return {"managed_network_errors": config_errors, "managed_network_plan": plan,
                "managed_network_host": host_view}
