"""Which of this scenario's tests a run takes. scripts/test runs them all, alone, after the other
scenarios: the untimed ones first (the catalog's apps), then the timed
ones (a failover within 3 s, rolling updates and reloads that must drop no request, a page that
follows the swarm within 2 s) on a quiet machine. PADDOCK_TESTS=untimed or timed runs one part
(to verify a lab one part at a time); unset, all. A module that times what it asserts marks
itself ``pytestmark = pytest.mark.timed``."""

import os

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

SHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "..", ".test-logs", "console")


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


@pytest.fixture()
def browser():
    """Headless Chromium. It skips the certificate check: the first test checks the console's
    certificate against the environment's CA, which a browser would be given by its admin."""
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                     "--window-size=1400,1000"):
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(0)
    os.makedirs(SHOTS, exist_ok=True)
    yield driver
    driver.quit()
