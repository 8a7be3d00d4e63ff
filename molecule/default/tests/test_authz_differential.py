"""paddock-authz reads a body as the engine does: generated bodies (molecule/shared/authz_bodies.py)
sent to mol01's engine as an admin, and what the engine recorded compared with what the plugin's
reader (_gojson) believed it would record. A seeded subset: bench/authz_differential.py runs
the full count."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "..", "shared"), HERE, os.path.join(HERE, "..", "..", "..", ".collections")]
import authz_bodies  # noqa: E402
from differential import Engine, run_route  # noqa: E402
from labtest import TEST_IMAGE, build_test_image, on_host  # noqa: E402
from test_access import MANAGER, PKI, api_context  # noqa: E402

from ansible_collections.paddock.platform.plugins.module_utils._engine_types import ENGINE  # noqa: E402

BODIES = int(os.environ.get("PADDOCK_DIFFERENTIAL_BODIES", "60"))
SEED = int(os.environ.get("PADDOCK_DIFFERENTIAL_SEED", "31"))


def test_no_body_is_read_otherwise_by_the_plugin_than_by_the_engine():
    inventory = os.path.join(HERE, "..", "inventory")
    # The reader's tables are this engine's: its version and the Go that built it.
    version = on_host(inventory, "mol01", "docker version --format '{{.Server.Version}} {{.Server.GoVersion}}'")
    assert version.split() == [ENGINE["package"].split()[1].split("-")[0], ENGINE["go"]], (version, ENGINE)
    build_test_image(inventory, "mol01")
    engine = Engine(MANAGER, api_context(f"{PKI}/users/alice/cert.pem", f"{PKI}/users/alice/key.pem"))
    totals, differences = {}, []
    with engine.targets(TEST_IMAGE):
        for route in authz_bodies.ROUTES:
            counts, found = run_route(engine, route, BODIES, SEED, TEST_IMAGE)
            totals[route], differences = counts, differences + found
    print(totals)
    assert not differences, differences[:10]
    # Each route's bodies reached the engine, not only the reader's refusals.
    assert all(counts["compared"] >= BODIES // 5 for counts in totals.values()), totals
