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
    "bip": "bip",
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
    args = [str(arg) for arg in docker.get("extra_args") or []]
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
            {"path": f"{TLS_DIR}/server-key.pem", "content": docker["server_key"], "mode": "0600",
             "secret": True}]

