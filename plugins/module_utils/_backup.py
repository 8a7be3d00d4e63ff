# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""What playbooks/backup.yml and restore.yml decide: pure functions, tested without hosts."""

from __future__ import annotations

import re

# A backup's directory name: the UTC time it was taken, sortable as text.
STAMP = re.compile(r"^\d{8}T\d{6}Z$")


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


def restore_problems(manifest, environment, unlock_key_given):
    """Why a backup's manifest cannot be restored into this inventory's environment."""
    problems = []
    if not isinstance(manifest, dict) or manifest.get("format") != 1:
        return ["manifest.json: not a Paddock backup manifest (format 1)"]
    if manifest.get("environment") != environment:
        problems.append(f"manifest.json: environment: the backup is of {manifest.get('environment')!r}, the "
                        f"inventory's is {environment!r}; restore it with the inventory it was taken with")
    if manifest.get("autolock") and not unlock_key_given:
        problems.append("manifest.json: autolock: the swarm was autolocked when it was backed up; its unlock "
                        "key is needed to restore it (swarm_unlock_key, from Vault)")
    if "swarm" not in (manifest.get("parts") or {}):
        problems.append("manifest.json: parts: the backup holds no swarm state")
    return problems
