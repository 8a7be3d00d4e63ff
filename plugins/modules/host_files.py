#!/usr/bin/python
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_files
short_description: Write the files a role manages on a host, all in one round trip
description:
  - Given the content and mode (and optionally owner and group) of each file a role wants,
    writes those that differ, each atomically (a temporary file in the same directory, then a
    rename), and sets the mode and owner of those whose content already matches. Creates the
    directories asked for first.
  - Reports which paths it changed, so that the role restarts only what reads them, and a diff of
    each changed file whose content is not secret.
  - Why a custom module - C(ansible.builtin.copy) costs three round trips per file (a stat, the
    transfer, the module), and a role writing a dozen files in a loop spent seconds on a first
    converge doing it (issue 11). The files are small (configuration, units, certificates), so
    their content travels inside the module's arguments, and one module run writes them all.
version_added: "0.8.0"
author: Paddock contributors
options:
  files:
    description:
      - The files, by absolute path. Each value has C(content) (text), C(mode) (octal string) and
        optionally C(owner), C(group), and C(secret) (true for a key or a password - its content
        is never returned, shown in a diff or logged). A C(path) key, as a role's list entries
        carry, must name the same path.
    type: dict
    default: {}
  directories:
    description:
      - Directories to create before the files are written, by absolute path, each with its mode
        (octal string), or with C(mode) and optionally C(owner) and C(group). A directory that
        exists gets that mode and owner. Parents are created as needed.
      - A file's missing parent directories are created with mode 0755 without being listed here.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    details: Reports, with a diff, what it would write, and writes nothing.
  diff_mode:
    support: full
    details: One diff per changed file, with the content of a secret file replaced by a note.
"""

EXAMPLES = r"""
- name: Write the engine's configuration and certificates
  paddock.platform.host_files:
    directories: {/etc/docker: "0755", /etc/docker/tls: "0700"}
    files:
      /etc/docker/daemon.json: {content: "{{ daemon_json }}", mode: "0644"}
      /etc/docker/tls/key.pem: {content: "{{ key }}", mode: "0600", secret: true}
  register: docker_written

- name: Restart the engine where its configuration changed
  ansible.builtin.service:
    name: docker
    state: restarted
  when: docker_written.written | length > 0
"""

RETURN = r"""
written:
  description:
    - The paths of O(files) and O(directories) whose content, mode or owner this run changed
      (or would, in check mode).
  type: list
  returned: always
  sample: [/etc/docker/daemon.json]
"""

import grp
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule

SECRET_NOTE = "(secret content, not shown)\n"


def wanted_ids(entry):
    """The uid and gid a file should have, or -1 where the entry does not say."""
    uid = pwd.getpwnam(entry["owner"]).pw_uid if entry.get("owner") else -1
    gid = grp.getgrnam(entry["group"]).gr_gid if entry.get("group") else -1
    return uid, gid


def plan_file(path, entry):
    """What writing ``entry`` to ``path`` would change: ``None`` or a dict of content, meta, before."""
    content = str(entry["content"]).encode()
    mode = int(str(entry["mode"]), 8)
    uid, gid = wanted_ids(entry)
    try:
        info = os.stat(path)
        with open(path, "rb") as handle:
            before = handle.read()
    except FileNotFoundError:
        return {"content": True, "meta": True, "before": None}
    content_differs = before != content
    meta_differs = (info.st_mode & 0o7777 != mode or uid not in (-1, info.st_uid)
                    or gid not in (-1, info.st_gid))
    if not (content_differs or meta_differs):
        return None
    return {"content": content_differs, "meta": meta_differs, "before": before}


def write_file(path, entry):
    """Atomically replace ``path`` with the entry's content, mode and owner."""
    uid, gid = wanted_ids(entry)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".paddock-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(str(entry["content"]).encode())
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, int(str(entry["mode"]), 8))
        if uid != -1 or gid != -1:
            os.chown(temporary, uid, gid)
        os.rename(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def set_meta(path, entry):
    uid, gid = wanted_ids(entry)
    os.chmod(path, int(str(entry["mode"]), 8))
    if uid != -1 or gid != -1:
        os.chown(path, uid, gid)


def text(data):
    return data.decode(errors="replace") if data is not None else ""


def diff_of(path, entry, plan):
    if entry.get("secret"):
        before = SECRET_NOTE if plan["before"] is not None else ""
        return {"before_header": path, "after_header": path, "before": before,
                "after": SECRET_NOTE if plan["content"] else before}
    return {"before_header": path, "after_header": path, "before": text(plan["before"]),
            "after": str(entry["content"])}


def converge(params, check_mode):
    """Create the directories and write the files; returns (written paths, diffs)."""
    written, diffs = [], []
    for path, wanted in params["directories"].items():
        entry = wanted if isinstance(wanted, dict) else {"mode": wanted}
        mode = int(str(entry["mode"]), 8)
        uid, gid = wanted_ids(entry)
        found = os.stat(path) if os.path.isdir(path) else None
        if found and found.st_mode & 0o7777 == mode and uid in (-1, found.st_uid) and gid in (-1, found.st_gid):
            continue
        written.append(path)
        diffs.append({"before_header": path, "after_header": path,
                      "before": f"directory, mode {found.st_mode & 0o7777:04o}\n" if found else "",
                      "after": f"directory, mode {mode:04o}\n"})
        if not check_mode:
            os.makedirs(path, exist_ok=True)
            set_meta(path, entry)
    for path, entry in params["files"].items():
        plan = plan_file(path, entry)
        if plan is None:
            continue
        written.append(path)
        diffs.append(diff_of(path, entry, plan))
        if check_mode:
            continue
        if plan["content"]:
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                os.makedirs(parent, mode=0o755)
            write_file(path, entry)
        else:
            set_meta(path, entry)
    return written, diffs


def problems(params):
    found = []
    for path in list(params["directories"]) + list(params["files"]):
        if not os.path.isabs(path):
            found.append(f"{path}: not an absolute path")
    for path, entry in params["directories"].items():
        if isinstance(entry, dict) and ("mode" not in entry or set(entry) - {"mode", "owner", "group"}):
            found.append(f"{path}: a directory takes mode, owner and group")
    for path, entry in params["files"].items():
        if not isinstance(entry, dict) or "content" not in entry or "mode" not in entry:
            found.append(f"{path}: needs content and mode")
            continue
        unknown = sorted(set(entry) - {"content", "mode", "owner", "group", "secret", "path"})
        if unknown:
            found.append(f"{path}: unknown keys {', '.join(unknown)}")
        elif entry.get("path", path) != path:
            found.append(f"{path}: its entry names another path, {entry['path']}")
    return found


def main():
    module = AnsibleModule(
        argument_spec={
            "files": {"type": "dict", "default": {}},
            "directories": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    params = module.params
    # A secret's content must not come back in the result's invocation either.
    for entry in params["files"].values():
        if isinstance(entry, dict) and entry.get("secret") and entry.get("content"):
            module.no_log_values.add(str(entry["content"]))
    errors = problems(params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    try:
        written, diffs = converge(params, module.check_mode)
    except (OSError, KeyError) as error:
        module.fail_json(msg=f"could not write the files: {error}")
    result = {"changed": bool(written), "written": written}
    if module._diff and diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
