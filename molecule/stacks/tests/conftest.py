"""Which of this scenario's tests a run takes: scripts/test verifies the untimed tests (the
catalog's apps) while the other scenarios run beside it, and the timed ones (a failover within
3 s, rolling updates and reloads that must drop no request, a page that follows the swarm
within 2 s) alone, once the machine is quiet. PADDOCK_TESTS=untimed or timed; unset, all.
A module that times what it asserts marks itself ``pytestmark = pytest.mark.timed``."""

import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "timed: asserts a duration or zero failures under load; runs alone")


def pytest_collection_modifyitems(config, items):
    wanted = os.environ.get("PADDOCK_TESTS", "")
    if wanted not in ("", "timed", "untimed"):
        raise pytest.UsageError(f"PADDOCK_TESTS: timed, untimed or unset, got {wanted!r}")
    if not wanted:
        return
    keep = [item for item in items if (item.get_closest_marker("timed") is not None) == (wanted == "timed")]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep
