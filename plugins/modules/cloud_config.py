#!/usr/bin/python
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloud_config
short_description: Apply a RancherOS-style cloud-config to a Debian or Ubuntu host
description:
  - Applies the host-level parts of a RancherOS cloud-config in one pass - hostname,
    C(ssh_authorized_keys), C(write_files), C(rancher.network.dns), C(rancher.network.interfaces),
    C(rancher.environment), C(mounts) and C(runcmd) - reading the current state first and
    writing only what differs.
  - Why a custom module - no existing module applies this schema. Doing it with one
    builtin task per key costs a round trip per key per host; this module does a whole host in
    one, which keeps a no-change run fast. It also writes C(/etc/resolv.conf) and
    C(/etc/hostname) in place, which works where they are bind mounts (containers).
  - The C(rancher.docker) keys are not applied here; the C(paddock.platform.docker) role turns
    them into the engine's configuration.
  - Validate the document first with M(paddock.platform.cloud_config_validate), which runs on
    the controller before any host is touched; this module trusts its input.
  - C(runcmd) runs once per change of its content. The digest of what last ran is kept in
    O(state_dir) on the host.
  - Addresses are applied live with C(ip) and re-applied at boot by
    C(paddock-network.service). Only addresses this module added are ever removed.
version_added: "0.1.0"
author: Paddock contributors
options:
  config:
    description: The validated, merged cloud-config document.
    type: dict
    required: true
  user:
    description: The account whose C(~/.ssh/authorized_keys) receives C(ssh_authorized_keys).
    type: str
    default: root
  state_dir:
    description: Where the module records what it applied (runcmd digest, managed addresses).
    type: path
    default: /var/lib/paddock/cloud-config
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Apply the host's cloud-config
  paddock.platform.cloud_config:
    config:
      hostname: node1
      ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI... ops@example"]
      rancher:
        network:
          dns: {nameservers: [10.0.0.2], search: [example.internal]}
          interfaces:
            eth1: {address: 10.6.0.5/24, mtu: 1450}
      runcmd:
        - echo provisioned > /etc/provisioned
"""

RETURN = r"""
sections:
  description: The cloud-config sections that changed (or would change, in check mode).
  returned: always
  type: list
  elements: str
  sample: [hostname, write_files, runcmd]
actions:
  description: One line per change made (or that would be made).
  returned: always
  type: list
  elements: str
  sample: ["write /etc/motd", "ip addr add 10.6.0.5/24 dev eth1"]
"""

import grp
import json
import os
import pwd
import socket
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.paddock.platform.plugins.module_utils._cloud_config import (
    assign_interfaces,
    decode_content,
    digest,
    fstab_lines,
    interface_addresses,
    network_script,
    plan_addresses,
    render_environment,
    render_resolv_conf,
    render_resolved_conf,
    replace_block,
    runcmd_argv,
)

RESOLVED_STUBS = ("/run/systemd/resolve/stub-resolv.conf", "/run/systemd/resolve/resolv.conf")
NETWORK_UNIT = """# Managed by Paddock
[Unit]
Description=Paddock cloud-config interface addresses
After=network-pre.target
Before=network-online.target docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh /etc/paddock/network.sh

[Install]
WantedBy=multi-user.target
"""


def read(path, mode="r"):
    try:
        with open(path, mode) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


class Applier:
    """Reads each section's state, records what differs, and writes outside check mode."""

    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.sections, self.actions, self.diffs = [], [], []

    def changed(self, section, action, path=None, before=None, after=None):
        if section not in self.sections:
            self.sections.append(section)
        self.actions.append(action)
        if self.module._diff and path is not None:
            self.diffs.append({"before_header": path, "after_header": path,
                               "before": before or "", "after": after or ""})

    def run(self, argv, env=None):
        rc, out, err = self.module.run_command(argv, environ_update=env or {})
        if rc != 0:
            self.module.fail_json(msg=f"Can not run {' '.join(argv)}: {err.strip() or out.strip()}",
                                  rc=rc, stdout=out, stderr=err)
        return out

    def write(self, section, path, data, mode=0o644, uid=0, gid=0, in_place=False):
        """Write bytes if they, the mode or the owner differ. ``in_place`` keeps the inode."""
        data = data.encode() if isinstance(data, str) else data
        before = read(path, "rb")
        current = os.stat(path) if before is not None else None
        same_meta = current and stat.S_IMODE(current.st_mode) == mode and \
            (current.st_uid, current.st_gid) == (uid, gid)
        if before == data and (same_meta or in_place):
            return False
        self.changed(section, f"write {path}", path, _text(before), _text(data))
        if self.check:
            return True
        if in_place and before is not None:
            with open(path, "wb") as handle:
                handle.write(data)
            return True
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".paddock-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.chown(tmp, uid, gid)
        os.replace(tmp, path)
        return True

    def remove(self, section, path):
        if os.path.exists(path):
            self.changed(section, f"remove {path}", path, _text(read(path, "rb")), "")
            if not self.check:
                os.unlink(path)


def _text(data):
    if data is None:
        return ""
    try:
        return data.decode() if len(data) < 65536 else "(large file)"
    except UnicodeDecodeError:
        return "(binary content)"


def owner_ids(owner):
    user, _, group = (owner or "root").partition(":")
    uid = int(user) if user.isdigit() else pwd.getpwnam(user).pw_uid
    if not group:
        return uid, pwd.getpwuid(uid).pw_gid
    return uid, int(group) if group.isdigit() else grp.getgrnam(group).gr_gid


def apply_hostname(app, name):
    if not name:
        return
    app.write("hostname", "/etc/hostname", name + "\n", in_place=True)
    if socket.gethostname() != name:
        app.changed("hostname", f"set hostname {name}")
        if not app.check:
            socket.sethostname(name)
    hosts = read("/etc/hosts") or ""
    if not any(name in line.split()[1:] for line in hosts.splitlines() if not line.startswith("#")):
        app.write("hostname", "/etc/hosts", replace_block(hosts, [f"127.0.1.1 {name}"]),
                  in_place=True)
    elif f"127.0.1.1 {name}" not in hosts:
        app.write("hostname", "/etc/hosts", replace_block(hosts, []), in_place=True)


def apply_authorized_keys(app, user, keys):
    try:
        account = pwd.getpwnam(user)
    except KeyError:
        app.module.fail_json(msg=f"Can not install ssh_authorized_keys: no user '{user}' on this host")
    ssh_dir = os.path.join(account.pw_dir, ".ssh")
    path = os.path.join(ssh_dir, "authorized_keys")
    before = read(path) or ""
    after = replace_block(before, list(keys))
    if after == before:
        return
    if not os.path.isdir(ssh_dir) and not app.check:
        os.makedirs(ssh_dir, mode=0o700)
        os.chown(ssh_dir, account.pw_uid, account.pw_gid)
    app.write("ssh_authorized_keys", path, after, 0o600, account.pw_uid, account.pw_gid)


def apply_write_files(app, files):
    for entry in files:
        data = decode_content(entry.get("content", ""), entry.get("encoding"))
        try:
            uid, gid = owner_ids(entry.get("owner"))
        except KeyError:
            app.module.fail_json(msg=f"Can not write {entry['path']}: owner "
                                     f"'{entry.get('owner')}' does not exist on this host")
        mode = int(entry.get("permissions", "0644"), 8)
        app.write("write_files", entry["path"], data, mode, uid, gid)


def apply_dns(app, dns):
    servers, search = dns.get("nameservers") or [], dns.get("search") or []
    if not servers and not search:
        return
    target = os.path.realpath("/etc/resolv.conf")
    if os.path.islink("/etc/resolv.conf") and target in RESOLVED_STUBS:
        path = "/etc/systemd/resolved.conf.d/paddock.conf"
        if app.write("dns", path, render_resolved_conf(servers, search)) and not app.check:
            app.run(["systemctl", "restart", "systemd-resolved"])
        return
    app.write("dns", "/etc/resolv.conf", render_resolv_conf(servers, search), in_place=True)


def current_links(app):
    links = json.loads(app.run(["ip", "-j", "addr", "show"]))
    return {link["ifname"]: link for link in links}


def plan_network(app, interfaces, links, state):
    assigned = assign_interfaces(interfaces, [(name, link.get("address")) for name, link in links.items()])
    routes = json.loads(app.run(["ip", "-j", "route", "show", "default"]))
    plan = {}
    for name, (_key, config) in assigned.items():
        link = links[name]
        has_default = any(r.get("dev") != name or r.get("gateway") != config.get("gateway")
                          for r in routes)
        plan[name] = {
            "addresses": interface_addresses(config),
            "current": [f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", [])],
            "managed": state.get(name, []),
            "mtu": config.get("mtu"),
            "current_mtu": link.get("mtu"),
            "gateway": config.get("gateway"),
            "gateway_ipv6": config.get("gateway_ipv6"),
            "has_gateway": any(r.get("dev") == name and r.get("gateway") == config.get("gateway")
                               for r in routes),
            "metric": 1000 + link["ifindex"] if has_default else 0,
        }
    return plan


def apply_interfaces(app, interfaces, state_dir):
    if not interfaces:
        return
    state_path = os.path.join(state_dir, "addresses.json")
    state = json.loads(read(state_path) or "{}")
    plan = plan_network(app, interfaces, current_links(app), state)
    for link, item in sorted(plan.items()):
        if item["mtu"] and item["mtu"] != item["current_mtu"]:
            apply_ip(app, ["ip", "link", "set", "dev", link, "mtu", str(item["mtu"])])
        add, remove = plan_addresses(item["addresses"], item["current"], item["managed"])
        for address in add:
            apply_ip(app, ["ip", "addr", "add", address, "dev", link])
        for address in remove:
            apply_ip(app, ["ip", "addr", "del", address, "dev", link])
        if item["gateway"] and not item["has_gateway"]:
            apply_ip(app, ["ip", "-4", "route", "replace", "default", "via", item["gateway"],
                           "dev", link, "metric", str(item["metric"])])
    managed = {link: item["addresses"] for link, item in plan.items() if item["addresses"]}
    app.write("interfaces", state_path, json.dumps(managed, sort_keys=True) + "\n", 0o600)
    persist_network(app, plan)


def apply_ip(app, argv):
    app.changed("interfaces", " ".join(argv))
    if not app.check:
        app.run(argv)


def persist_network(app, plan):
    script_changed = app.write("interfaces", "/etc/paddock/network.sh", network_script(plan), 0o755)
    if not os.path.isdir("/run/systemd/system"):
        return
    unit = "/etc/systemd/system/paddock-network.service"
    unit_changed = app.write("interfaces", unit, NETWORK_UNIT)
    wanted = "/etc/systemd/system/multi-user.target.wants/paddock-network.service"
    if (unit_changed or script_changed or not os.path.exists(wanted)) and not app.check:
        app.run(["systemctl", "daemon-reload"])
        app.run(["systemctl", "enable", "paddock-network.service"])
    elif not os.path.exists(wanted):
        app.changed("interfaces", "enable paddock-network.service")


def apply_environment(app, environment):
    path = "/etc/paddock/environment"
    if environment:
        app.write("environment", path, render_environment(environment))
    else:
        app.remove("environment", path)


def mounted_points():
    with open("/proc/self/mountinfo") as handle:
        return {line.split()[4] for line in handle}


def apply_mounts(app, mounts, state_dir):
    fstab = read("/etc/fstab") or ""
    app.write("mounts", "/etc/fstab", replace_block(fstab, fstab_lines(mounts)), in_place=True)
    state_path = os.path.join(state_dir, "mounts.json")
    previous = json.loads(read(state_path) or "[]")
    active = mounted_points()
    wanted = [mount[1] for mount in mounts]
    for point in wanted:
        if point not in active:
            app.changed("mounts", f"mount {point}")
            if not app.check:
                os.makedirs(point, exist_ok=True)
                app.run(["mount", point])
    for point in previous:
        if point not in wanted and point in active:
            app.changed("mounts", f"umount {point}")
            if not app.check:
                app.run(["umount", point])
    if wanted or previous:
        app.write("mounts", state_path, json.dumps(wanted) + "\n", 0o600)


def apply_runcmd(app, commands, environment, state_dir):
    path = os.path.join(state_dir, "runcmd.sha256")
    if not commands:
        app.remove("runcmd", path)
        return
    wanted = digest(commands)
    if (read(path) or "").strip() == wanted:
        return
    env = {key: str(value) for key, value in (environment or {}).items()}
    for command in commands:
        argv = runcmd_argv(command)
        app.changed("runcmd", "run " + " ".join(argv))
        if not app.check:
            app.run(argv, env)
    app.write("runcmd", path, wanted + "\n", 0o600)


def main():
    module = AnsibleModule(
        argument_spec={
            "config": {"type": "dict", "required": True},
            "user": {"type": "str", "default": "root"},
            "state_dir": {"type": "path", "default": "/var/lib/paddock/cloud-config"},
        },
        supports_check_mode=True,
    )
    config, state_dir = module.params["config"], module.params["state_dir"]
    rancher = config.get("rancher") or {}
    network = rancher.get("network") or {}
    app = Applier(module)
    if not module.check_mode:
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
    apply_hostname(app, config.get("hostname"))
    apply_authorized_keys(app, module.params["user"], config.get("ssh_authorized_keys") or [])
    apply_write_files(app, config.get("write_files") or [])
    apply_dns(app, network.get("dns") or {})
    apply_interfaces(app, network.get("interfaces") or {}, state_dir)
    apply_environment(app, rancher.get("environment") or {})
    apply_mounts(app, config.get("mounts") or [], state_dir)
    apply_runcmd(app, config.get("runcmd") or [], rancher.get("environment"), state_dir)
    module.exit_json(changed=bool(app.actions), sections=app.sections, actions=app.actions,
                     diff=app.diffs)


if __name__ == "__main__":
    main()
