"""Which of this scenario's tests a run takes. scripts/test runs them all, alone, after the other
scenarios: the untimed ones first (the catalog's apps), then the timed
ones (a failover within 3 s, rolling updates and reloads that must drop no request, a page that
follows the swarm within 2 s) on a quiet machine. PADDOCK_TESTS=untimed or timed runs one part
(to verify a lab one part at a time); unset, all. A module that times what it asserts marks
itself ``pytestmark = pytest.mark.timed``."""

import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "timed: asserts a duration or zero failures under load; runs alone")


def pytest_collection_modifyitems(config, items):
    wanted = os.environ.get("PADDOCK_TESTS", "")
    if wanted not in ("", "timed", "untimed"):
        raise pytest.UsageError(f"PADDOCK_TESTS: timed, untimed or unset, got {wanted!r}")
    if not wanted:
        # Untimed first, each part in file order, so that the timed tests find the machine quiet.
        items.sort(key=lambda item: item.get_closest_marker("timed") is not None)
        return
    keep = [item for item in items if (item.get_closest_marker("timed") is not None) == (wanted == "timed")]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep
