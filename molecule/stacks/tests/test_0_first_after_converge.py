"""Run first (the file's name sorts it first, and the test's name says so): the tests after it
start, stop and kill containers. Nothing restarted between the first converge and the tests."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
from labtest import on_hosts  # noqa: E402

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))
INVENTORY = os.path.join(SCENARIO, "inventory")


def test_first_no_container_started_after_the_first_converge_so_the_second_run_and_check_restarted_none():
    """Molecule's idempotence step ran site.yml again (changed=0) and its check step ran it with
    --check; neither may have restarted a container quietly. The first converge wrote when it
    ended (molecule/shared/converge.yml); every container on every host started before that."""
    with open(os.path.join(os.path.expanduser("~/.paddock/paddock-mol-stacks"), "converged-at")) as handle:
        converged = handle.read().strip()
    found = on_hosts(INVENTORY, "paddock", "docker ps -q | xargs -r docker inspect --format "
                                           "'{{.Name}} {{.State.StartedAt}} {{.RestartCount}}'")
    late = {host: [line for line in out.splitlines()
                   # RFC 3339 in UTC, nanoseconds against microseconds: compared as text to the second's fraction
                   if line.split()[1][:26] > converged[:26] or line.split()[2] != "0"]
            for host, out in found.items()}
    assert sum(len(out.splitlines()) for out in found.values()) > 10, found
    assert late == dict.fromkeys(found, []), (converged, late)
