# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Whether a catalog app may replace what a stack runs: the same entry, never a downgrade, and an
upgrade only from the versions the new one's ``upgrade_from`` allows, as Rancher decided. Used by
the swarm_stack module on a manager and by the console; it imports nothing a host lacks."""

from __future__ import annotations

from ansible_collections.paddock.platform.plugins.module_utils import _semver as semver

LABELS = {"entry": "io.paddock.catalog.entry", "folder": "io.paddock.catalog.folder",
          "version": "io.paddock.catalog.version"}


def check(name, labels, want):
    """(problem, upgrade) for launching ``want`` (``{entry, folder, version, upgrade_from}``) as
    stack ``name``, whose services carry ``labels`` (None where no such stack runs). ``upgrade``
    names the move from one version to another, when it is one."""
    if not want or labels is None:
        return None, None
    entry, folder, version = (labels.get(LABELS[k]) for k in ("entry", "folder", "version"))
    if entry is None:
        return (f"stack {name} already exists and was not launched from the catalog; choose another stack_name",
                None)
    if entry != want["entry"]:
        return f"stack {name} runs catalog entry {entry}, not {want['entry']}; choose another stack_name", None
    if folder == str(want["folder"]) or not str(folder).isdigit():
        return None, None
    if int(folder) > int(want["folder"]):
        return (f"stack {name} runs {entry} version {folder} ({version}); going back to version "
                f"{want['folder']} ({want['version']}) is a downgrade, which the catalog does not do. "
                "Remove the app (state=absent) and launch the older version instead"), None
    if want.get("upgrade_from") and not semver.matches(version, want["upgrade_from"]):
        return (f"{entry} version {want['folder']} ({want['version']}) upgrades only from "
                f"'{want['upgrade_from']}', and stack {name} runs version {folder} ({version})"), None
    return None, f"{name}: {entry} {folder} ({version}) -> {want['folder']} ({want['version']})"
