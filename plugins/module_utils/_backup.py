# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""What playbooks/backup.yml and restore.yml decide: pure functions, tested without hosts."""

from __future__ import annotations

import fnmatch
import re

from ansible_collections.paddock.platform.plugins.module_utils._problems import origin

# A backup's directory name: the UTC time it was taken, sortable as text.
STAMP = re.compile(r"^\d{8}T\d{6}Z$")
# A part's file in the backup's directory: a plain name, encrypted with Vault or, for the data
# parts, with gpg under the backup's own key (itself a Vault part).
PART_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.(vault|gpg)$")
# Docker's own rule for a volume's name; restore.yml puts these names in commands.
VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]+$")
# What Ansible's bool filter reads as a boolean (-e name=true gives a string).
BOOLEAN_WORDS = {"true", "false", "yes", "no", "on", "off", "1", "0"}
# The name Docker gives an anonymous volume.
ANONYMOUS = re.compile(r"^[0-9a-f]{64}$")


def source(states):
    """The manager whose swarm state is copied, from each present manager's report
    ``{host, answered, leader, reachable, cluster, autolock}``, in inventory order.

    Docker's procedure stops the copied manager's engine for the copy. A manager that is not the
    leader is chosen (the last listed), so that the leader stays; with three or more managers the
    others keep the quorum and the swarm takes changes throughout (``keeps_quorum``). With one or
    two, no choice keeps it: the swarm refuses changes for the copy's few seconds, and says so;
    its tasks run on. Managers of different swarms, or none answering, are errors."""
    ready = [s for s in states or [] if s.get("answered") and s.get("reachable") and s.get("cluster")]
    if not ready:
        return {"errors": ["no manager of the inventory answers as a reachable manager of a swarm: nothing to "
                           "back up (playbooks/recover.yml makes a swarm that lost its majority writable)"]}
    clusters = sorted({s["cluster"] for s in ready})
    if len(clusters) > 1:
        return {"errors": [f"the managers are in {len(clusters)} different swarms ({', '.join(clusters)}): run "
                           "playbooks/recover.yml and site.yml first, so that the backup is of one swarm"]}
    followers = [s for s in ready if not s.get("leader")]
    chosen = (followers or ready)[-1]
    keeps = len(ready) >= 3 and bool(followers)
    result = {"errors": [], "host": chosen["host"], "cluster": clusters[0], "keeps_quorum": keeps,
              "autolock": bool(chosen.get("autolock")), "managers": len(ready)}
    if not keeps:
        result["warning"] = (f"with {len(ready)} manager(s) answering, stopping {chosen['host']}'s engine for the "
                             "copy leaves no quorum: the swarm takes no change for those seconds (tasks keep "
                             "running); three managers avoid it")
    return result


def expired(names, keep):
    """The backups to delete so that the ``keep`` newest remain: of ``names`` (a directory's
    entries), those named like a backup, oldest first. Anything else is never touched."""
    keep = int(keep)
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    backups = sorted(n for n in names or [] if STAMP.match(str(n)))
    return backups[:-keep] if len(backups) > keep else []


def data_problems(volumes, registry):
    """What is wrong with the data asked to be backed up: ``paddock_backup_volumes``, a list of
    volume names or shell-style patterns, and ``paddock_backup_registry``, a boolean or a word Ansible reads as one."""
    problems = []
    if not isinstance(volumes, list) or not all(isinstance(v, str) and v.strip() for v in volumes):
        problems.append(f"paddock_backup_volumes: must be a list of volume names or patterns (such as "
                        f"wordpress_* or *), got {volumes!r}")
    if not isinstance(registry, bool) and str(registry).lower() not in BOOLEAN_WORDS:
        problems.append(f"paddock_backup_registry: must be true or false, got {registry!r}")
    return problems


def settings_errors(settings):
    """The backup's settings among a host's variables (``settings``), each message starting with
    where the value was set: validate.yml reports them before any host is touched, also for
    site.yml, so that a backup never fails on a setting the inventory has had for months."""
    errors = []
    given = {"paddock_backup_volumes": settings.get("paddock_backup_volumes", []),
             "paddock_backup_registry": settings.get("paddock_backup_registry", False)}
    for problem in data_problems(given["paddock_backup_volumes"], given["paddock_backup_registry"]):
        name = problem.split(":", 1)[0]
        errors.append(f"{origin(settings.get(name), 'inventory')}: {problem}")
    keep = settings.get("paddock_backup_keep", 7)
    if isinstance(keep, bool) or not str(keep).strip().isdigit() or int(str(keep)) < 1:
        errors.append(f"{origin(keep, 'inventory')}: paddock_backup_keep: must be a whole number of backups, at "
                      f"least 1, got {keep!r}")
    return errors


def volume_selection(volumes, patterns):
    """Which of a host's volumes (``docker volume inspect``'s list) a backup copies: the local ones
    whose name matches one of ``patterns``, as ``{name, labels}`` in name order (``chosen``), and
    why a matching volume is left out (``skipped``):

    - an anonymous volume (a 64-hex name) belongs to one container and is never mounted again by
      name: a task started after a restore gets a new one;
    - a local volume with driver options (``type: nfs`` and the like) mounts storage of its own,
      which is backed up where it lives, and is not even mounted while no container uses it."""
    chosen, skipped = [], []
    for volume in sorted(volumes or [], key=lambda v: v.get("Name", "")):
        name = volume.get("Name", "")
        if volume.get("Driver", "local") != "local" or not any(fnmatch.fnmatchcase(name, p) for p in patterns or []):
            continue
        if ANONYMOUS.match(name):
            skipped.append(f"{name}: anonymous (a task started after a restore gets a new one)")
        elif volume.get("Options"):
            options = ", ".join(f"{k}={v}" for k, v in sorted(volume["Options"].items()) if k != "o")
            skipped.append(f"{name}: mounts storage of its own ({options}): back it up where it lives")
        else:
            chosen.append({"name": name, "labels": volume.get("Labels") or {}})
    return {"chosen": chosen, "skipped": skipped}


def manifest_parts(files):
    """The manifest's ``parts`` from the encrypted files written (``stat``'s results: path,
    checksum, size): each part by its name, the file's name up to ``.tar.gz`` or the suffix."""
    parts = {}
    for stat in sorted(files or [], key=lambda f: f["path"]):
        name = stat["path"].rsplit("/", 1)[-1]
        parts[re.sub(r"(\.tar\.gz)?\.(vault|gpg)$", "", name)] = {
            "file": name, "checksum": stat["checksum"], "size": stat["size"]}
    return parts


def part_files(manifest):
    """Each part's file, by the part's name: named in the manifest or, in backups taken before
    0.11, ``PART.tar.gz.vault``."""
    return {part: (entry.get("file") if isinstance(entry, dict) else "") or f"{part}.tar.gz.vault"
            for part, entry in (manifest.get("parts") or {}).items()}


def restore_problems(manifest, environment, unlock_key_given):
    """Why a backup's manifest cannot be restored into this inventory's environment. Its names
    end up in commands on the hosts, so each is checked against the form Docker and backup.yml
    give it."""
    problems = []
    if not isinstance(manifest, dict) or manifest.get("format") != 1 or not isinstance(manifest.get("parts"), dict):
        return ["manifest.json: not a Paddock backup manifest (format 1)"]
    if manifest.get("environment") != environment:
        problems.append(f"manifest.json: environment: the backup is of {manifest.get('environment')!r}, the "
                        f"inventory's is {environment!r}; restore it with the inventory it was taken with")
    if manifest.get("autolock") and not unlock_key_given:
        problems.append("manifest.json: autolock: the swarm was autolocked when it was backed up; its unlock "
                        "key is needed to restore it (swarm_unlock_key, from Vault)")
    if "swarm" not in (manifest.get("parts") or {}):
        problems.append("manifest.json: parts: the backup holds no swarm state")
    files = part_files(manifest)
    for part, entry in manifest["parts"].items():
        if not isinstance(entry, dict) or not PART_FILE.match(str(files[part])):
            problems.append(f"manifest.json: parts: {part}: not a file of the backup's directory")
    if any(file.endswith(".gpg") for file in files.values()) and files.get("key") != "key.vault":
        problems.append("manifest.json: parts: key: the data parts' key is missing")
    volumes = manifest.get("volumes") or {}
    for host, listed in (volumes.items() if isinstance(volumes, dict) else [("", None)]):
        if not isinstance(listed, list) or f"volumes-{host}" not in manifest["parts"]:
            problems.append(f"manifest.json: volumes: {host}: no list of volumes with its part")
            continue
        for volume in listed:
            name = volume.get("name", "") if isinstance(volume, dict) else ""
            labels = volume.get("labels") if isinstance(volume, dict) else None
            if not VOLUME_NAME.match(str(name)) or ANONYMOUS.match(name) or not isinstance(labels, dict):
                problems.append(f"manifest.json: volumes: {host}: {name!r}: not a volume name with its labels")
    return problems
