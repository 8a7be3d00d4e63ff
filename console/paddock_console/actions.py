"""What users did through the console: the Events page's rows, the console's audit trail, and
the sessions that logged out."""

from __future__ import annotations

import collections
import json
import logging
import os
import secrets
import threading
import time

import docker

from paddock_console import model

LOG = logging.getLogger("paddock.console")


def _utc(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1e6):06d}Z"


class Actions:
    """What users did through the console, for the Events page and the audit trail.

    Each action is written to the console's audit trail on its host (a hash-chained file, as
    the engines' plugin writes its own; _trail) before the console answers, and printed as a JSON
    line, so the engine keeps it in the console service's logs; the Events page reads those back
    (``sync``), which brings the actions made through every manager's console, and those made
    before this one restarted. A logout is recorded with a digest of its session's id: every
    replica refuses that session from then on (``ended``), the one that logged out at once, the
    others once they have read it back (every 2 s). Never a password."""

    SERVICE = "paddock-console_console"

    def __init__(self, trail=None, session_seconds=28800, clock=time.time):
        self.recent, self.lock = collections.deque(maxlen=2000), threading.Lock()
        self.seen, self.synced = set(), 0
        self.trail, self.session_seconds, self.clock = trail, session_seconds, clock
        self.ended = {}  # session digest -> when its logout was recorded
        self.host = os.uname().nodename

    def _write(self, record):
        """Append to the trail; raises OSError when it cannot (the caller then refuses). What a
        visitor typed (a login name) is cut to 256 characters."""
        if self.trail is not None:
            kept = {key: value[:256] if isinstance(value, str) else value for key, value in record.items()}
            self.trail.append(dict(kept, time=_utc(self.clock()), host=self.host))

    def begin(self, user, role, action, target, source):
        """The trail's record of an action about to be tried; OSError when it cannot be written."""
        self._write({"stage": "request", "user": user, "role": role, "action": action, "target": target,
                     "source": source})

    def record(self, user, action, target, result, role=None, source=None, session=None):
        entry = {"id": secrets.token_hex(8), "time": int(self.clock()), "who": user, "type": "console",
                 "action": action, "target": target, "result": result}
        if session:
            entry["session"] = session
        try:
            self._write({"stage": "result", "user": user, "role": role, "action": action, "target": target,
                         "result": result, "source": source, **({"session": session} if session else {})})
        except OSError as exc:
            LOG.error("the console's audit trail could not record %s by %s: %s", action, user, exc)
        self._keep([entry])
        print(json.dumps({"paddock_console_action": entry}), flush=True)

    def _keep(self, entries):
        with self.lock:
            for entry in entries:
                if entry.get("session"):
                    self.ended[entry["session"]] = entry["time"]
                if entry.get("id") not in self.seen:
                    self.seen.add(entry.get("id"))
                    self.recent.append(entry)
            if len(self.seen) > 4 * self.recent.maxlen:
                self.seen = {e.get("id") for e in self.recent}
            old = self.clock() - self.session_seconds
            for key in [k for k, at in self.ended.items() if at < old]:
                del self.ended[key]

    def follow(self, engines, role):
        """Read the other replicas' actions (and logouts) as they log them, as ``role``: one
        stream of the console service's logs, opened again 2 s after it ends (one call in the
        engines' trail per stream, not one per read)."""
        def run():
            while True:
                try:
                    self._stream(engines.api(role))
                except Exception as exc:  # noqa: BLE001 - a manager down must not end the thread
                    LOG.info("console actions not read back: %s", exc)
                time.sleep(2)
        threading.Thread(target=run, name="actions", daemon=True).start()

    def _stream(self, api):
        since = max(self.synced - 5, int(self.clock()) - self.session_seconds)
        rest = b""
        for chunk in api.service_logs(self.SERVICE, stdout=True, stderr=False, since=since, follow=True,
                                      tail="all", is_tty=False):
            *lines, rest = (rest + chunk).split(b"\n")
            if lines:
                self._keep(model.actions_logged(b"\n".join(lines).decode("utf-8", "replace")))
                self.synced = int(self.clock())

    def sync(self, api):
        """Read the actions the console service logged since the last read (a session's lifetime
        at first, for its logouts): a console that restarted, or another manager's, shows them too."""
        now = int(self.clock())
        since = max(self.synced - 5, now - self.session_seconds)
        try:
            out = api.service_logs(self.SERVICE, stdout=True, stderr=False, since=since, tail="all", is_tty=False)
        except docker.errors.APIError as exc:  # not deployed as a service (a test run), or refused
            LOG.info("console actions not read back: %s", exc)
            return
        text = (b"".join(out) if not isinstance(out, bytes) else out).decode("utf-8", "replace")
        self._keep(model.actions_logged(text))
        self.synced = now
