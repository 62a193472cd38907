"""What bgrender accepts, the real API server admits (#26, class 5), as a property: numbers and
names drawn across and past every limit Kubernetes and the CRDs set, written into an app that
has every kind of object (examples/orders: autoscaling, a disruption budget, config, a smoke
test and the scale-down delay), and each render bgrender gives is dry-run on the real API
server (`--dry-run=server`: schema, CRD validation with its CEL rules, admission). A value
bgrender refuses is fine; one it renders must be admitted, or the sync would fail in a later
wave with production half switched.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ..conftest import BGRENDER, REPO, SIDECAR_ENV, clean_env
from .test_dry_run import NAMESPACE, check_admitted

if TYPE_CHECKING:
    from .conftest import Cluster

pytestmark = pytest.mark.e2e

INT32 = 2**31 - 1
# Around each limit: 0, small, the edges of int32, past it, negative.
COUNTS = st.one_of(st.sampled_from([-1, 0, 1, 2, 100, INT32 - 1, INT32, INT32 + 1, 2**63]),
                   st.integers(min_value=-5, max_value=50))
PORTS = st.one_of(st.sampled_from([0, 1, 80, 65535, 65536]), st.integers(min_value=-1, max_value=70000))
PERCENTS = st.one_of(COUNTS, st.sampled_from(["0%", "1%", "50%", "100%", "101%", "999%", "-5%", "5.5%", "%"]))
LABEL_CHARS = st.sampled_from("abcxyz019-.AZ_")
NAMES = st.one_of(st.sampled_from(["web", "a", "a" * 40, "a" * 47, "a" * 63, "a" * 64, "Web", "web-", "-web",
                                   "web.v2", "9web", "we_b"]),
                  st.text(LABEL_CHARS, min_size=1, max_size=70))


def _app(directory: Path, values: dict[str, Any]) -> Path:
    app = Path(shutil.copytree(REPO / "examples" / "orders", directory / "orders"))
    path = app / "bluegreen.yaml"
    intent = yaml.safe_load(path.read_text())
    spec = intent["spec"]
    intent["metadata"]["name"] = values["name"]
    spec["service"] = {"name": values["service"], "port": values["port"]}
    spec["idleReplicas"] = values["idle"]
    spec["autoscaling"].update(minReplicas=values["min"], maxReplicas=values["max"])
    spec["podDisruptionBudget"] = {"maxUnavailable": values["unavailable"]}
    spec["promotion"] = {"smokeTest": {"path": "/ready", "expectStatus": values["status"],
                                       "timeoutSeconds": values["timeout"]},
                         "scaleDownDelaySeconds": values["delay"]}
    path.write_text(yaml.safe_dump(intent, sort_keys=False))
    return app


# A valid app, and one field of it drawn from the strategies above: most draws near a limit then
# render, so the property is checked on renders, not only on refusals.
VALID = {"name": "orders", "service": "orders", "port": 8080, "idle": 2, "min": 3, "max": 12, "unavailable": 1,
         "status": 200, "timeout": 60, "delay": 30}
DRAWN = {"name": NAMES, "service": NAMES, "port": PORTS, "idle": COUNTS, "min": COUNTS, "max": COUNTS,
         "unavailable": PERCENTS, "status": st.integers(min_value=0, max_value=1000), "timeout": COUNTS,
         "delay": COUNTS}
VALUES = st.one_of([strategy.map(lambda value, field=field: {**VALID, field: value})
                    for field, strategy in DRAWN.items()])


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(values=VALUES)
@example(values=VALID)
@example(values={**VALID, "max": INT32, "idle": INT32 - 1})
@example(values={**VALID, "unavailable": "100%", "name": "a" * 47, "port": 65535})
def test_every_render_bgrender_gives_the_api_server_admits(cluster: Cluster, values: dict[str, Any]) -> None:
    cluster.namespace(NAMESPACE)
    with tempfile.TemporaryDirectory() as directory:
        app = _app(Path(directory), values)
        rendered = subprocess.run([BGRENDER, "render", str(app)], capture_output=True, text=True, timeout=60,
                                  env=clean_env(SIDECAR_ENV))
    if rendered.returncode != 0:
        assert (rendered.returncode, rendered.stdout) == (1, ""), rendered.stderr  # refused, cleanly
        return
    check_admitted(cluster, [d for d in yaml.safe_load_all(rendered.stdout) if d])
