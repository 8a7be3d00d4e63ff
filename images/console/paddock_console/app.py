"""Paddock's console: Rancher's web view of hosts, stacks and services, over the Swarm API.

A Starlette application served by uvicorn over HTTPS. Every request to an engine goes through
its TLS API with the identity of the logged-in user's role (a client certificate that Paddock
issued), so the engines' authorization plugin enforces the same policy as for the docker CLI.
Nothing here holds more rights than the role of the user it acts for.

Configuration (the console role writes it): the files of /run/secrets (Swarm secrets) and
environment variables, listed in ``Config``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import secrets
import sys
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import docker
import ldap3
import ldap3.core.exceptions
from ldap3.utils.conv import escape_filter_chars
from passlib.context import CryptContext
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ansible_collections.paddock.platform.plugins.module_utils._trail import Trail
from paddock_console import catalog as catalogs
from paddock_console import model

HERE = os.path.dirname(__file__)
LOG = logging.getLogger("paddock.console")
HASHES = CryptContext(schemes=["sha512_crypt", "sha256_crypt", "bcrypt"])
# Verified when the user is unknown, so that a wrong name costs as long as a wrong password.
DUMMY = HASHES.hash(secrets.token_hex(8), scheme="sha512_crypt")
# The console user a request is handled for, on the thread that handles it: every engine call
# made there carries it (model.ON_BEHALF), so the engines' trail names the person, not only
# the console's identity.
ACTING = threading.local()


class Config:
    def __init__(self, environ=os.environ):
        self.secrets = environ.get("PADDOCK_CONSOLE_SECRETS", "/run/secrets")
        self.engines = [e for e in environ.get("PADDOCK_ENGINES", "").split(",") if e]
        self.managed = {s for s in environ.get("PADDOCK_MANAGED_STACKS", "").split(",") if s}
        self.environment = environ.get("PADDOCK_ENVIRONMENT", "paddock")
        self.session_seconds = int(environ.get("PADDOCK_SESSION_MINUTES", "480")) * 60
        self.port = int(environ.get("PADDOCK_CONSOLE_PORT", "8443"))
        # The host agent's exporter port on every node (0: no graphs), and how often it is read.
        self.agent_port = int(environ.get("PADDOCK_AGENT_PORT", "9100"))
        self.graph_seconds = max(1, int(environ.get("PADDOCK_GRAPH_SECONDS", "15")))
        # How often a directory user's groups are read again during a session, in seconds.
        self.directory_recheck = int(environ.get("PADDOCK_DIRECTORY_RECHECK", "300"))
        # Log streams one console replica serves at once (each holds a thread while it lasts).
        self.log_streams = int(environ.get("PADDOCK_LOG_STREAMS", "16"))
        # What the playbook's stack role renders with (roles/stack/tasks/context.yml): the images'
        # registry copies, the load balancers' image and placement, IPVS.
        self.render = json.loads(environ.get("PADDOCK_RENDER") or "{}")
        # The console's own audit trail on its host (roles/console mounts /var/log/paddock/console
        # there), and the service whose logs carry every host's trails (paddock_console/audit_tail.py).
        self.trail = environ.get("PADDOCK_CONSOLE_TRAIL", "")
        self.audit_service = environ.get("PADDOCK_AUDIT_SERVICE", "paddock-console_audit")

    def roles(self):
        """The roles the console holds an identity for, the least privileged first."""
        return [r for r in reversed(model.ROLES) if os.path.exists(self.secret(f"{r}-cert"))]

    def secret(self, name):
        return os.path.join(self.secrets, f"paddock-console-{name}")

    def read(self, name):
        with open(self.secret(name), encoding="utf-8") as handle:
            return handle.read()


class Engines:
    """One Docker client per role, to the first manager that answers; a manager that stops
    answering is replaced by the next on the following request."""

    def __init__(self, config):
        self.config, self.clients, self.lock = config, {}, threading.Lock()

    def _connect(self, role):
        tls = docker.tls.TLSConfig(client_cert=(self.config.secret(f"{role}-cert"), self.config.secret(f"{role}-key")),
                                   ca_cert=self.config.secret("ca"), verify=True)
        last = None
        for engine in self.config.engines:
            client = docker.DockerClient(base_url=f"tcp://{engine}", tls=tls, timeout=10, version="1.41")
            _acting(client.api)
            try:
                client.ping()
                return client
            except (docker.errors.DockerException, OSError) as exc:
                last = exc
        raise RuntimeError(f"no manager's engine answers ({', '.join(self.config.engines)}): {last}")

    def api(self, role):
        with self.lock:
            client = self.clients.get(role)
        if client is not None:
            try:
                client.ping()
                return client.api
            except (docker.errors.DockerException, OSError):
                pass
        client = self._connect(role)
        with self.lock:
            self.clients[role] = client
        return client.api


def _acting(session):
    """Make every request of a Docker client's session carry the console user of the thread
    that makes it (ACTING), as a header the engines' plugin records."""
    send = session.request

    def request(method, url, *args, **kwargs):
        user = getattr(ACTING, "user", None)
        if user:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), model.ON_BEHALF: user}
        return send(method, url, *args, **kwargs)
    session.request = request


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


def _closer(response, streams, stop):
    """Close the engine's log response and free its stream's place, once, whichever comes first:
    the generator's end or the response's background task (a page gone before the first line).
    Never called on the event loop: closing waits for the reader's read in progress to return
    (the response's buffer lock), which a quiet service can hold for the client's 10 s timeout."""
    done = threading.Lock()

    def close():
        stop.set()
        if done.acquire(blocking=False):
            try:
                response.close()
            finally:
                streams.release()
    return close


async def _pump(lines, close, stop):
    """Yield what a thread reads from the engine's log stream. When the page goes (the generator
    is closed), the reader is told to stop and the engine's response is closed from another
    thread, so that the event loop never waits on the reader."""
    loop, queue = asyncio.get_running_loop(), asyncio.Queue(maxsize=1000)
    dropped = [0]

    def put(item):
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:  # a reader slower than the service: lines are dropped, and said so
            dropped[0] += 1

    def read():
        try:
            for chunk in lines:
                if stop.is_set():
                    break
                loop.call_soon_threadsafe(put, chunk)
        except Exception:  # noqa: BLE001, S110 - the response was closed, or the engine went
            pass
        finally:
            if not stop.is_set():
                loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="logs", daemon=True).start()
    try:
        while True:
            chunk = await queue.get()
            if chunk is None:
                return
            if dropped[0]:
                yield f"[paddock console: {dropped[0]} lines dropped, the page read too slowly]\n".encode()
                dropped[0] = 0
            yield chunk
    finally:
        stop.set()
        threading.Thread(target=close, name="logs-close", daemon=True).start()


class DirectoryDown(Exception):
    """The directory did not answer, or refused the console's own bind."""


class Directory:
    """Users of a directory (LDAP or Active Directory; ``paddock_ldap``), each with the role of
    the highest-ranked group of ``roles`` they are a member of. A login binds as the console's
    bind DN, finds the one entry whose ``user_attribute`` is the name given (the name escaped, so
    that ``*`` or ``)(`` match nothing more), and binds as that entry with the password given;
    an empty password is refused before any bind (LDAP takes it as an anonymous bind, which
    succeeds). Group membership is read with the console's bind (``member`` or
    ``uniqueMember``, as groupOfNames, groupOfUniqueNames and Active Directory keep it)."""

    def __init__(self, settings):
        self.settings = settings
        self.url = settings["url"]
        tls = ldap3.Tls(validate=__import__("ssl").CERT_REQUIRED,
                        ca_certs_data=settings.get("ca") or None,
                        ca_certs_file=None if settings.get("ca") else "/etc/ssl/certs/ca-certificates.crt")
        self.server = ldap3.Server(self.url, use_ssl=self.url.startswith("ldaps://"), tls=tls, connect_timeout=5,
                                   get_info=ldap3.NONE)
        self.ranks = {group.lower(): role for group, role in
                      ((r["group"], r["role"]) for r in settings.get("roles") or [])}

    def _bind(self, dn, password):
        connection = ldap3.Connection(self.server, user=dn, password=password, receive_timeout=5,
                                      raise_exceptions=False, read_only=True)
        try:
            connection.open()
            if self.settings.get("start_tls"):
                connection.start_tls()
            ok = connection.bind()
        except ldap3.core.exceptions.LDAPException as exc:
            raise DirectoryDown(f"{self.url}: {exc}") from exc
        return connection, ok

    def _service(self):
        connection, ok = self._bind(self.settings["bind_dn"], self.settings["bind_password"])
        if not ok:
            raise DirectoryDown(f"{self.url} refused the console's bind DN: {connection.result.get('description')}")
        return connection

    def _role(self, service, dn):
        escaped = escape_filter_chars(dn)
        service.search(self.settings["group_base"], f"(|(member={escaped})(uniqueMember={escaped}))",
                       attributes=[], size_limit=1000)
        groups = {entry.entry_dn.lower() for entry in service.entries}
        roles = {role for group, role in self.ranks.items() if group in groups}
        return next((role for role in model.ROLES if role in roles), None)

    def _entry(self, service, name):
        """The DN of the one entry whose ``user_attribute`` is ``name`` (escaped, so that ``*`` or
        ``)(`` match nothing more), or None when there is none or more than one."""
        attribute = self.settings.get("user_attribute") or "uid"
        service.search(self.settings["user_base"], f"({attribute}={escape_filter_chars(name)})", attributes=[],
                       size_limit=2)
        return service.entries[0].entry_dn if len(service.entries) == 1 else None

    def authenticate(self, name, password):
        """The user's role, or None (unknown, wrong password, in no mapped group). Raises
        DirectoryDown when the directory cannot be asked."""
        if not name or not password or len(name) > 256:
            return None
        service = self._service()
        try:
            dn = self._entry(service, name)
            if dn is None:
                return None
            user, ok = self._bind(dn, password)
            user.unbind()
            return self._role(service, dn) if ok else None
        finally:
            service.unbind()

    def role_of(self, name):
        """The role the directory gives a logged-in user now (None: gone from every mapped group),
        without their password."""
        service = self._service()
        try:
            dn = self._entry(service, name)
            return None if dn is None else self._role(service, dn)
        finally:
            service.unbind()


def create_app(config=None, clock=time.time):
    """The console's application. ``clock`` gives the time sessions and refused logins are
    judged at (Unix seconds): the only place those decisions read it."""
    config = config or Config()
    users = model.load_users(config.read("users"))
    directory = Directory(json.loads(config.read("ldap"))) if os.path.exists(config.secret("ldap")) else None
    trail = Trail(config.trail) if config.trail else None
    engines, actions = Engines(config), Actions(trail, config.session_seconds, clock)
    catalog, cli = catalogs.Catalog(config.render), catalogs.Cli(config)
    graphs = Graphs(config, engines)
    templates = Jinja2Templates(directory=os.path.join(HERE, "templates"))
    templates.env.globals.update(environment=config.environment, can=model.can)
    failures = model.Failures()

    def page(request, name, **context):
        fragment = request.headers.get("x-paddock-fragment") == "1"
        context.update(request=request, user=request.session.get("user"), role=request.session.get("role"),
                       csrf=request.session.get("csrf"), fragment=fragment,
                       notice=request.session.pop("notice", None))
        return templates.TemplateResponse(name, context)

    def back(request, fallback):
        """Where a form's page came from, if it is one of this console's (never another site)."""
        referer = urllib.parse.urlsplit(request.headers.get("referer") or "")
        if referer.netloc == request.url.netloc and referer.path.startswith("/") and not referer.path.startswith("//"):
            return model.safe_next(referer.path)
        return fallback

    def unavailable(request, problem):
        response = page(request, "error.html", problem=problem)
        response.status_code = 503
        return response

    def session_user(request):
        """The logged-in user, or None: a session older than its lifetime, or of a user no longer
        listed (or whose role changed), is over."""
        session, now = request.session, clock()
        expired = (model.session_over(session, now, config.session_seconds)
                   or model.session_key(session) in actions.ended)
        if session.get("source") == "ldap" and directory is not None and not expired:
            # The directory is asked again every few minutes: a user taken out of a group, or
            # moved to another, loses the old role then. If it does not answer, the session goes
            # on until it does (a directory outage logs nobody out).
            if model.recheck_due(session, now, config.directory_recheck):
                try:
                    role = directory.role_of(session.get("user", ""))
                except DirectoryDown as exc:
                    LOG.warning("directory unavailable for a session check: %s", exc)
                    role = session.get("role")
                session["checked"] = int(now)
                if role != session.get("role"):
                    session.clear()
                    return None
            return session["user"]
        user = users.get(session.get("user") or "")
        if not user or user["role"] != session.get("role") or expired or session.get("source") == "ldap":
            session.clear()
            return None
        return session["user"]

    def origin(request):
        """Who asked, with which role, from where: what the trail records beside an action."""
        return {"role": request.session.get("role"), "source": request.client.host if request.client else None}

    def refuse(request, action, why):
        """A refusal, recorded in the trail with who asked, from where and for what."""
        actions.record(request.session.get("user", "-"), action, request.url.path, f"refused: {why}",
                       **origin(request))
        return PlainTextResponse(why, status_code=403)

    def guarded(action):
        def wrap(handler):
            def endpoint(request):
                if session_user(request) is None:
                    if request.headers.get("x-paddock-fragment") == "1":
                        return PlainTextResponse("session over", status_code=401)
                    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
                user, role = request.session["user"], request.session["role"]
                if not model.can(role, action):
                    return refuse(request, action, f"{role} may not {action}")
                if request.method == "POST" and not model.same_token(request.session.get("csrf"),
                                                                     request.state.form.get("csrf")):
                    return refuse(request, action, "the form's token does not match this session")
                if request.method == "POST":
                    try:
                        actions.begin(user, role, action, request.url.path, origin(request)["source"])
                    except OSError as exc:
                        LOG.error("refused %s by %s: the audit trail cannot be written: %s", action, user, exc)
                        return unavailable(request, "the console's audit trail cannot be written; nothing was done")
                ACTING.user = user
                try:
                    return handler(request, engines.api(role))
                except docker.errors.APIError as exc:
                    if request.method != "POST":
                        return unavailable(request, f"the engine answered {exc.status_code}: {exc.explanation or exc}")
                    request.session["notice"] = f"refused by the engine: {exc.explanation or exc}"
                    return RedirectResponse(back(request, "/"), status_code=303)
                except (RuntimeError, docker.errors.DockerException, OSError) as exc:
                    LOG.warning("engine unavailable: %s", exc)
                    return unavailable(request, str(exc))
                finally:
                    ACTING.user = None
            return endpoint
        return wrap

    async def with_form(request, endpoint):
        request.state.form = await request.form() if request.method == "POST" else {}
        request.state.delay = 0
        response = await run_in_threadpool(endpoint, request)
        if request.state.delay:  # a refused login answers late, without holding a worker thread
            await asyncio.sleep(request.state.delay)
        return response

    def route(path, endpoint, methods=("GET",)):
        async def handler(request):
            return await with_form(request, endpoint)
        return Route(path, handler, methods=list(methods))

    # -- login ------------------------------------------------------------------------------
    def login_form(request):
        request.session.setdefault("csrf", secrets.token_urlsafe(32))
        return page(request, "login.html", next=request.query_params.get("next", "/"), error=None)

    def login(request):
        form = request.state.form
        name, password = str(form.get("username", "")), str(form.get("password", ""))
        target = model.safe_next(form.get("next"))
        if not model.same_token(request.session.get("csrf"), form.get("csrf")):
            return PlainTextResponse("the form's token does not match this session", status_code=403)
        client = request.client.host if request.client else "?"
        try:
            actions.begin(name or "-", None, "login", client, client)
        except OSError as exc:
            LOG.error("login refused for %r: the audit trail cannot be written: %s", name, exc)
            return unavailable(request, "the console's audit trail cannot be written; no one can log in until it can")
        locked = failures.locked(name, clock())
        user = users.get(name)
        try:
            matches = HASHES.verify(password, user["hash"] if user else DUMMY)
        except ValueError:  # a hash passlib cannot read: no login, as for a wrong password
            matches = False
        role, source = (user["role"], "local") if matches and user else (None, None)
        if role is None and user is None and directory is not None and not locked:
            try:
                role, source = directory.authenticate(name, password), "ldap"
            except DirectoryDown as exc:
                LOG.warning("directory unavailable for a login: %s", exc)
                actions.record(name or "-", "login", client, "refused: the directory does not answer", source=client)
                return page(request, "login.html", next=target,
                            error="The directory does not answer; try again, or log in as a local user.")
        if role is None or locked:
            failures.add(name, clock())
            LOG.warning("login refused for %r from %s", name, client)
            actions.record(name or "-", "login", client, "refused", source=client)
            request.state.delay = 1
            return page(request, "login.html", next=target, error="Wrong user name or password.")
        request.session.clear()
        started = int(clock())
        request.session.update(user=name, role=role, source=source, at=started, checked=started,
                               csrf=secrets.token_urlsafe(32), sid=secrets.token_urlsafe(16))
        actions.record(name, "login", client, "ok" if source == "local" else f"ok ({role}, from the directory)",
                       role=role, source=client)
        return RedirectResponse(target, status_code=303)

    def logout(request):
        """The session ends here and everywhere: its digest is recorded, and every replica refuses
        a copy of its cookie from then on."""
        if model.same_token(request.session.get("csrf"), request.state.form.get("csrf")):
            actions.record(request.session.get("user", "-"), "logout", "", "ok", **origin(request),
                           session=model.session_key(request.session))
            request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- pages ------------------------------------------------------------------------------
    @guarded("view")
    def home(request, api):
        return RedirectResponse("/infrastructure", status_code=303)

    @guarded("view")
    def infrastructure(request, api):
        nodes, services = api.nodes(), api.services()
        tasks = api.tasks(filters={"desired-state": "running"})
        hosts = model.hosts_view(nodes, tasks, services)
        for host in hosts:
            host["graphs"] = graphs.view(host["hostname"])
        return page(request, "infrastructure.html", hosts=hosts, graphs_on=bool(config.agent_port))

    @guarded("view")
    def stacks(request, api):
        services, nodes = api.services(), api.nodes()
        tasks = api.tasks(filters={"desired-state": "running"})
        return page(request, "stacks.html", stacks=model.stacks_view(services, tasks, nodes, config.managed))

    @guarded("view")
    def service(request, api):
        found = api.inspect_service(request.path_params["id"])
        names = model.node_names(api.nodes())
        tasks = api.tasks(filters={"service": found["ID"]})
        row = model.service_row(found, tasks, names)
        stack = (found["Spec"].get("Labels") or {}).get(model.STACK_LABEL)
        rules = None
        if row["lb"]:
            rules = model.lb_rules(found, api.services(), api.tasks(filters={"desired-state": "running"}), names)
        return page(request, "service.html", service=row, tasks=model.task_rows(tasks, names), stack=stack,
                    managed=stack in config.managed, rules=rules)

    streams = threading.BoundedSemaphore(config.log_streams)

    @guarded("logs")
    def follow(request, api):
        """The service's logs as they are written: its last 200 lines (or those after ``since``,
        a Unix time, when a page reconnects), then each new one, until the page goes. The engine's
        stream is read by a thread and closed when the page goes, so that a quiet service holds
        no thread for a reader that left. At most ``log_streams`` at once per console; past
        that, 503, and the page fetches the logs every 3 s instead."""
        found = api.inspect_service(request.path_params["id"])
        if not streams.acquire(blocking=False):
            return PlainTextResponse("too many log streams; fetch /logs instead", status_code=503)
        try:
            since = float(request.query_params.get("since", "0") or 0)
        except ValueError:
            since = 0
        since = since if 0 < since < 1e11 else 0  # nan, inf and nonsense read as "from the tail"
        params = {"follow": True, "stdout": True, "stderr": True, "timestamps": True,
                  "tail": "all" if since else "200", "since": since or 0}
        tty = found["Spec"]["TaskTemplate"]["ContainerSpec"].get("TTY", False)
        try:
            # docker-py's service_logs gives a generator with no way to close its connection from
            # another thread; the same calls it makes, kept apart so that the response can be closed.
            response = api._get(api._url("/services/{0}/logs", found["ID"]), params=params, stream=True)  # noqa: SLF001
            api._raise_for_status(response)  # noqa: SLF001
            lines = api._get_result_tty(True, response, tty)  # noqa: SLF001
        except BaseException:
            streams.release()
            raise
        stop = threading.Event()
        close = _closer(response, streams, stop)
        return StreamingResponse(_pump(lines, close, stop), media_type="text/plain; charset=utf-8",
                                 background=BackgroundTask(close))

    @guarded("logs")
    def logs(request, api):
        found = api.inspect_service(request.path_params["id"])
        lines = api.service_logs(found["ID"], stdout=True, stderr=True, timestamps=True, tail=200)
        text = b"".join(lines).decode("utf-8", "replace") if not isinstance(lines, bytes) else lines.decode()
        return PlainTextResponse(text)

    @guarded("view")
    def events(request, api):
        now = int(time.time())
        seen = [model.event_row(e) for e in api.events(since=now - 3600, until=now, decode=True,
                                                       filters={"type": ["service", "node"]})]
        actions.sync(api)
        with actions.lock:
            own = [e for e in actions.recent if e["time"] >= now - 3600]
        rows = sorted(seen + own, key=lambda e: e["time"], reverse=True)[:300]
        for row in rows:
            row["when"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["time"]))
        return page(request, "events.html", events=rows)

    @guarded("audit")
    def audit(request, api):
        """Every host's trails (the engines' and the console's), as the audit service's logs carry
        them: the newest 500 records that match the filters, among each node's last 5,000 within
        the last day unless asked (a bound on what one page reads at any number of nodes; the
        playbook reads the trails whole)."""
        asked = {key: str(request.query_params.get(key, "")).strip()[:64] for key in ("user", "since", "until", "path")}
        since = model.unix_time(asked["since"]) or int(clock()) - 86400
        problem = None
        try:
            lines = api.service_logs(config.audit_service, stdout=True, stderr=False, since=since, tail=5000,
                                     is_tty=False)
            text = (b"".join(lines) if not isinstance(lines, bytes) else lines).decode("utf-8", "replace")
        except docker.errors.NotFound:
            text, problem = "", f"the audit service {config.audit_service} does not run"
        rows = model.audit_rows(model.audit_logged(text), **asked)
        return page(request, "audit.html", rows=rows[:500], matched=len(rows), asked=asked, problem=problem)

    # -- actions ----------------------------------------------------------------------------
    def _update(request, api, what, change):
        found = api.inspect_service(request.path_params["id"])
        name = found["Spec"]["Name"]
        spec = found["Spec"]
        try:
            detail = change(spec)
        except ValueError as exc:
            request.session["notice"] = f"{name}: {exc}"
            return RedirectResponse(f"/services/{found['ID']}", status_code=303)
        try:
            api.update_service(found["ID"], found["Version"]["Index"], task_template=spec["TaskTemplate"],
                               name=name, labels=spec.get("Labels"), mode=spec.get("Mode"),
                               update_config=spec.get("UpdateConfig"), rollback_config=spec.get("RollbackConfig"),
                               endpoint_spec=spec.get("EndpointSpec"), fetch_current_spec=False)
        except docker.errors.APIError as exc:
            actions.record(request.session["user"], what, name, f"refused: {exc.explanation or exc}", **origin(request))
            raise
        actions.record(request.session["user"], what, name, detail, **origin(request))
        request.session["notice"] = f"{name}: {detail}"
        return RedirectResponse(back(request, "/stacks"), status_code=303)

    @guarded("scale")
    def scale(request, api):
        def change(spec):
            if "Replicated" not in spec.get("Mode", {}):
                raise ValueError("a global service runs one task per node and has no scale")
            before = spec["Mode"]["Replicated"].get("Replicas", 0)
            after = model.scaled(before, 1 if request.state.form.get("delta") == "+1" else -1)
            spec["Mode"]["Replicated"]["Replicas"] = after
            return f"scaled from {before} to {after}"
        return _update(request, api, "scale", change)

    @guarded("update")
    def upgrade(request, api):
        tag = str(request.state.form.get("tag", "")).strip()

        def change(spec):
            problem = model.tag_problem(tag)
            if problem:
                raise ValueError(problem)
            container = spec["TaskTemplate"]["ContainerSpec"]
            before = container["Image"].split("@", 1)[0]
            container["Image"] = model.image_with_tag(before, tag)
            return f"upgraded from {before} to {container['Image']}"
        return _update(request, api, "upgrade", change)

    @guarded("update")
    def rollback(request, api):
        previous = api.inspect_service(request.path_params["id"]).get("PreviousSpec")

        def change(spec):
            if not previous:
                raise ValueError("nothing to roll back to")
            image = spec["TaskTemplate"]["ContainerSpec"]["Image"].split("@", 1)[0]
            spec.clear()
            spec.update(previous)
            return f"rolled back from {image} to {previous['TaskTemplate']['ContainerSpec']['Image'].split('@', 1)[0]}"
        return _update(request, api, "rollback", change)

    # -- the catalog ----------------------------------------------------------------------------
    @guarded("view")
    def catalog_list(request, api):
        return page(request, "catalog.html", entries=catalog.entries(), running=catalogs.apps(api.services()))

    def entry_page(request, api, found, folder, stack, given=None, errors=None, status=200, services=None):
        described = next((e for e in catalog.entries() if e["entry"] == found.name), None)
        folder, _version, questions, problem = catalog.questions(found, folder)
        launched = catalogs.apps(api.services() if services is None else services).get(found.name, {})
        running = [{"stack": name, "version": version, "managed": name in config.managed,
                    "gitops": catalogs.gitops_entry(name, found.name, folder or "")}
                   for name, version in sorted(launched.items())]
        response = page(request, "catalog_entry.html", entry=described, folder=folder, stack=stack,
                        questions=None if problem else questions, problem=problem, running=running,
                        given=given or {}, errors=errors or [])
        response.status_code = status
        return response

    @guarded("view")
    def catalog_entry(request, api):
        found = catalog.entry(request.path_params["entry"])
        if found is None:
            return PlainTextResponse("no such catalog entry", status_code=404)
        stack = str(request.query_params.get("stack") or found.name.lower())
        return entry_page(request, api, found, request.query_params.get("version"), stack)

    @guarded("view")
    def catalog_icon(request, api):
        icon = catalog.icon(request.path_params["entry"])
        if icon is None:
            return PlainTextResponse("no icon", status_code=404)
        with open(icon[0], "rb") as handle:
            # An SVG opened on its own is a document of this origin: nothing in it may run.
            return Response(handle.read(), media_type=icon[1], headers={
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"})

    @guarded("launch")
    def catalog_launch(request, api):
        found = catalog.entry(request.path_params["entry"])
        if found is None:
            return PlainTextResponse("no such catalog entry", status_code=404)
        form, user = request.state.form, request.session["user"]
        stack = str(form.get("stack", "")).strip()
        folder, _version, questions, problem = catalog.questions(found, str(form.get("version", "")))
        if problem:
            return entry_page(request, api, found, None, stack, errors=[problem], status=400)
        answers = catalogs.answers_from_form(questions, form)
        # Shown again with the form; a password never is.
        given = {q["variable"]: answers[q["variable"]] for q in questions
                 if q.get("type") != "password" and q.get("variable") in answers}
        services = api.services()
        rendered, errors, _warnings = catalog.render(stack, found.name, folder, answers, services)
        if not errors:
            missing = catalogs.images_missing(api, rendered["stack"].compose)
            errors = [f"stack {stack}: the registry does not serve {image}; playbooks/catalog.yml builds an "
                      "on_demand image of paddock_images when it launches the app, and site.yml builds them all "
                      "with paddock_console_catalog_images: true" for image in missing]
        if not errors:
            refused = cli.deploy(request.session["role"], rendered, user)
            if refused:
                errors = [f"stack {stack}: refused: {refused}"]
        what = f"{found.name} {folder}"
        if errors:
            actions.record(user, "launch", f"{stack} ({what})", f"refused: {len(errors)} problem(s)", **origin(request))
            return entry_page(request, api, found, folder, stack, given=given, errors=errors, status=400,
                              services=services)
        catalogs.remove_unused(api, rendered["stack"])
        detail = rendered["upgrade"] or f"launched {what} ({rendered['document']['catalog']['version']})"
        actions.record(user, "launch", stack, detail, **origin(request))
        request.session["notice"] = (f"{detail}. To keep it in Git, add it to paddock_stacks: "
                                     f"{catalogs.gitops_entry(stack, found.name, folder)}")
        return RedirectResponse(f"/stacks#stack-{stack}", status_code=303)

    @guarded("remove")
    def stack_remove(request, api):
        name = request.path_params["name"]
        user = request.session["user"]
        if name in config.managed or name == "paddock-console":
            request.session["notice"] = (f"{name} is deployed by the inventory; remove it there "
                                         "(state: absent in paddock_stacks)")
            return RedirectResponse("/stacks", status_code=303)
        # A stack's name comes from a label any member may write: only a name a stack may have
        # reaches the CLI (never one that reads as an option).
        if not catalogs.STACK_NAME.match(name) or catalogs.running_labels(api.services(), name) is None:
            request.session["notice"] = f"no stack named {name} runs"
            return RedirectResponse("/stacks", status_code=303)
        refused = cli.remove(request.session["role"], name, user)
        actions.record(user, "remove", name, f"refused: {refused}" if refused else "removed", **origin(request))
        request.session["notice"] = f"{name}: refused: {refused}" if refused else f"{name}: removed"
        return RedirectResponse("/stacks", status_code=303)

    def health(request):
        return PlainTextResponse("ok")

    routes = [
        route("/login", login_form),
        route("/login", login, ("POST",)),
        route("/logout", logout, ("POST",)),
        route("/", home),
        route("/infrastructure", infrastructure),
        route("/stacks", stacks),
        route("/services/{id}", service),
        route("/services/{id}/logs", logs),
        route("/services/{id}/logs/follow", follow),
        route("/services/{id}/scale", scale, ("POST",)),
        route("/services/{id}/upgrade", upgrade, ("POST",)),
        route("/services/{id}/rollback", rollback, ("POST",)),
        route("/events", events),
        route("/audit", audit),
        route("/catalog", catalog_list),
        route("/catalog/{entry}", catalog_entry),
        route("/catalog/{entry}", catalog_launch, ("POST",)),
        route("/catalog/{entry}/icon", catalog_icon),
        route("/stacks/{name}/remove", stack_remove, ("POST",)),
        Route("/healthz", health),
        Mount("/static", StaticFiles(directory=os.path.join(HERE, "static")), name="static"),
    ]
    def follow_actions():
        if config.roles():
            actions.follow(engines, config.roles()[0])

    app = Starlette(routes=routes, on_startup=[graphs.start, follow_actions], middleware=[
        Middleware(SessionMiddleware, secret_key=config.read("session").strip(), session_cookie="paddock_console",
                   max_age=config.session_seconds, same_site="strict", https_only=True),
    ])

    @app.middleware("http")
    async def headers(request, call_next):
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", ("default-src 'self'; img-src 'self' data:; "
                                                       "frame-ancestors 'none'; form-action 'self'"))
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    return app


def main():
    import uvicorn
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    config = Config()
    os.chdir(catalogs.ROOT)  # the catalog's messages name its files from here, as the playbook's do
    uvicorn.run(create_app(config), host="0.0.0.0", port=config.port, proxy_headers=False,
                ssl_certfile=config.secret("tls-cert"), ssl_keyfile=config.secret("tls-key"),
                ssl_ciphers="ECDHE+AESGCM:ECDHE+CHACHA20", log_level="info")


if __name__ == "__main__":
    main()
