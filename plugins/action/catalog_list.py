# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""List the catalog's entries, or show one entry's versions and questions, on the controller."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.paddock.platform.plugins.module_utils import _catalog


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("catalogs", "entry", "version", "base_dir"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        base_dir = args.get("base_dir") or task_vars.get("inventory_dir") or "."
        catalogs = _catalog.search_path(args.get("catalogs") or [], base_dir)
        if not args.get("entry"):
            entries = [_catalog.describe(_catalog.Entry(*found)) for found in _catalog.entry_dirs(catalogs)]
            lines = []
            for entry in entries:
                versions = ", ".join(f"{v['folder']} ({v['version']})" for v in entry["versions"])
                lines.append(f"{entry['entry']}: {entry['name']} [{entry['category']}] - {entry['description']}")
                lines.append(f"    versions {versions}; default {entry['default_version']}; from {entry['catalog']}")
                lines += [f"    problem: {e}" for e in entry["errors"]]
            result.update(changed=False, entries=entries, listing=lines)
            return result
        entry, problem = _catalog.find_entry(catalogs, args["entry"])
        if problem:
            raise AnsibleActionFail(problem)
        folder, problem = entry.find(args.get("version"))
        if problem:
            raise AnsibleActionFail(problem)
        version = entry.versions[folder].load()
        questions = _catalog.questions_of(version)
        lines = [f"{entry.name} version {folder} ({version.version})"
                 + (f", upgrades from '{version.meta['upgrade_from']}'" if version.meta.get("upgrade_from") else "")]
        for q in questions:
            limits = [f"{k} {q[k]}" for k in ("min", "max", "min_length", "max_length", "valid_chars",
                                               "invalid_chars") if k in q]
            if q.get("options"):
                limits.append("one of " + ", ".join(str(o) for o in q["options"]))
            lines.append(f"  {q['variable']} ({q['type']}{', required' if q.get('required') else ''})"
                         f"{' default ' + repr(q['default']) if q.get('default') not in (None, '') else ''}"
                         f"{' - ' + q['label'] if q.get('label') else ''}"
                         f"{'; ' + '; '.join(limits) if limits else ''}")
        lines += [f"  problem: {e}" for e in version.errors]
        result.update(changed=False, entry=entry.name, folder=folder, version=version.version,
                      questions=questions, listing=lines)
        return result
