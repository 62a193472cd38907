"""A gate that fails keeps production where it was, on the real control plane (DESIGN §17).

kwok runs no container: a hook Job's pod completes unless it carries kwok's chaos label, with
which kwok fails it as a `bgrender analyze` that finds the release bad would (exit 1). The
render is marked exactly there, on the `before` analysis Job's pod template, and nothing else
differs from what Argo CD would get; the driver then syncs as Argo CD does: a failed hook
fails the sync, and no later wave runs.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import yaml

from .apps import copy_app
from .argocd_sync import SyncFailed
from .conftest import bgrender, render

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import Cluster

pytestmark = pytest.mark.e2e

APP = "gorilla-sfx-demo"
SERVICE = "gorilla-sfx-demo-service"
VIRTUAL_SERVICE = "gorilla-sfx-demo-virtualservice"
FAILS = "pod-container-running-failed.stage.kwok.x-k8s.io"  # kwok's chaos stage (e2e/control-plane.sh)
ANALYSIS = {
    "address": "http://prometheus.monitoring:9090",
    "interval": 1,
    "count": 1,
    "before": True,
    "queries": [{"name": "errors", "query": "sum(rate(http_requests_total{code=~\"5..\"}[1m]))",
                 "successCondition": "result < 1"}],
}


def _with_analysis(app: Path) -> None:
    path = app / "bluegreen.yaml"
    intent = yaml.safe_load(path.read_text())
    intent["spec"].setdefault("promotion", {})["analysis"] = ANALYSIS
    path.write_text(yaml.safe_dump(intent, sort_keys=False))


def _failing(manifests: list[dict], job: str) -> list[dict]:
    marked = [m for m in manifests if m["kind"] == "Job" and m["metadata"]["name"] == job]
    assert len(marked) == 1, [m["metadata"]["name"] for m in manifests if m["kind"] == "Job"]
    marked[0]["spec"]["template"]["metadata"].setdefault("labels", {})[FAILS] = "true"
    return manifests


def _production(cluster: Cluster, namespace: str) -> tuple[str, str]:
    """Where production goes live: the VirtualService's default route, and the app Service's selector."""
    vs = cluster.get("virtualservices.networking.istio.io", VIRTUAL_SERVICE, namespace)
    service = cluster.get("services", SERVICE, namespace)
    assert vs is not None and service is not None
    (route,) = [r for r in vs["spec"]["http"] if not r.get("match")]
    return route["route"][0]["destination"]["host"], service["spec"]["selector"]["deploy"]


def test_a_failing_before_analysis_keeps_production_on_the_color_that_served(
        cluster: Cluster, kube_env: dict[str, str], tmp_path: Path) -> None:
    namespace = cluster.namespace("e2e-gate-before")
    app = copy_app(APP, tmp_path / APP, namespace, keep_versions=True)
    _with_analysis(app)
    bgrender("lock", app)
    cluster.sync(APP, namespace, render(app))
    cluster.settle(namespace)
    assert _production(cluster, namespace) == ("gorilla-sfx-demo-service-blue", "blue")

    bgrender("promote", app)
    manifests = _failing(render(app), "gorilla-sfx-demo-analysis-before")
    with pytest.raises(SyncFailed) as failed:
        cluster.sync(APP, namespace, manifests)
    assert "gorilla-sfx-demo-analysis-before" in str(failed.value), failed.value
    # The routes' wave never ran: both the mesh route and the Service still send production to blue.
    assert _production(cluster, namespace) == ("gorilla-sfx-demo-service-blue", "blue")
    status = bgrender("status", app, "--output", "json", env=kube_env, expect=3)
    report = json.loads(status.stdout)
    assert report["active"] == {"git": "green", "live": "blue"}, report

    # The same promotion with a gate that passes moves production.
    cluster.sync(APP, namespace, render(app))
    cluster.settle(namespace)
    assert _production(cluster, namespace) == ("gorilla-sfx-demo-service-green", "green")
