# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""The audit trail: who did what, and when, as hash-chained JSON lines kept on each host.

Each record is one line of JSON, keys sorted, with three fields added when it is written:
``seq`` (one more than the record before), ``prev`` (the ``hash`` of the record before) and
``hash`` (SHA-256 of ``prev`` and the line without ``hash``). An edited line no longer matches
its hash; a removed one leaves a gap in ``seq`` and a ``prev`` that names no record; both are
reported by ``verify``. The chain goes on across rotation (``path`` becomes ``path.1``, and so
on up to ``keep``) and across restarts (the writer reads the last record back).

What a chain cannot show: the newest records cut off the end, or every file rewritten whole by
root on the host. Those need a copy elsewhere (docs/threat-model.md).

Writers: paddock-authz (every API call over TLS) and the console (its users' actions). Readers:
plugins/modules/audit_log.py (playbooks/audit_log.yml) and the console's Audit page. Stdlib
only: also deployed beside paddock_authz.py on every host.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading

GENESIS = "0" * 64


def line_of(record):
    """A record's line (without the newline): JSON, keys sorted, no spaces, ASCII only (so that no
    reader splits a line, and no terminal reads an escape, whatever a user name holds)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def digest(prev, body):
    """The hash of a record: its predecessor's hash and its own line without ``hash``."""
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


def files(path, keep):
    """The trail's files, oldest first: path.<keep> ... path.1, path (those that exist)."""
    return [p for p in [f"{path}.{n}" for n in range(keep, 0, -1)] + [path] if os.path.exists(p)]


class Trail:
    """Appends records to ``path`` (created 0600 with its directory 0700), rotating it past
    ``max_bytes`` and keeping ``keep`` old files. ``sync``: each record reaches the disk before
    ``append`` returns (fdatasync), so a record acknowledged is a record kept, host crash
    included. The sync is a group commit: writers append under a lock and then wait for one
    fdatasync that covers every record written before it began, so that concurrent requests
    share a sync instead of queueing for one each. Thread-safe within one process; one writer
    per file."""

    def __init__(self, path, max_bytes=64 * 2 ** 20, keep=8, sync=True):
        self.path, self.max_bytes, self.keep, self.sync = path, max_bytes, keep, sync
        self.lock, self.sync_lock = threading.Lock(), threading.Lock()
        self.handle = None
        self.seq, self.prev, self.synced = 0, GENESIS, 0

    def _open(self):
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.handle = os.fdopen(descriptor, "ab", buffering=0)
        if self.seq == 0:
            self._resume()

    def _resume(self):
        """Go on from the last record of the newest file that has one. A last line that is not a
        record (a crash in the middle of a write) is ended, so that the next record starts a
        line of its own, and the next record says that it follows an unreadable line; the
        numbering goes on from the last record before it."""
        for path in reversed(files(self.path, self.keep)):
            tail = _last_lines(path)
            if not tail:
                continue
            if not tail[-1].endswith(b"\n"):
                self.handle.write(b"\n")
            for line in reversed(tail):
                try:
                    record = json.loads(line)
                    self.seq, self.prev = int(record["seq"]), str(record["hash"])
                except (ValueError, KeyError, TypeError):
                    self.prev = "unreadable:" + hashlib.sha256(line).hexdigest()
                    continue
                if line is not tail[-1]:
                    self.prev = "unreadable:" + hashlib.sha256(tail[-1]).hexdigest()
                return
            return

    def _rotate(self):
        if self.sync:
            os.fdatasync(self.handle.fileno())
        self.handle.close()
        for number in range(self.keep - 1, 0, -1):
            if os.path.exists(f"{self.path}.{number}"):
                os.replace(f"{self.path}.{number}", f"{self.path}.{number + 1}")
        os.replace(self.path, f"{self.path}.1")
        self._open()

    def append(self, record, wait=True):
        """Write ``record`` (a dict of JSON values) as the next link; returns it with seq, prev
        and hash. Raises OSError when it could not be written: the caller must then refuse.
        ``wait``: return only once it is on disk (with ``sync``); a record whose loss would not
        hide an action (a response's status) need not wait, and is synced with the next."""
        with self.lock:
            if self.handle is None:
                self._open()
            entry = dict(record, seq=self.seq + 1, prev=self.prev)
            entry.pop("hash", None)
            entry["hash"] = digest(self.prev, line_of(entry))
            data = (line_of(entry) + "\n").encode()
            size = os.fstat(self.handle.fileno()).st_size
            if size and size + len(data) > self.max_bytes:
                self._rotate()
            self.handle.write(data)
            self.seq, self.prev = entry["seq"], entry["hash"]
        if self.sync and wait:
            self._synced(entry["seq"])
        return entry

    def _synced(self, seq):
        """Return once record ``seq`` is on disk: synced by this call, or by one that began after
        it was written. The file is synced through a duplicate of its descriptor, which stays
        valid if the trail rotates meanwhile (a rotation syncs the file it closes)."""
        with self.sync_lock:
            if self.synced >= seq:
                return
            with self.lock:
                written, descriptor = self.seq, os.dup(self.handle.fileno())
            try:
                os.fdatasync(descriptor)
            finally:
                os.close(descriptor)
            self.synced = written


def _last_lines(path):
    """The last lines of ``path`` (up to 64 KiB of them, a record being far shorter), as bytes
    with their newlines (the last one without, if it was cut short); the first may be partial."""
    with open(path, "rb") as handle:
        handle.seek(max(0, handle.seek(0, os.SEEK_END) - 65536))
        parts = handle.read().split(b"\n")
    return [part + b"\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


class Verifier:
    """Follows one chain record by record: ``feed`` each line in order (oldest file first), then
    ``problems`` says where it is broken. The first record read may follow records already
    rotated away; every one after it must follow the one before."""

    def __init__(self):
        self.problems, self.count, self.seq, self.prev = [], 0, None, None

    def feed(self, where, line):
        """Check one line; return its record, or None where it is not one."""
        try:
            record = json.loads(line)
            seq, prev, claimed = int(record["seq"]), str(record["prev"]), str(record["hash"])
        except (ValueError, KeyError, TypeError):
            self.problems.append(f"{where}: not a record of the trail (edited, or cut short)")
            self.seq = self.prev = None
            return None
        body = dict(record)
        del body["hash"]
        if digest(prev, line_of(body)) != claimed:
            self.problems.append(f"{where}: record {seq} does not match its hash (edited)")
        elif self.seq is not None and seq != self.seq + 1:
            self.problems.append(f"{where}: record {seq} follows record {self.seq} (records missing or reordered)")
        elif self.prev is not None and prev != self.prev:
            self.problems.append(f"{where}: record {seq} does not follow the record before it (one removed or "
                                 "replaced)")
        elif prev.startswith("unreadable:"):
            self.problems.append(f"{where}: record {seq} follows a line that could not be read")
        self.count += 1
        self.seq, self.prev = seq, claimed
        return record


def matches(record, user=None, since=None, until=None, pattern=None):
    """Whether ``record`` is one asked for: by user (the certificate's or the console's, or on
    whose behalf the console acted), time (ISO 8601 strings compare in order) and path (a
    ``pattern``, a regular expression searched in the request's path or the console's target)."""
    if user and user not in (record.get("user"), record.get("on_behalf_of")):
        return False
    if since and str(record.get("time", "")) < since:
        return False
    if until and str(record.get("time", "")) > until:
        return False
    return not pattern or bool(re.search(pattern, str(record.get("path") or record.get("target") or "")))


def read(path, keep, limit=1000, **filters):
    """Every file of one trail, verified whole: ``{"records": the last ``limit`` records that
    match ``filters`` (oldest first), "matched": how many matched, "count": records read,
    "problems": where the chain is broken, "files": the files read}``."""
    verifier, found, matched = Verifier(), [], 0
    paths = files(path, keep)
    for name in paths:
        with open(name, "rb") as handle:
            for number, line in enumerate(handle, 1):
                record = verifier.feed(f"{name}:{number}", line.rstrip(b"\n"))
                if record is not None and matches(record, **filters):
                    matched += 1
                    found.append(record)
                    if len(found) > limit:
                        del found[0]
    return {"records": found, "matched": matched, "count": verifier.count, "problems": verifier.problems,
            "files": paths}
