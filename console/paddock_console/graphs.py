"""The Infrastructure page's host graphs, read from each host's node exporter."""

from __future__ import annotations

import collections
import logging
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from paddock_console import model

LOG = logging.getLogger("paddock.console")


class Graphs:
    """The last hour of each host's CPU, memory and disk use, read from the host agent's node
    exporter (``http://NODE:9100/metrics``) every ``graph_seconds`` by a background thread, with
    the console's least privileged identity to list the nodes. Each console replica samples on
    its own (a restart starts an empty hour); a host that does not answer leaves a gap. The
    exporters are read side by side, a few at a time, each with a short timeout, so that one
    dead host delays nobody else's graph."""

    def __init__(self, config, engines):
        self.config, self.engines = config, engines
        self.keep = int(3600 / config.graph_seconds) + 1
        self.series, self.raw, self.lock = {}, {}, threading.Lock()

    def start(self):
        if self.config.agent_port and self.config.roles():
            threading.Thread(target=self._run, name="graphs", daemon=True).start()

    def _run(self):
        while True:
            started = time.monotonic()
            try:
                self.sample()
            except Exception as exc:  # noqa: BLE001 - the graphs must outlive any one failure
                LOG.warning("host graphs: %s", exc)
            time.sleep(max(0.0, self.config.graph_seconds - (time.monotonic() - started)))

    def _read(self, address):
        url = f"http://{address}:{self.config.agent_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - http by design
                return model.exporter_sample(response.read().decode("utf-8", "replace"))
        except (OSError, ValueError):
            return None

    def sample(self):
        nodes = self.engines.api(self.config.roles()[0]).nodes()
        hosts = {(n.get("Description") or {}).get("Hostname", n["ID"]): (n.get("Status") or {}).get("Addr", "")
                 for n in nodes}
        with ThreadPoolExecutor(max_workers=min(16, max(1, len(hosts)))) as pool:
            read = dict(zip(hosts, pool.map(self._read, hosts.values()), strict=True))
        now = time.time()
        with self.lock:
            for gone in set(self.series) - set(hosts):
                del self.series[gone]
                self.raw.pop(gone, None)
            for host, sample in read.items():
                series = self.series.setdefault(host, collections.deque(maxlen=self.keep))
                if sample is None:
                    series.append((now, {}))
                    self.raw.pop(host, None)
                    continue
                series.append((now, model.usage(self.raw.get(host), sample)))
                self.raw[host] = sample

    def view(self, host):
        with self.lock:
            series = list(self.series.get(host, ()))
        return model.graphs(series, time.time())
