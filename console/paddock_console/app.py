"""Paddock's console: Rancher's web view of hosts, stacks and services, over the Swarm API.

A Starlette application served by uvicorn over HTTPS. Every request to an engine goes through
its TLS API with the identity of the logged-in user's role (a client certificate that Paddock
issued), so the engines' authorization plugin enforces the same policy as for the docker CLI.
Nothing here holds more rights than the role of the user it acts for.

This module only assembles the application: the parts every page shares are ``site.Site``,
and the pages are in ``pages/``, one module per area.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from paddock_console import catalog as catalogs
from paddock_console.config import Config
from paddock_console.engines import tls_client
from paddock_console.pages import catalog, events, infrastructure, session, stacks
from paddock_console.site import HERE, LOG, Site

AREAS = (session, infrastructure, stacks, events, catalog)
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"


def create_app(config=None, clock=time.time, client=tls_client):
    """The console's application. ``clock`` gives the time sessions and refused logins are
    judged at; ``client`` makes the engines' clients (a test gives its own)."""
    config = config or Config()
    site = Site(config, clock, client)
    routes = [route for area in AREAS for route in area.routes(site)]
    routes.append(Mount("/static", StaticFiles(directory=os.path.join(HERE, "static")), name="static"))

    def follow_actions():
        if config.roles():
            site.actions.follow(site.engines, config.roles()[0])

    app = Starlette(routes=routes, on_startup=[site.graphs.start, follow_actions], middleware=[
        Middleware(SessionMiddleware, secret_key=config.read("session").strip(), session_cookie="paddock_console",
                   max_age=config.session_seconds, same_site="strict", https_only=True),
    ])

    @app.middleware("http")
    async def headers(request, call_next):
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.update(SECURITY_HEADERS)
        return response

    app.state.site = site
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
