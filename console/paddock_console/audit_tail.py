"""The audit service: on every node, print each record of the host's audit trails as it is written.

Run by the console's stack as a global service (``python3 -m paddock_console.audit_tail``) with
the host's /var/log/paddock mounted read-only at ``PADDOCK_TRAILS``. Its logs are how the
console's Audit page reads every host's trails through the engines' API (service logs); the
trails themselves stay on the hosts, where playbooks/audit_log.yml verifies their chains.

Each record is printed once as ``{"paddock_audit": {"host", "trail", "record"}}``: at start the
last ``PADDOCK_TRAIL_BACKLOG`` records of each trail, then each new one within a second or two.
A rotated file is read to its end before its successor.
"""

from __future__ import annotations

import json
import os
import sys
import time

TRAILS = {"api": "api-audit.log", "console": "console/console-audit.log"}


class Follower:
    """Follows one trail file across rotation: ``lines()`` gives the complete lines written since
    the last call."""

    def __init__(self, path, backlog):
        self.path, self.inode, self.offset, self.partial = path, None, 0, b""
        self.backlog = backlog

    def _open_at_start(self, handle):
        """Where a first read begins: ``backlog`` lines from the end."""
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - 512 * self.backlog))
        lines = handle.read().split(b"\n")[:-1]
        kept = lines[-self.backlog:] if self.backlog else []
        return size - sum(len(line) + 1 for line in kept)

    def _read(self, path, offset):
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
        return data, offset + len(data)

    def lines(self):
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return []
        out = b""
        if self.inode is None:
            with open(self.path, "rb") as handle:
                self.offset = self._open_at_start(handle)
        elif stat.st_ino != self.inode:  # rotated: finish the old file (now .1), then start the new
            rotated = f"{self.path}.1"
            if os.path.exists(rotated) and os.stat(rotated).st_ino == self.inode:
                out, _ = self._read(rotated, self.offset)
            self.offset = 0
        self.inode = stat.st_ino
        data, self.offset = self._read(self.path, self.offset)
        text = self.partial + out + data
        *complete, self.partial = text.split(b"\n")
        return complete


def emit(host, trail, line):
    try:
        record = json.loads(line)
    except ValueError:
        record = {"time": "", "unreadable": line[:200].decode("utf-8", "replace")}
    print(json.dumps({"paddock_audit": {"host": record.get("host") or host, "trail": trail, "record": record}},
                     sort_keys=True), flush=True)


def main():
    root = os.environ.get("PADDOCK_TRAILS", "/trails")
    host = os.environ.get("PADDOCK_NODE") or os.uname().nodename
    backlog = int(os.environ.get("PADDOCK_TRAIL_BACKLOG", "1000"))
    followers = {trail: Follower(os.path.join(root, name), backlog) for trail, name in TRAILS.items()}
    while True:
        for trail, follower in followers.items():
            for line in follower.lines():
                if line.strip():
                    emit(host, trail, line)
        sys.stdout.flush()
        time.sleep(1)


if __name__ == "__main__":
    main()
