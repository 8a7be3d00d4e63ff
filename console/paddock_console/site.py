"""What every page of the console shares: its parts (settings, users, engines, actions, catalog,
graphs, templates), the session of the request, and the guard in front of each page.

A page is a function of the site and the request; a guarded page (``@guarded(action)``) is a
function of the site, the request and the engine API of the logged-in user's role, reached
only by a user whose session holds and whose role may take that action. ``Site.route`` makes
a Starlette route of either.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
import urllib.parse

import docker
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from ansible_collections.paddock.platform.plugins.module_utils._trail import Trail
from paddock_console import catalog as catalogs
from paddock_console import model
from paddock_console.actions import Actions
from paddock_console.directory import Directory, DirectoryDown
from paddock_console.engines import ACTING, Engines, tls_client
from paddock_console.graphs import Graphs

HERE = os.path.dirname(__file__)
LOG = logging.getLogger("paddock.console")


def guarded(action):
    """Mark a page as one that takes ``action`` (model.CAN): Site.route puts the guard before it."""
    def mark(page):
        page.action = action
        return page
    return mark


class Site:
    """The console's parts, built once per application. ``clock`` gives the time sessions and
    refused logins are judged at (Unix seconds): the only place those decisions read it."""

    def __init__(self, config, clock=time.time, client=tls_client):
        self.config, self.clock = config, clock
        self.users = model.load_users(config.read("users"))
        self.directory = Directory(json.loads(config.read("ldap"))) if os.path.exists(config.secret("ldap")) else None
        self.engines = Engines(config, client)
        self.actions = Actions(Trail(config.trail) if config.trail else None, config.session_seconds, clock)
        self.catalog, self.cli = catalogs.Catalog(config.render), catalogs.Cli(config)
        self.graphs = Graphs(config, self.engines)
        self.templates = Jinja2Templates(directory=os.path.join(HERE, "templates"))
        self.templates.env.globals.update(environment=config.environment, can=model.can)
        self.failures = model.Failures()
        self.streams = threading.BoundedSemaphore(config.log_streams)

    # -- answers ----------------------------------------------------------------------------
    def page(self, request, name, **context):
        fragment = request.headers.get("x-paddock-fragment") == "1"
        context.update(request=request, user=request.session.get("user"), role=request.session.get("role"),
                       csrf=request.session.get("csrf"), fragment=fragment,
                       notice=request.session.pop("notice", None))
        return self.templates.TemplateResponse(name, context)

    @staticmethod
    def back(request, fallback):
        """Where a form's page came from, if it is one of this console's (never another site)."""
        referer = urllib.parse.urlsplit(request.headers.get("referer") or "")
        if referer.netloc == request.url.netloc and referer.path.startswith("/") and not referer.path.startswith("//"):
            return model.safe_next(referer.path)
        return fallback

    def unavailable(self, request, problem):
        response = self.page(request, "error.html", problem=problem)
        response.status_code = 503
        return response

    @staticmethod
    def origin(request):
        """Who asked, with which role, from where: what the trail records beside an action."""
        return {"role": request.session.get("role"), "source": request.client.host if request.client else None}

    def refuse(self, request, action, why):
        """A refusal, recorded in the trail with who asked, from where and for what."""
        self.actions.record(request.session.get("user", "-"), action, request.url.path, f"refused: {why}",
                            **self.origin(request))
        return PlainTextResponse(why, status_code=403)

    # -- sessions ---------------------------------------------------------------------------
    def session_user(self, request):
        """The logged-in user, or None: a session older than its lifetime, logged out (here or on
        another manager's console), or of a user no longer listed (or whose role changed), is over."""
        session, now, config = request.session, self.clock(), self.config
        expired = (model.session_over(session, now, config.session_seconds)
                   or model.session_key(session) in self.actions.ended)
        if session.get("source") == "ldap" and self.directory is not None and not expired:
            return self._directory_user(session, now)
        user = self.users.get(session.get("user") or "")
        if not user or user["role"] != session.get("role") or expired or session.get("source") == "ldap":
            session.clear()
            return None
        return session["user"]

    def _directory_user(self, session, now):
        """The directory is asked again every few minutes: a user taken out of a group, or moved
        to another, loses the old role then. If it does not answer, the session goes on until it
        does (a directory outage logs nobody out)."""
        if model.recheck_due(session, now, self.config.directory_recheck):
            try:
                role = self.directory.role_of(session.get("user", ""))
            except DirectoryDown as exc:
                LOG.warning("directory unavailable for a session check: %s", exc)
                role = session.get("role")
            session["checked"] = int(now)
            if role != session.get("role"):
                session.clear()
                return None
        return session["user"]

    # -- the guard and the routes -------------------------------------------------------------
    def _guard(self, page):
        action = page.action

        def endpoint(request):
            if self.session_user(request) is None:
                if request.headers.get("x-paddock-fragment") == "1":
                    return PlainTextResponse("session over", status_code=401)
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            user, role = request.session["user"], request.session["role"]
            if not model.can(role, action):
                return self.refuse(request, action, f"{role} may not {action}")
            if request.method == "POST":
                refused = self._before_change(request, user, role, action)
                if refused is not None:
                    return refused
            ACTING.user = user
            try:
                return page(self, request, self.engines.api(role))
            except docker.errors.APIError as exc:
                if request.method != "POST":
                    return self.unavailable(request, f"the engine answered {exc.status_code}: "
                                                     f"{exc.explanation or exc}")
                request.session["notice"] = f"refused by the engine: {exc.explanation or exc}"
                return RedirectResponse(self.back(request, "/"), status_code=303)
            except (RuntimeError, docker.errors.DockerException, OSError) as exc:
                LOG.warning("engine unavailable: %s", exc)
                return self.unavailable(request, str(exc))
            finally:
                ACTING.user = None
        return endpoint

    def _before_change(self, request, user, role, action):
        """A refusal for a change whose form's token is not the session's, or whose trail record
        cannot be written; None once the change is recorded as asked."""
        if not model.same_token(request.session.get("csrf"), request.state.form.get("csrf")):
            return self.refuse(request, action, "the form's token does not match this session")
        try:
            self.actions.begin(user, role, action, request.url.path, self.origin(request)["source"])
        except OSError as exc:
            LOG.error("refused %s by %s: the audit trail cannot be written: %s", action, user, exc)
            return self.unavailable(request, "the console's audit trail cannot be written; nothing was done")
        return None

    def route(self, path, page, methods=("GET",)):
        """A route to ``page``, guarded if it is marked so; a POST's form is read first."""
        endpoint = self._guard(page) if hasattr(page, "action") else (lambda request: page(self, request))

        async def handler(request):
            request.state.form = await request.form() if request.method == "POST" else {}
            request.state.delay = 0
            response = await run_in_threadpool(endpoint, request)
            if request.state.delay:  # a refused login answers late, without holding a worker thread
                await asyncio.sleep(request.state.delay)
            return response
        return Route(path, handler, methods=list(methods))
