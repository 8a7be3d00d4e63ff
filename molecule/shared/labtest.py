"""Helpers for the scenarios' tests: run what a user runs, against a scenario's inventory
or an edited copy of it, and read the answers."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import yaml

SHARED = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(os.path.dirname(SHARED))


def environment(**extra):
    """The environment a user's run gets, read now: tests may set variables (a vault password file)."""
    return dict(os.environ, ANSIBLE_CONFIG=os.path.join(PROJECT, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", **extra)


def playbook(inventory, *args, timeout=1200):
    return subprocess.run(["ansible-playbook", "-i", inventory, *args], cwd=PROJECT, env=environment(),
                          capture_output=True, text=True, timeout=timeout)


def playbook_recording_ssh(inventory, *args, timeout=600):
    """Run a playbook whose every SSH connection is recorded and refused; return (run, hosts it tried).

    For bad input: a run that stops before any host is touched never calls ssh at all."""
    record = tempfile.mkdtemp(prefix="paddock-ssh-")
    ssh = os.path.join(record, "ssh")
    with open(ssh, "w") as handle:  # the last argument before the command is the host
        handle.write(f'#!/bin/sh\necho "$*" >> {record}/calls\nexit 255\n')
    os.chmod(ssh, 0o755)
    env = dict(environment(), ANSIBLE_SSH_EXECUTABLE=ssh)
    run = subprocess.run(["ansible-playbook", "-i", inventory, *args], cwd=PROJECT, env=env,
                         capture_output=True, text=True, timeout=timeout)
    calls = []
    if os.path.exists(os.path.join(record, "calls")):
        with open(os.path.join(record, "calls")) as handle:
            calls = handle.read().splitlines()
    shutil.rmtree(record)
    return run, calls


def on_hosts(inventory, pattern, command):
    """Run a shell command on hosts through Ansible; return {host: stdout} (fails the test on error)."""
    env = environment(ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    args = json.dumps({"cmd": "{% raw %}" + command + "{% endraw %}"})  # Docker's Go templates are not Jinja
    run = subprocess.run(["ansible", "-i", inventory, pattern, "-m", "ansible.builtin.shell", "-a", args],
                         cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)
    # Other enabled callbacks (profile_tasks) print around the JSON document, which starts at "{".
    document = run.stdout[run.stdout.index("\n{\n") + 1:] if not run.stdout.startswith("{") else run.stdout
    results = json.JSONDecoder().raw_decode(document)[0]["plays"][0]["tasks"][0]["hosts"]
    failed = {h: r.get("stderr") or r.get("msg") for h, r in results.items() if r.get("rc", 1) != 0}
    assert not failed, failed
    return {host: result["stdout"] for host, result in results.items()}


def on_host(inventory, host, command):
    return on_hosts(inventory, host, command)[host]


def engine_outages(inventory, pattern):
    """{host: (stopped, started)}: when systemd last stopped each host's engine and when it last
    started it, in seconds of the monotonic clock (the lab's hosts share this machine's kernel,
    so the hosts' figures compare; a host whose engine never stopped has 0 for stopped)."""
    times = on_hosts(inventory, pattern, "echo $(systemctl show docker --value -p ActiveExitTimestampMonotonic) "
                                         "$(systemctl show docker --value -p ActiveEnterTimestampMonotonic)")
    return {host: tuple(int(value) / 1e6 for value in out.split()) for host, out in times.items()}


def outer_docker(*args):
    """The local engine that runs the lab's host containers."""
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=True).stdout


def recap(output):
    return {m[0]: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m[1])}
            for m in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M)}


def nodes(inventory, manager):
    listing = on_host(inventory, manager, "docker node ls --format '{{json .}}'")
    return {n["Hostname"]: n for n in map(json.loads, listing.splitlines())}


class EditedInventory:
    """A copy of a scenario inventory whose hosts.yml a test edits, as a user edits theirs."""

    def __init__(self, source):
        # Beside the scenario's inventory, so that paths relative to it (build contexts) still resolve.
        self.dir = tempfile.mkdtemp(prefix="paddock-inv-", dir=os.path.dirname(os.path.abspath(source)))
        for name in os.listdir(source):
            path = os.path.join(source, name)
            if name != "hosts.yml":
                os.symlink(os.path.realpath(path), os.path.join(self.dir, name))
        with open(os.path.join(source, "hosts.yml")) as handle:
            self.data = yaml.safe_load(handle)
        self.save()

    def group(self, *path):
        node = self.data["all"]
        for name in path:
            node = node["children"][name]
        return node

    def save(self):
        with open(os.path.join(self.dir, "hosts.yml"), "w") as handle:
            yaml.safe_dump(self.data, handle)
        return self.dir

    def remove(self):
        shutil.rmtree(self.dir)


TEST_IMAGE = "paddock/busybox:test2"

# The lab reaches no other engine version: this repackages the installed docker.io as version
# VERSION in a local apt repository (/srv/paddock-test), so that a changed docker_version goes
# through the upgrade path (drain, apt, restart, wait for Ready, undrain) with the same binaries.
REPACKAGE = r"""set -e
apt-get update -qq
rm -rf /srv/paddock-test && mkdir -p /srv/paddock-test && cd /srv/paddock-test
apt-get download -q "docker.io=$(apt-cache madison docker.io | awk 'NR == 1 {print $3}')" >/dev/null
dpkg-deb -R docker.io_*.deb pkg && rm docker.io_*.deb
sed -i "s/^Version: .*/Version: VERSION/" pkg/DEBIAN/control
dpkg-deb -Znone -b pkg docker.io.deb >/dev/null && rm -r pkg
{ dpkg-deb -f docker.io.deb; echo "Filename: ./docker.io.deb"; echo "Size: $(stat -c %s docker.io.deb)";
  echo "SHA256: $(sha256sum docker.io.deb | cut -d' ' -f1)"; echo; } > Packages
echo 'deb [trusted=yes] file:/srv/paddock-test ./' > /etc/apt/sources.list.d/paddock-test.list
"""
UNPACKAGE = "rm -rf /etc/apt/sources.list.d/paddock-test.list /srv/paddock-test"


def build_test_image(inventory, pattern):
    """A real image on each host, built from Debian's busybox-static (no registry is reachable here)."""
    on_hosts(inventory, pattern, (
        "command -v busybox >/dev/null || apt-get install -y -q busybox-static >/dev/null; "
        f"docker image inspect {TEST_IMAGE} >/dev/null 2>&1 || {{ d=$(mktemp -d); mkdir $d/bin; "
        "cp /bin/busybox $d/bin/; for c in sh sleep hostname mkdir httpd nc printf tail; do "
        "ln -s busybox $d/bin/$c; done; "
        f"tar -C $d -c . | docker import -c 'CMD [\"/bin/sleep\", \"86400\"]' - {TEST_IMAGE} >/dev/null; }}"))


def wait_for(predicate, timeout=30, interval=0.5):
    """Call ``predicate`` until it returns something true or ``timeout`` seconds pass; return its last value."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() > deadline:
            return value
        time.sleep(interval)


def failures(output):
    """The lines of a playbook's output that say what failed, for assertion messages."""
    lines = output.splitlines()
    picked = [i for i, line in enumerate(lines) if line.startswith(("fatal:", "[ERROR]", "failed:"))]
    return "\n".join("\n".join(lines[i:i + 8]) for i in picked) or output[-3000:]


def changed_tasks(output):
    """The tasks of a playbook's output that reported a change, with the hosts, for assertion messages."""
    found, task = [], None
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif line.startswith("changed: ["):
            found.append(f"{task}: {line}")
    return "\n".join(found)


class Load:
    """Requests in a loop on a thread of their own while the ``with`` block runs, ``interval``
    seconds apart. ``request()`` returns something true for a good answer; a false one, an
    OSError (a refused, reset or timed-out connection, a TLS error) or an AssertionError is a
    failed request. ``results`` holds (start time, ok) for each; ``errors`` why each failed."""

    def __init__(self, request, interval=0.02):
        self.request, self.interval, self.results, self.errors = request, interval, [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def ok(self):
        return sum(1 for _started, ok in self.results if ok)

    @property
    def failed(self):
        return len(self.results) - self.ok

    def _run(self):
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                ok = bool(self.request())
                if not ok:
                    self.errors.append("an empty answer")
            except (OSError, AssertionError) as exc:
                ok = False
                self.errors.append(repr(exc))
            self.results.append((started, ok))
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
