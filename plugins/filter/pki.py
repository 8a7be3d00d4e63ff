# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PKI filters. Each is documented in the YAML file of its name beside this one."""

from __future__ import annotations

import ipaddress

from ansible_collections.paddock.platform.plugins.module_utils._swarm import advertise_address


def _san(value):
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return f"DNS:{value}"
    return f"IP:{value}"


def pki_server_names(hostvars):
    """An engine's certificate request: its name and the names and addresses clients use."""
    name = hostvars["inventory_hostname"]
    names = [f"DNS:{name}", "DNS:localhost", "IP:127.0.0.1"]
    for value in (advertise_address(hostvars), hostvars.get("ansible_host")):
        if value and _san(value) not in names:
            names.append(_san(value))
    return {"name": name, "names": names}


class FilterModule:
    def filters(self):
        return {"pki_server_names": pki_server_names}
