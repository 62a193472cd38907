"""A weighted step (DESIGN §18) on a real control plane, for each provider that can split
production: `bgrender promote --percent 30`, synced as Argo CD syncs it, applied to the vendored
Istio and Gateway API CRDs; the idle color is rolled out with production's replicas and its smoke
test has completed before the route gets its weights; `bgrender status` reads the share back
from the live VirtualService or HTTPRoute (drift before the sync, in sync after); `promote`
then completes the switch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .apps import copy_app, intent
from .argocd_sync import Event, SyncResult
from .conftest import Cluster, bgrender, render

pytestmark = pytest.mark.e2e

APPS = {
    # provider: (example, the production route, the idle color's Deployment, its smoke test Job)
    "istio": ("gorilla-sfx-demo", "VirtualService/gorilla-sfx-demo-virtualservice",
              "gorilla-sfx-demo-deployment-bg-green", None),
    "gateway-api": ("catalog-gateway-api", "HTTPRoute/catalog", "catalog-blue", "Job/catalog-smoke-test-idle"),
}


def status(app: Path, env: dict[str, str], expect: int) -> tuple[str, dict]:
    table = bgrender("status", app, env=env, expect=expect).stdout
    report = json.loads(bgrender("status", app, "--output", "json", env=env, expect=expect).stdout)
    return table, report


@pytest.mark.parametrize("provider", sorted(APPS))
def test_status_reads_a_weighted_step_back_from_the_live_route(cluster: Cluster, kube_env: dict[str, str],
                                                               tmp_path: Path, provider: str) -> None:
    example, route, idle_deployment, idle_test = APPS[provider]
    namespace = cluster.namespace(f"e2e-step-{provider}")
    app = copy_app(example, tmp_path / example, namespace, keep_versions=True)
    name = intent(app)["metadata"]["name"]
    bgrender("lock", app)
    cluster.sync(name, namespace, render(app))
    cluster.settle(namespace)
    status(app, kube_env, 0)
    active = intent(app)["spec"]["active"]
    idle = "green" if active == "blue" else "blue"

    step = bgrender("promote", "--percent", "30", app)
    assert step.stdout.startswith(f"step {name} {idle} "), step.stdout
    table, report = status(app, kube_env, 3)  # committed, not synced yet
    assert report["drift"] == [f"production traffic goes {active} 100% live, but Git says {active} 70%, "
                               f"{idle} 30%"], report

    at_route: dict[str, object] = {}

    def observe(event: Event, result: SyncResult) -> None:
        if event.action == "apply" and route in event.objects and not at_route:
            at_route["idle"] = cluster.get("deployments.apps", idle_deployment, namespace)
            at_route["jobs"] = {j["metadata"]["name"]: j.get("status", {}) for j in cluster.list("jobs.batch",
                                                                                                 namespace)}

    cluster.sync(name, namespace, render(app), observer=observe)
    cluster.settle(namespace)
    # When the route took its weights, the color getting the share ran production's replicas and
    # (where the app has a smoke test) had passed it in this sync.
    live_idle = at_route["idle"]
    assert isinstance(live_idle, dict)
    replicas = live_idle["spec"]["replicas"]
    assert replicas == intent(app)["spec"].get("replicas", replicas)
    assert live_idle["status"].get("readyReplicas") == replicas, live_idle["status"]
    if idle_test:
        jobs = at_route["jobs"]
        assert isinstance(jobs, dict) and jobs[idle_test.split("/")[1]].get("succeeded") == 1, jobs

    table, report = status(app, kube_env, 0)
    assert f"production  git: {active} 70%, {idle} 30%  live: {active} 70%, {idle} 30%  (" in table, table
    assert table.rstrip().endswith("in sync with Git"), table
    assert report["traffic"] == {"git": {active: 70, idle: 30}, "live": {active: 70, idle: 30}}, report
    assert report["active"] == {"git": active, "live": active}

    bgrender("promote", app)  # completes the switch: the share is gone, the idle color serves it all
    cluster.sync(name, namespace, render(app))
    cluster.settle(namespace)
    table, report = status(app, kube_env, 0)
    assert report["traffic"] == {"git": {idle: 100}, "live": {idle: 100}}, report
