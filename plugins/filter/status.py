# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Infrastructure view of playbooks/status.yml. Documented in swarm_status_table.yml beside this file."""

from __future__ import annotations

from ansible_collections.paddock.platform.plugins.module_utils._status import rows, table
from ansible_collections.paddock.platform.plugins.module_utils._swarm import advertise_address


def status_table(hosts, nodes):
    return table(rows(hosts, nodes))


def status_host(hostvars):
    """What status.yml gathered on one host, from its hostvars."""
    return {
        "name": hostvars["inventory_hostname"],
        "addr": advertise_address(hostvars),
        "metrics_a": (hostvars.get("status_metrics_a") or {}).get("content"),
        "metrics_b": (hostvars.get("status_metrics_b") or {}).get("content"),
        "containers": (hostvars.get("status_containers") or {}).get("stdout_lines") or [],
    }


class FilterModule:
    def filters(self):
        return {"swarm_status_table": status_table, "status_host": status_host}
