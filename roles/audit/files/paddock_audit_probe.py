#!/usr/bin/env python3
"""Read, never change, what the hardening checks look at; print it as one JSON document."""
import contextlib
import glob
import grp
import json
import os
import pwd
import re
import subprocess

# Where Paddock and Swarm keep certificates on a host; the engine's data root is added for Swarm's.
CERTIFICATE_FILES = ["/etc/docker/tls/*.pem", "/etc/docker/certs.d/*/*.crt", "/etc/docker/certs.d/*/*.cert",
                     "/etc/docker/registry/tls/*.pem", "/etc/swanctl/x509/*.pem", "/etc/swanctl/x509ca/*.pem"]
PEM = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


def run(*args):
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def as_json(text):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def listeners():
    """TCP sockets in LISTEN state: port, address and the owning process's name."""
    owners = {}
    for fd in glob.glob("/proc/[0-9]*/fd/*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            pid = fd.split("/")[2]
            try:
                with open(f"/proc/{pid}/comm") as handle:
                    owners[target[8:-1]] = handle.read().strip()
            except OSError:
                pass
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != "0A":
                continue
            address, port = fields[1].rsplit(":", 1)
            found.append({"port": int(port, 16), "any": set(address) == {"0"}, "process": owners.get(fields[9], "")})
    return found


def stat(path):
    try:
        info = os.stat(path)
    except OSError:
        return None
    return {"mode": oct(info.st_mode & 0o7777)[2:], "owner": pwd.getpwuid(info.st_uid).pw_name,
            "group": grp.getgrgid(info.st_gid).gr_name}


def pids(name):
    found = []
    for comm in glob.glob("/proc/[0-9]*/comm"):
        try:
            with open(comm) as handle:
                if handle.read().strip() == name:
                    found.append(comm.split("/")[2])
        except OSError:
            pass
    return found


def started(name):
    """When the oldest process of that name started (seconds since the epoch), or None."""
    times = []
    for pid in pids(name):
        with contextlib.suppress(OSError):  # the process ended meanwhile
            times.append(os.stat(f"/proc/{pid}").st_mtime)
    return min(times) if times else None


def certificates(root):
    """{path: [PEM, ...]}: only the certificate blocks of each file, never a key (a key file is not
    even opened)."""
    found = {}
    patterns = CERTIFICATE_FILES + ([f"{root}/swarm/certificates/*.crt"] if root else [])
    for path in sorted({path for pattern in patterns for path in glob.glob(pattern)}):
        if "key" in os.path.basename(path):
            continue
        try:
            with open(path, encoding="ascii", errors="replace") as handle:
                blocks = PEM.findall(handle.read())
        except OSError:
            continue
        if blocks:
            found[path] = blocks
    return found


try:
    with open("/etc/docker/daemon.json") as handle:
        daemon = json.load(handle)
except (OSError, ValueError):
    daemon = None
files = {path: stat(path) for path in ["/etc/docker", "/etc/docker/daemon.json", "/var/run/docker.sock",
                                         "/etc/default/docker"] + sorted(glob.glob("/etc/docker/tls/*"))}
info = as_json(run("docker", "info", "--format", "{{json .}}"))
print(json.dumps({
    "daemon_json": daemon,
    "info": info,
    "bridge": as_json(run("docker", "network", "inspect", "bridge", "--format", "{{json .Options}}")),
    "listeners": listeners(),
    "docker_proxies": len(pids("docker-proxy")),
    "dockerd_started": started("dockerd"),
    "daemon_json_changed": os.stat("/etc/docker/daemon.json").st_mtime if daemon is not None else None,
    "files": files,
    "certificates": certificates((info or {}).get("DockerRootDir")),
}))
