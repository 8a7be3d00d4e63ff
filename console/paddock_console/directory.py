"""Logins from a directory (LDAP or Active Directory)."""

from __future__ import annotations

import ssl

import ldap3
import ldap3.core.exceptions
from ldap3.utils.conv import escape_filter_chars

from paddock_console import model


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
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED,
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
