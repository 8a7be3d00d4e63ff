# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""The Infrastructure view: one row per host, from the swarm's node list and the host agent."""

from __future__ import annotations

import re

from ansible_collections.paddock.platform.plugins.module_utils._swarm import INVENTORY_LABEL, find_node, index_nodes

_SAMPLE = re.compile(r'^(\w+)(?:\{([^}]*)\})?\s+(\S+)$')
AUTOMATIC = ("paddock.", "io.rancher.host.")


def metrics(text):
    """Parse Prometheus text into [(name, {label: value}, float)]."""
    out = []
    for line in (text or "").splitlines():
        match = _SAMPLE.match(line)
        if match and not line.startswith("#"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            out.append((match.group(1), labels, float(match.group(3))))
    return out


def cpu_use(first, second):
    """Share of CPU time not idle between two samples of node_cpu_seconds_total, or None."""
    def totals(text):
        idle = total = 0.0
        for name, labels, value in metrics(text):
            if name == "node_cpu_seconds_total":
                total += value
                idle += value if labels.get("mode") in ("idle", "iowait") else 0.0
        return idle, total
    idle_a, total_a = totals(first)
    idle_b, total_b = totals(second)
    if total_b <= total_a:
        return None
    return 1 - (idle_b - idle_a) / (total_b - total_a)


def memory_use(text):
    values = {name: value for name, _labels, value in metrics(text)}
    total, available = values.get("node_memory_MemTotal_bytes"), values.get("node_memory_MemAvailable_bytes")
    return None if not total or available is None else 1 - available / total


def rows(hosts, nodes):
    """hosts: [{name, addr, metrics_a, metrics_b, containers}] -> one display row per host."""
    out, index = [], index_nodes(nodes)
    for host in hosts:
        node = find_node({"name": host["name"], "info": None, "addr": host.get("addr")}, index) or {}
        manager = node.get("ManagerStatus") or {}
        role = node.get("Spec", {}).get("Role", "-")
        labels = {k: v for k, v in (node.get("Spec", {}).get("Labels") or {}).items()
                  if not k.startswith(AUTOMATIC) and k != INVENTORY_LABEL}
        cpu, memory = cpu_use(host.get("metrics_a"), host.get("metrics_b")), memory_use(host.get("metrics_b"))
        out.append({
            "host": host["name"],
            "role": f"{role} (leader)" if manager.get("Leader") else role,
            "state": node.get("Status", {}).get("State", "not in swarm"),
            "availability": node.get("Spec", {}).get("Availability", "-"),
            "address": host.get("addr") or "-",
            "labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "-",
            "cpu": "-" if cpu is None else f"{cpu:.0%}",
            "memory": "-" if memory is None else f"{memory:.0%}",
            "containers": ",".join(sorted(host.get("containers") or [])) or "-",
        })
    return out


COLUMNS = ("host", "role", "state", "availability", "address", "cpu", "memory", "labels", "containers")


def table(display_rows):
    """Align rows as text lines under a header, as Rancher's Infrastructure page listed hosts."""
    widths = {c: max([len(c)] + [len(r[c]) for r in display_rows]) for c in COLUMNS}
    line = lambda values: "  ".join(str(values[c]).ljust(widths[c]) for c in COLUMNS).rstrip()  # noqa: E731
    return [line({c: c.upper() for c in COLUMNS})] + [line(r) for r in display_rows]
