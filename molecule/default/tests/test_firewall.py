"""The host firewall as a neighbour on the network, a node and the controller meet it: the swarm's
ports answer the nodes only, the API and exporter the nodes and the admin networks, SSH everyone."""

import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
from labtest import on_host, outer_docker, playbook_recording_ssh  # noqa: E402

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))
INVENTORY = os.path.join(SCENARIO, "inventory")
HOSTS = {"mol01": "10.3.1.4", "mol02": "10.3.1.5", "mol03": "10.3.1.7"}
NETWORK = "paddock-mol-default"
STRANGER = "10.3.1.99"  # on the hosts' network, in no inventory
PORTS = (22, 2376, 2377, 7946, 9100)
# Every port at once: a dropped one answers nothing until its 3 s run out.
PROBE = ('for a in {addresses}; do for p in {ports}; do (timeout 3 bash -c "echo > /dev/tcp/$a/$p" 2>/dev/null '
         '&& echo "$a:$p open" || echo "$a:$p closed") & done; done; wait')


def reach(addresses, ports=PORTS):
    return PROBE.format(addresses=" ".join(addresses), ports=" ".join(map(str, ports)))


def answers(text):
    return dict(line.rsplit(" ", 1) for line in text.split("\n") if line.strip())


@pytest.fixture(scope="module")
def from_a_stranger():
    image = next(line for line in outer_docker("images", "--format", "{{.Repository}}:{{.Tag}}").split()
                 if line.startswith("paddock/debian-base:"))
    out = outer_docker("run", "--rm", "--network", NETWORK, "--ip", STRANGER, image, "bash", "-c",
                       reach(HOSTS.values()))
    return answers(out)


def test_a_host_that_is_no_node_reaches_ssh_and_none_of_the_platforms_ports(from_a_stranger):
    for address in HOSTS.values():
        assert from_a_stranger[f"{address}:22"] == "open"
        for port in PORTS[1:]:
            assert from_a_stranger[f"{address}:{port}"] == "closed", f"{address}:{port} answered a stranger"


def test_a_node_reaches_the_swarm_api_and_exporter_ports_of_another():
    # 2377 listens on the manager (mol01) only.
    found = answers(on_host(INVENTORY, "mol02", reach([HOSTS["mol01"]], (2376, 2377, 7946, 9100))
                            + "; " + reach([HOSTS["mol03"]], (2376, 7946, 9100))))
    assert len(found) == 7 and set(found.values()) == {"open"}, found


def test_the_controller_reaches_the_api_and_exporter_but_not_the_swarm():
    found = answers(subprocess.run(["bash", "-c", reach([HOSTS["mol01"]], (2376, 9100, 2377, 7946))],
                                   capture_output=True, text=True, timeout=60).stdout)
    assert found == {f"{HOSTS['mol01']}:2376": "open", f"{HOSTS['mol01']}:9100": "open",
                     f"{HOSTS['mol01']}:2377": "closed", f"{HOSTS['mol01']}:7946": "closed"}


def test_the_chain_is_first_in_input_for_both_ip_versions_and_docker_keeps_its_own():
    for tool in ("iptables", "ip6tables"):
        rules = on_host(INVENTORY, "mol01", f"{tool} -S INPUT").splitlines()
        assert rules[1] == "-A INPUT -j PADDOCK-HOST", rules
    assert "-A FORWARD -j DOCKER-USER" in on_host(INVENTORY, "mol01", "iptables -S FORWARD")


def test_admin_networks_that_admit_everyone_or_are_no_address_stop_the_run_before_any_host():
    extra = {"paddock_admin_networks": ["10.3.1.0/24", "0.0.0.0/0", "10.3.1.300"]}
    run, ssh_calls = playbook_recording_ssh(INVENTORY, "playbooks/validate.yml", "-e", json.dumps(extra))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    given = "-e (the command line's extra vars): "  # where the value came from
    assert given + "paddock_admin_networks[1]: 0.0.0.0/0 is every address" in output, output[-2000:]
    assert given + "paddock_admin_networks[2]: must be an IPv4 or IPv6 address or network" in output
    assert "paddock_admin_networks[0]" not in output
    assert ssh_calls == []
