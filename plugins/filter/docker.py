# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn cloud-config ``rancher.docker`` into Docker engine settings.

Each filter is documented in the YAML file of its name beside this one."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.paddock.platform.plugins.module_utils._docker_config import (
    daemon_args,
    daemon_options,
    tls_files,
)


def _tls_files(value):
    try:
        return tls_files(value)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {
            "rancher_docker_daemon": daemon_options,
            "rancher_docker_args": daemon_args,
            "rancher_docker_tls_files": _tls_files,
        }
