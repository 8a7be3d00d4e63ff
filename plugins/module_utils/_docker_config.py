# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Turn cloud-config ``rancher.docker`` into the engine's daemon.json and daemon flags."""

from __future__ import annotations

TLS_DIR = "/etc/docker/tls"

# rancher.docker key -> daemon.json key, for keys that map one to one.
DIRECT = {
    "storage_driver": "storage-driver",
    "insecure_registry": "insecure-registries",
    "log_driver": "log-driver",
    "debug": "debug",
    "live_restore": "live-restore",
    "userland_proxy": "userland-proxy",
}


def daemon_options(rancher_docker):
    """The daemon.json fragment that a cloud-config's rancher.docker asks for."""
    docker = rancher_docker or {}
    options = {DIRECT[key]: value for key, value in docker.items() if key in DIRECT}
    if docker.get("registry_mirror"):
        options["registry-mirrors"] = [docker["registry_mirror"]]
    if docker.get("log_opts"):
        options["log-opts"] = {key: str(value) for key, value in docker["log_opts"].items()}
    if docker.get("tls"):
        options.update({"tlsverify": True, "tlscacert": f"{TLS_DIR}/ca.pem",
                        "tlscert": f"{TLS_DIR}/server-cert.pem", "tlskey": f"{TLS_DIR}/server-key.pem"})
    return options


def daemon_args(rancher_docker, tls_port=2376):
    """Flags that daemon.json cannot carry next to the packaged unit's ``-H fd://``."""
    docker = rancher_docker or {}
    args = list(docker.get("extra_args") or [])
    if docker.get("tls"):
        args += ["-H", f"tcp://0.0.0.0:{tls_port}"]
    return args


def tls_files(rancher_docker):
    """The PEM files a TLS engine needs, from the cloud-config's inline certificates."""
    docker = rancher_docker or {}
    if not docker.get("tls"):
        return []
    missing = [key for key in ("ca_cert", "server_cert", "server_key") if not docker.get(key)]
    if missing:
        raise ValueError("rancher.docker.tls is true but " + ", ".join(f"rancher.docker.{k}" for k in missing)
                         + " is not set")
    return [{"path": f"{TLS_DIR}/ca.pem", "content": docker["ca_cert"], "mode": "0644"},
            {"path": f"{TLS_DIR}/server-cert.pem", "content": docker["server_cert"], "mode": "0644"},
            {"path": f"{TLS_DIR}/server-key.pem", "content": docker["server_key"], "mode": "0600"}]


def parse_probe(lines):
    """Parse the docker role's read-only probe of a host (see roles/docker/vars/main.yml).

    Returns ``files`` (path -> "mode sha1"), ``packages`` (installed name -> version),
    ``systemd`` (``{"active": bool, "enabled": bool}``, or None without systemd) and
    ``pidfile_running`` (dockerd alive per its pidfile).
    """
    state = {"files": {}, "packages": {}, "systemd": None, "pidfile_running": False}
    for line in lines:
        kind, _, rest = line.partition(" ")
        fields = rest.split()
        if kind == "file" and len(fields) == 3:
            state["files"][fields[0]] = f"{fields[1]} {fields[2]}"
        elif kind == "pkg" and len(fields) == 3 and fields[2] == "installed":
            state["packages"][fields[0]] = fields[1]
        elif kind == "systemd":
            state["systemd"] = {"active": fields[:1] == ["active"], "enabled": fields[1:2] == ["enabled"]}
        elif kind == "pidfile":
            state["pidfile_running"] = fields == ["0"]
    return state
