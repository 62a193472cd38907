"""The whole life of an app, for each routing provider, synced to a real control plane as Argo
CD syncs it (`argocd_sync`), read back from the API server after every sync.

first release, sync; release V2, sync; promote, sync; an edit of the base Deployment (an env
var) and a config-only release, sync; promote, sync; rollback, sync; a second rollback refused.

After each sync: every Deployment's selector is the app labels plus its color and never
changes; a Deployment got a new `metadata.generation` only if its color's lock entry changed
(a new pod template: a new ReplicaSet) or its replica count changed (promotion moves replicas
between `replicas` and `idleReplicas`, or an HPA between its bounds), or its annotations
changed: the API server bumps a Deployment's generation for those too, and promotion and
rollback change both Deployments' `argocd.argoproj.io/sync-wave` (0 for the color taking
production, 4 for the idle one), so with `replicas` equal to `idleReplicas` both Deployments
get a new generation at each promotion, though neither restarts a pod; a Deployment whose lock
entry did not change kept its ReplicaSets and its pods (promotion and rollback restart no pod);
when the routing object was applied, the color serving production was rolled out and the
idle color still as before the sync (it is scaled down or updated only after the switch); the
hook Jobs completed; `bgrender status` reads it all back as in sync with Git.

Nothing runs: kwok, the simulated node, reports every pod Running and Ready, and every Job's pod
Succeeded (the smoke tests' curl and the scale-down delay's sleep never execute). What is real
is what the API server, its admission (Pod Security `restricted` admits the hook Jobs' pods),
and the Deployment, ReplicaSet, Job, HPA, disruption and EndpointSlice controllers do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .apps import add_env, copy_app, deployments, intent, lock_entries
from .argocd_sync import HEALTHY, WAVE, Event, SyncResult, deployment_health, wave_of
from .conftest import Cluster, bgrender, render

pytestmark = pytest.mark.e2e

PROVIDERS = {
    # provider: (example, companions it brings)
    "istio": "orders",                    # resources, configMaps, autoscaling, podDisruptionBudget
    "gateway-api": "catalog-gateway-api",  # smoke test, scale-down delay, PostSync test of the idle color
    "service": "search-plain-service",     # smoke test
}
COLORS = ("blue", "green")


class App:
    def __init__(self, cluster: Cluster, path: Path, namespace: str, kube_env: dict[str, str]):
        self.cluster = cluster
        self.path = path
        self.namespace = namespace
        self.env = kube_env
        self.name = intent(path)["metadata"]["name"]
        self.annotation_bumps: list[tuple[str, str | None, str | None]] = []
        self.notes: list[str] = []

    def deployment_name(self, color: str) -> str:
        return f"{self.base_name()}-{color}"

    def base_name(self) -> str:
        return yaml.safe_load((self.path / "deployment.yaml").read_text())["metadata"]["name"]

    def color_of(self, deployment: str) -> str:
        return deployment.rsplit("-", 1)[1]

    def step(self, *command: str) -> SyncResult:
        """Run a bgrender edit, sync the render, wait for the Deployments to settle, and check
        what the server holds against what the edit changed."""
        before = deployments(self.cluster, self.namespace)
        jobs_before = {f"Job/{j['metadata']['name']}" for j in self.cluster.list("jobs.batch", self.namespace)}
        lock_before = lock_entries(self.path)
        bgrender(*command, self.path)
        lock_after = lock_entries(self.path)
        changed = {c for c in COLORS if lock_before.get(c) != lock_after.get(c)}
        manifests = render(self.path)
        active = intent(self.path)["spec"]["active"]
        idle = "green" if active == "blue" else "blue"
        routes = [f"{m['kind']}/{m['metadata']['name']}" for m in manifests
                  if wave_of(m) == 2 and "argocd.argoproj.io/hook" not in m["metadata"].get("annotations", {})]
        at_switch: dict[str, object] = {}

        def observe(event: Event, result: SyncResult) -> None:
            if event.action == "apply" and set(routes) & set(event.objects) and not at_switch:
                at_switch["deployments"] = deployments(self.cluster, self.namespace)
                at_switch["active"] = self.cluster.get("deployments.apps", self.deployment_name(active), self.namespace)

        result = self.cluster.sync(self.name, self.namespace, manifests, observer=observe)
        self.notes += result.notes
        self.cluster.settle(self.namespace)
        after = deployments(self.cluster, self.namespace)
        self.check(before, after, changed, lock_after)
        self.check_switch(before, at_switch, routes, idle, result)
        self.check_hooks(manifests)
        # BeforeHookCreation (bgrender's hooks' policy): each hook left by the last sync went first
        hooks = {f"{m['kind']}/{m['metadata']['name']}" for m in manifests
                 if "argocd.argoproj.io/hook" in m["metadata"].get("annotations", {})}
        deleted = {o for e in result.events if e.action == "delete-hook" for o in e.objects}
        assert deleted == hooks & jobs_before, (deleted, hooks, jobs_before)
        self.check_status(active)
        return result

    def check(self, before: dict, after: dict, changed: set[str], lock: dict) -> None:
        for name, d in after.items():
            color = self.color_of(name)
            assert d.selector == lock[color]["selector"], f"{name}: selector {d.selector} is not the lock's"
            assert d.version == lock[color]["version"], (
                f"{name} runs {d.version}, the lock says {lock[color]['version']}")
            if name not in before:
                continue
            old = before[name]
            assert d.selector == old.selector, f"{name}: the selector changed"
            if color in changed:
                assert d.generation > old.generation, f"{name}: its lock entry changed, its generation did not"
                assert not d.replicasets & old.replicasets, f"{name}: a new release, but no new ReplicaSet"
                continue
            if d.generation != old.generation and d.replicas == old.replicas:
                # The API server also bumps a Deployment's generation when its annotations change
                # (they are copied to its ReplicaSets): promotion moves the Deployments between
                # waves 0 and 4, which changes their `argocd.argoproj.io/sync-wave` annotation.
                assert d.annotations != old.annotations, (
                    f"{name}: generation {old.generation} -> {d.generation}, but neither its lock entry, its "
                    "replicas nor its annotations changed")
                self.annotation_bumps.append((name, old.annotations.get(WAVE), d.annotations.get(WAVE)))
            assert d.replicasets == old.replicasets, f"{name}: ReplicaSets {old.replicasets} -> {d.replicasets}"
            if (d.replicas or 0) >= (old.replicas or 0):
                assert old.pods <= d.pods, f"{name}: pods were restarted: {old.pods - d.pods} are gone"
            else:
                assert d.pods <= old.pods, f"{name}: scaled down, yet new pods {d.pods - old.pods} started"
        for color in COLORS:
            assert (self.deployment_name(color) in after) == (color in lock), f"{color}: Deployment vs lock"

    def check_switch(self, before: dict, at_switch: dict, routes: list[str], idle: str, result: SyncResult) -> None:
        if not routes:
            return
        assert at_switch, f"the sync never applied the routing objects {routes}"
        active_live = at_switch["active"]
        assert active_live is not None and deployment_health(active_live)[0] == HEALTHY, (
            f"production moved before its color was rolled out: {active_live and deployment_health(active_live)}")
        name = self.deployment_name(idle)
        then = at_switch["deployments"].get(name)
        if name in before:
            old = before[name]
            assert then is not None and (then.generation, then.replicas, then.replicasets) == (
                old.generation, old.replicas, old.replicasets), (
                f"{name} (idle after this sync) changed before production moved: {old} -> {then}")
        # and the idle color's Deployment is applied only after the routes' wave was healthy
        applies = [(i, e) for i, e in enumerate(result.events) if e.action == "apply"]
        idle_applied = [i for i, e in applies if f"Deployment/{name}" in e.objects]
        route_applied = min(i for i, e in applies if set(routes) & set(e.objects))
        healthy_after = [i for i, e in enumerate(result.events) if e.action == "healthy" and i > route_applied]
        for i in idle_applied:
            assert healthy_after and healthy_after[0] < i, f"{name} applied before the switch's wave was healthy"

    def check_hooks(self, manifests: list[dict]) -> None:
        for m in manifests:
            if m["kind"] == "Job":
                job = self.cluster.get("jobs.batch", m["metadata"]["name"], self.namespace)
                assert job is not None, f"hook Job {m['metadata']['name']} was not created"
                done = {c["type"] for c in job["status"].get("conditions", []) if c["status"] == "True"}
                assert "Complete" in done, f"hook Job {m['metadata']['name']}: {job['status']}"

    def check_status(self, active: str) -> None:
        out = bgrender("status", self.path, "--output", "json", env=self.env)
        report = json.loads(out.stdout)
        assert report["inSync"] is True, report
        assert report["active"] == {"git": active, "live": active}, report


@pytest.mark.parametrize("provider", PROVIDERS)
def test_lifecycle(cluster: Cluster, kube_env: dict[str, str], tmp_path: Path, provider: str) -> None:
    namespace = cluster.namespace(f"e2e-life-{provider}")
    app = App(cluster, copy_app(PROVIDERS[provider], tmp_path / "app", namespace), namespace, kube_env)

    first = app.step("release", "1.0.0")
    assert set(deployments(cluster, namespace)) == {app.deployment_name(intent(app.path)["spec"]["active"])}
    assert first.events[0].wave == -1

    app.step("release", "1.1.0")
    promoted = app.step("promote")
    assert not [e for e in promoted.events if e.action == "prune"]

    add_env(app.path, "FEATURE_FLAG", "on")
    app.step("release")                         # config-only: production's version, current base, to idle
    # Both colors run one version now; the live pod templates' bgrender.io/release tells them apart.
    templates = [cluster.get("deployments.apps", name, namespace)["spec"]["template"]["metadata"]
                 for name in deployments(cluster, namespace)]
    assert len({t["annotations"]["bgrender.io/version"] for t in templates}) == 1, templates
    assert len({t["labels"]["bgrender.io/release"] for t in templates}) == 2, templates
    app.step("promote")
    app.step("rollback")

    if provider == "istio":   # orders autoscales; the cluster has no metrics-server
        hpas = cluster.list("horizontalpodautoscalers.autoscaling", namespace)
        assert hpas and all({"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric"}.items()
                            <= c.items() for h in hpas for c in h["status"]["conditions"]
                            if c["type"] == "ScalingActive"), hpas
        assert any("Argo CD 3.5 counts it Degraded" in n for n in app.notes), app.notes

    # Every generation bump that neither a release nor a replica count explains is a change of wave.
    assert all(old != new for _, old, new in app.annotation_bumps), app.annotation_bumps

    files = {p.name: p.read_bytes() for p in app.path.iterdir() if p.is_file()}
    refused = bgrender("rollback", app.path, expect=1)
    assert refused.stdout == ""
    assert "no earlier production release" in refused.stderr or "does not hold" in refused.stderr, refused.stderr
    assert files == {p.name: p.read_bytes() for p in app.path.iterdir() if p.is_file()}
