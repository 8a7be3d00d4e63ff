#!/usr/bin/python
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_probe
short_description: Read, in one round trip, what a role manages on a host, and which files differ from what it wants
description:
  - Reads the modes, owners and SHA-1 sums of files, the installed version of Debian packages, the
    state of systemd units, whether processes and pidfiles are alive, and the exit status of
    named read-only checks. It changes nothing.
  - Given the files a role wants (their content's SHA-1 and mode), it returns the paths that
    differ, so that the role's C(copy), C(apt) and C(service) tasks run only where something
    differs, and a converged host costs one round trip per role.
  - Why a custom module - C(stat), C(package_facts) and C(service_facts) are three round trips per
    host (C(stat) one per file), and C(service_facts) reads every unit of the host. Roles had each
    carried a shell script for this, parsed back with string tests; this says it once, with a
    typed argument spec and a JSON result.
version_added: "0.5.0"
author: Paddock contributors
options:
  files:
    description:
      - Files to read, by path. The value is what the role wants - C(sha1) of the content and
        C(mode) (octal string), optionally C(owner) and C(group) - or null to read the file only.
    type: dict
    default: {}
  packages:
    description: Debian packages whose installed version to read.
    type: list
    elements: str
    default: []
  units:
    description: systemd units whose active and enabled state to read (ignored without systemd).
    type: list
    elements: str
    default: []
  processes:
    description: Names, each with a regular expression searched in the command lines of running processes.
    type: dict
    default: {}
  pidfiles:
    description: Names, each with a pidfile whose process must be alive.
    type: dict
    default: {}
  checks:
    description: Names, each with a read-only command (argv); true when it exits 0.
    type: dict
    default: {}
  trees:
    description:
      - Directories to read whole, for a role whose files' paths are not known in advance (the
        load balancers' directories). Each regular file under them is read as O(files) reads a
        file, and returned in RV(files); each directory, the tree's own included, in
        RV(directories). A missing tree is empty.
    type: list
    elements: path
    default: []
    version_added: "0.12.0"
attributes:
  check_mode:
    support: full
    details: It only reads, in check mode too.
"""

EXAMPLES = r"""
- name: Read the engine's current state
  paddock.platform.host_probe:
    files:
      /etc/docker/daemon.json: {sha1: "{{ content | hash('sha1') }}", mode: "0644"}
    packages: [docker.io]
    units: [docker]
    pidfiles: {docker: /var/run/docker.pid}
  register: docker_probe

- name: Write daemon.json
  ansible.builtin.copy:
    content: "{{ content }}"
    dest: /etc/docker/daemon.json
    mode: "0644"
  when: "'/etc/docker/daemon.json' in docker_probe.files_differ"
"""

RETURN = r"""
files:
  description: Each file that exists - C(mode) (octal string), C(owner), C(group), C(sha1).
  type: dict
  returned: always
files_differ:
  description: The paths of O(files) that are missing or differ from what is wanted.
  type: list
  returned: always
packages:
  description: Installed packages of O(packages), with their versions.
  type: dict
  returned: always
  sample: {docker.io: 20.10.24+dfsg1-1+deb12u1}
systemd:
  description: Whether systemd runs the host.
  type: bool
  returned: always
units:
  description: Each unit of O(units) - C(active) and C(enabled) - when systemd runs the host.
  type: dict
  returned: always
processes:
  description: Each name of O(processes) - whether a process matches.
  type: dict
  returned: always
pidfiles:
  description: Each name of O(pidfiles) - whether its process is alive.
  type: dict
  returned: always
checks:
  description: Each name of O(checks) - whether the command exited 0.
  type: dict
  returned: always
directories:
  description: Each directory under O(trees), with its mode (octal string).
  type: dict
  returned: always
  sample: {/etc/paddock/lb: "0755", /etc/paddock/lb/web_lb: "0755", /etc/paddock/lb/web_lb/certs: "0700"}
"""

import grp
import hashlib
import os
import pwd
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.paddock.platform.plugins.module_utils._probe import differs


def read_file(path):
    """Mode, owner, group and SHA-1 of a regular file, or None."""
    try:
        info = os.stat(path)
        with open(path, "rb") as handle:
            digest = hashlib.sha1(handle.read()).hexdigest()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    return {"mode": f"{info.st_mode & 0o7777:04o}", "owner": _name(pwd.getpwuid, info.st_uid),
            "group": _name(grp.getgrgid, info.st_gid), "sha1": digest}


def read_tree(root):
    """Every directory under root (its mode) and every regular file under it (as read_file reads it)."""
    directories, files = {}, {}
    for top, subdirs, names in os.walk(root):
        directories[top] = f"{os.stat(top).st_mode & 0o7777:04o}"
        subdirs.sort()
        for name in sorted(names):
            path = os.path.join(top, name)
            if os.path.isfile(path) and not os.path.islink(path):
                files[path] = read_file(path)
    return directories, {path: found for path, found in files.items() if found is not None}


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def parse_units(text, units):
    """``systemctl show -p ActiveState -p UnitFileState U...`` blocks, in the order asked."""
    blocks = [dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
              for block in text.strip().split("\n\n")] if text.strip() else []
    return {unit: {"active": block.get("ActiveState") == "active", "enabled": block.get("UnitFileState") == "enabled"}
            for unit, block in zip(units, blocks, strict=False)}


def parse_packages(text):
    """``dpkg-query -W -f '${Package} ${Version} ${db:Status-Status}\\n'`` lines: installed packages only."""
    found = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2] == "installed":
            found[fields[0]] = fields[1]
    return found


def command_lines():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    yield handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue


def pid_alive(path):
    try:
        with open(path) as handle:
            pid = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    return os.path.exists(f"/proc/{pid}")


def run_check(module, argv):
    try:
        return module.run_command(argv, handle_exceptions=False)[0] == 0
    except OSError:
        return False


def read_state(module):
    params = module.params
    files = {path: read_file(path) for path in params["files"]}
    packages = {}
    if params["packages"]:
        _, out, _ = module.run_command(["dpkg-query", "-W", "-f=${Package} ${Version} ${db:Status-Status}\n",
                                        *params["packages"]])
        packages = parse_packages(out)
    systemd = os.path.isdir("/run/systemd/system")
    units = {}
    if systemd and params["units"]:
        _, out, _ = module.run_command(["systemctl", "show", "-p", "ActiveState", "-p", "UnitFileState",
                                        *params["units"]])
        units = parse_units(out, params["units"])
    lines = list(command_lines()) if params["processes"] else []
    directories = {}
    for root in params["trees"]:
        found_dirs, found_files = read_tree(root)
        directories.update(found_dirs)
        files = dict(found_files, **files)
    return {
        "files": {path: found for path, found in files.items() if found is not None},
        "directories": directories,
        "files_differ": [path for path, wanted in params["files"].items()
                         if wanted is not None and differs(files[path], wanted)],
        "packages": packages, "systemd": systemd, "units": units,
        "processes": {name: any(re.search(pattern, line) for line in lines)
                      for name, pattern in params["processes"].items()},
        "pidfiles": {name: pid_alive(path) for name, path in params["pidfiles"].items()},
        "checks": {name: run_check(module, argv) for name, argv in params["checks"].items()},
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "files": {"type": "dict", "default": {}},
            "packages": {"type": "list", "elements": "str", "default": []},
            "units": {"type": "list", "elements": "str", "default": []},
            "processes": {"type": "dict", "default": {}},
            "pidfiles": {"type": "dict", "default": {}},
            "checks": {"type": "dict", "default": {}},
            "trees": {"type": "list", "elements": "path", "default": []},
        },
        supports_check_mode=True,
    )
    module.exit_json(changed=False, **read_state(module))


if __name__ == "__main__":
    main()
