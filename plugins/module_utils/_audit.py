# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""The hardening checks of playbooks/audit.yml, judged from one read-only probe of a host.

The checks are the CIS Docker Benchmark items that hold on a Swarm node (numbered as in
CIS Docker Benchmark v1.6 and docker-bench-security), plus the API rules Paddock promises:
nothing on tcp:2375, and TLS with client certificates on any TCP API listener.
"""

from __future__ import annotations

import datetime
import re

from cryptography.x509.oid import NameOID

from ansible_collections.paddock.platform.plugins.module_utils._pki import load_cert

SWARM_PORTS = {2377, 7946}
# Swarm renews a node's certificate at a random point between 50% and 80% of its lifetime.
SWARM_RENEWS_BY = 0.8
PEM = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


def _check(id_, title, passed, detail):
    return {"id": id_, "title": title, "passed": bool(passed), "detail": detail}


def checks(probe, swarm_node, autolock=None, renew_days=None, now=None):
    """[{id, title, passed, detail}] for one host's probe.

    ``swarm_node``: whether the host is a Swarm node (live-restore must then be off);
    ``autolock``: on a manager, whether the inventory asks for Swarm autolock (None: not a manager);
    ``renew_days``: where given, the host's certificates are checked too, as of ``now``, which
    must then be given (certificate_checks)."""
    info, daemon = probe.get("info"), probe.get("daemon_json") or {}
    if not info:
        return [_check("engine", "The Docker engine answers", False, "docker info failed: is the engine running?")]
    out = []
    icc = (probe.get("bridge") or {}).get("com.docker.network.bridge.enable_icc")
    out.append(_check("2.1", "Traffic between containers on the default bridge is restricted (icc off)",
                      icc == "false", f"the bridge network's enable_icc is {icc}"))
    level = daemon.get("log-level", "info")
    out.append(_check("2.2", "The engine logs at level info", level == "info" and not daemon.get("debug"),
                      f"log-level {level}, debug {bool(daemon.get('debug'))}"))
    registry = info.get("RegistryConfig") or {}
    insecure = sorted(name for name, index in (registry.get("IndexConfigs") or {}).items() if not index.get("Secure"))
    cidrs = sorted(set(registry.get("InsecureRegistryCIDRs") or []) - {"127.0.0.0/8", "::1/128"})
    out.append(_check("2.4", "No insecure (plain HTTP) registries are trusted", not insecure and not cidrs,
                      "none" if not insecure and not cidrs else "insecure: " + ", ".join(insecure + cidrs)))
    api = sorted({sock["port"] for sock in probe.get("listeners") or []
                  if sock.get("process") == "dockerd" and sock["port"] not in SWARM_PORTS})
    tls = bool(daemon.get("tlsverify"))
    out.append(_check("2.6", "The API over TCP requires TLS client certificates", not api or tls,
                      "no TCP API listener (unix socket only)" if not api
                      else f"dockerd listens on {', '.join(map(str, api))} with tlsverify {tls}"))
    on_2375 = sorted({sock.get("process") or "?" for sock in probe.get("listeners") or [] if sock["port"] == 2375})
    out.append(_check("2375", "Nothing listens on tcp:2375 (the unencrypted API port)", not on_2375,
                      "closed" if not on_2375 else f"open, by {', '.join(on_2375)}"))
    opts = info.get("LoggingDriver"), daemon.get("log-opts") or {}
    limited = opts[0] in ("json-file", "local") and "max-size" in opts[1] or opts[0] not in ("json-file", "local")
    out.append(_check("2.13", "Container logs are size-limited", limited,
                      f"log driver {opts[0]}, max-size {opts[1].get('max-size', 'unlimited')}, "
                      f"max-file {opts[1].get('max-file', '1')}"))
    live = bool(info.get("LiveRestoreEnabled"))
    where = "a Swarm node" if swarm_node else "a host outside Swarm"
    out.append(_check("2.15", "Live restore is on where Swarm allows it (hosts outside Swarm)", live != swarm_node,
                      f"live-restore {'on' if live else 'off'} on {where}"))
    proxies = probe.get("docker_proxies") or 0
    proxy = daemon.get("userland-proxy", "default (on)")
    out.append(_check("2.16", "The userland proxy is off", proxy is False and not proxies,
                      f"userland-proxy {proxy}, {proxies} docker-proxy processes"))
    # Engines before 23.0 do not list the option in docker info: then daemon.json counts if the
    # running engine started after it was written.
    loaded = (probe.get("dockerd_started") or 0) >= (probe.get("daemon_json_changed") or float("inf"))
    nnp = ("name=no-new-privileges" in (info.get("SecurityOptions") or [])
           or daemon.get("no-new-privileges") is True and loaded)
    out.append(_check("2.18", "Containers cannot gain privileges (no-new-privileges by default)", nnp,
                      "on" if nnp else "off" if not daemon.get("no-new-privileges")
                      else "in daemon.json, but the engine has not restarted since"))
    files = probe.get("files") or {}
    daemon_file = files.get("/etc/docker/daemon.json")
    out.append(_check("3.17", "daemon.json is owned by root and writable only by it",
                      daemon_file and daemon_file["owner"] == "root" and not int(daemon_file["mode"], 8) & 0o022,
                      "missing" if not daemon_file else f"{daemon_file['owner']}:{daemon_file['group']} "
                                                        f"{daemon_file['mode']}"))
    sock = files.get("/var/run/docker.sock")
    out.append(_check("3.15", "The Docker socket is owned by root:docker and not open to others",
                      sock and sock["owner"] == "root" and sock["group"] in ("docker", "root")
                      and not int(sock["mode"], 8) & 0o007,
                      "missing" if not sock else f"{sock['owner']}:{sock['group']} {sock['mode']}"))
    keys = {path: f for path, f in files.items()
            if path.startswith("/etc/docker/tls/") and path.endswith("key.pem") and f}
    loose = sorted(path for path, f in keys.items() if f["owner"] != "root" or int(f["mode"], 8) & 0o077)
    out.append(_check("3.x", "TLS keys are readable by root only", not loose,
                      "no TLS keys" if not keys else ("ok: " + ", ".join(sorted(keys)) if not loose
                                                      else "too open: " + ", ".join(loose))))
    if autolock is not None:
        swarm = sorted({"every address" if sock.get("any") else "one address" for sock in probe.get("listeners") or []
                        if sock["port"] == 2377 and sock.get("process") == "dockerd"})
        out.append(_check("7.3", "The swarm port (2377) listens on one address, not on every interface",
                          swarm == ["one address"], "2377 " + (" and ".join(f"on {w}" for w in swarm)
                                                               if swarm else "not listening")))
        spec = ((info.get("Swarm") or {}).get("Cluster") or {}).get("Spec") or {}
        on = bool((spec.get("EncryptionConfig") or {}).get("AutoLockManagers"))
        out.append(_check("7.6", "Swarm autolock is as the inventory says", on == bool(autolock),
                          f"autolock {'on' if on else 'off'}, inventory swarm_autolock {bool(autolock)}"))
    if renew_days is not None:
        root = info.get("DockerRootDir")
        out += certificate_checks(probe.get("certificates"), renew_days, now, f"{root}/swarm" if root else None)
    return out


def _expiry(pem):
    """(subject's common name, not before, not after) of one PEM certificate, or None."""
    cert = load_cert(pem.encode())
    if cert is None:
        return None
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return (names[0].value if names else cert.subject.rfc4514_string()), cert.not_valid_before_utc, \
        cert.not_valid_after_utc


def pem_blocks(texts):
    """{path: file text} -> {path: [PEM certificate, ...]}; files with none are left out."""
    return {path: PEM.findall(text) for path, text in (texts or {}).items() if PEM.search(text or "")}


def certificate_checks(certificates, renew_days, now, swarm_dir=None):
    """One check per certificate file, with the id ``cert:<path>``: [{id, title, passed, detail,
    expires}], judged as of ``now`` (an aware datetime: the caller reads the clock, never this).

    ``certificates``: {path: [PEM, ...]}, the certificates (never keys) of each file. A file is
    judged by the certificate in it that expires first. Paddock's certificates fail within
    ``renew_days`` of their end, since the next site.yml issues them again by then. Swarm's own
    (under ``swarm_dir``) fail once Swarm is late to renew them: past 80% of their lifetime.
    ``expires`` is the end of that first certificate (ISO 8601, UTC), or None."""
    if not isinstance(now, datetime.datetime) or now.tzinfo is None:
        raise TypeError(f"certificate_checks: now must be an aware datetime, got {now!r}")
    out = []
    for path in sorted(certificates or {}):
        parsed = [found for found in map(_expiry, certificates[path] or []) if found]
        id_, title = f"cert:{path}", "The certificate is not about to expire"
        if not parsed:
            out.append(dict(_check(id_, title, False, "no certificate could be read in it"), expires=None))
            continue
        name, before, after = min(parsed, key=lambda found: found[2])
        left = after - now
        days = left.days
        when = f"{name}: expires {after:%Y-%m-%d} ({days} days left"
        if swarm_dir and path.startswith(swarm_dir.rstrip("/") + "/"):
            due = (after - before) * (1 - SWARM_RENEWS_BY)
            passed = left > due
            detail = f"{when}; Swarm renews it before {due.days} days are left)"
        else:
            passed = left > datetime.timedelta(days=int(renew_days))
            detail = f"{when}; site.yml renews it within {int(renew_days)} days)"
        if left <= datetime.timedelta(0):
            detail = f"{name}: EXPIRED on {after:%Y-%m-%d}"
        out.append(dict(_check(id_, title, passed, detail), expires=after.isoformat()))
    return out
