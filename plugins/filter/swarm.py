# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that plan a Swarm from the inventory and what the hosts report.

Each filter is documented in the YAML file of its name beside this one."""

from __future__ import annotations

from ansible_collections.paddock.platform.plugins.module_utils._swarm import (
    advertise_address,
    bootstrap,
    describe_hosts,
    host_labels,
    inventory_errors,
    lost_managers,
    plan,
    recovery,
)


class FilterModule:
    def filters(self):
        return {
            "swarm_hosts": describe_hosts,
            "swarm_inventory_errors": inventory_errors,
            "swarm_bootstrap": bootstrap,
            "swarm_plan": plan,
            "swarm_recovery": recovery,
            "swarm_lost_managers": lost_managers,
            "swarm_host_labels": host_labels,
            "swarm_advertise_address": advertise_address,
        }
