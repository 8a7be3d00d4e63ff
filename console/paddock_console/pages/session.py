"""Logging in and out."""

from __future__ import annotations

import logging
import secrets

from passlib.context import CryptContext
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.routing import Route

from paddock_console import model
from paddock_console.directory import DirectoryDown

LOG = logging.getLogger("paddock.console")
HASHES = CryptContext(schemes=["sha512_crypt", "sha256_crypt", "bcrypt"])
# Verified when the user is unknown, so that a wrong name costs as long as a wrong password.
DUMMY = HASHES.hash(secrets.token_hex(8), scheme="sha512_crypt")


def login_form(site, request):
    request.session.setdefault("csrf", secrets.token_urlsafe(32))
    return site.page(request, "login.html", next=request.query_params.get("next", "/"), error=None)


def _authenticate(site, name, password, locked):
    """(role, source) of a login: a local user first, then the directory; (None, None) for no one."""
    user = site.users.get(name)
    try:
        matches = HASHES.verify(password, user["hash"] if user else DUMMY)
    except ValueError:  # a hash passlib cannot read: no login, as for a wrong password
        matches = False
    if matches and user:
        return user["role"], "local"
    if user is None and site.directory is not None and not locked:
        return site.directory.authenticate(name, password), "ldap"
    return None, None


def login(site, request):
    form = request.state.form
    name, password = str(form.get("username", "")), str(form.get("password", ""))
    target = model.safe_next(form.get("next"))
    if not model.same_token(request.session.get("csrf"), form.get("csrf")):
        return PlainTextResponse("the form's token does not match this session", status_code=403)
    client = request.client.host if request.client else "?"
    try:
        site.actions.begin(name or "-", None, "login", client, client)
    except OSError as exc:
        LOG.error("login refused for %r: the audit trail cannot be written: %s", name, exc)
        return site.unavailable(request, "the console's audit trail cannot be written; no one can log in until it can")
    locked = site.failures.locked(name, site.clock())
    try:
        role, source = _authenticate(site, name, password, locked)
    except DirectoryDown as exc:
        LOG.warning("directory unavailable for a login: %s", exc)
        site.actions.record(name or "-", "login", client, "refused: the directory does not answer", source=client)
        return site.page(request, "login.html", next=target,
                         error="The directory does not answer; try again, or log in as a local user.")
    if role is None or locked:
        site.failures.add(name, site.clock())
        LOG.warning("login refused for %r from %s", name, client)
        site.actions.record(name or "-", "login", client, "refused", source=client)
        request.state.delay = 1
        return site.page(request, "login.html", next=target, error="Wrong user name or password.")
    request.session.clear()
    started = int(site.clock())
    request.session.update(user=name, role=role, source=source, at=started, checked=started,
                           csrf=secrets.token_urlsafe(32), sid=secrets.token_urlsafe(16))
    site.actions.record(name, "login", client, "ok" if source == "local" else f"ok ({role}, from the directory)",
                        role=role, source=client)
    return RedirectResponse(target, status_code=303)


def logout(site, request):
    """The session ends here and everywhere: its digest is recorded, and every replica refuses
    a copy of its cookie from then on."""
    if model.same_token(request.session.get("csrf"), request.state.form.get("csrf")):
        site.actions.record(request.session.get("user", "-"), "logout", "", "ok", **site.origin(request),
                            session=model.session_key(request.session))
        request.session.clear()
    return RedirectResponse("/login", status_code=303)


def health(request):
    return PlainTextResponse("ok")


def routes(site):
    return [site.route("/login", login_form), site.route("/login", login, ("POST",)),
            site.route("/logout", logout, ("POST",)), Route("/healthz", health)]
