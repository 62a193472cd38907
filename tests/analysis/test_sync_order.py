"""A failing `before` analysis stops the switch (DESIGN §17), in a model of Argo CD's sync order.

The model follows /work/shared/reference/argocd-sync-semantics.md (gitops-engine 5baed56):
tasks sorted by phase, wave, kind rank, name (sync_tasks.go:85-110); a wave's tasks applied
together, hooks of one wave running side by side (sync_context.go:1380-1531); the next wave only
once every hook of this one completed (sync_context.go:474-514); a failed hook fails the sync,
the rest of its wave still applied, no later wave or phase run (sync_context.go:539-544,
591-595). It leaves out health of non-hook objects (taken as healthy), prunes, the 2 s wave delay
and SyncFail hooks: none changes which waves run. A real-cluster sync driver is being built
apart (DESIGN §14); this case belongs there too once it lands.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bgrender.app.pipeline import find_intent, render_app

from ..conftest import GOLDEN, case_env, cases, clean_env

PHASES = ("PreSync", "Sync", "PostSync")
# gitops-engine's kind order (sync_tasks.go:27-67); unlisted kinds (custom resources) last.
KIND_ORDER = ["Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
              "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
              "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
              "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
              "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
              "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService"]


def _annotations(obj: dict) -> dict:
    return obj["metadata"].get("annotations") or {}


def _key(obj: dict) -> tuple:
    kind = obj["kind"]
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return (PHASES.index(_annotations(obj).get("argocd.argoproj.io/hook", "Sync")),
            int(_annotations(obj).get("argocd.argoproj.io/sync-wave", "0")), rank, obj["metadata"]["name"])


def sync(objects: list[dict], hook_passes: Callable[[dict], bool]) -> tuple[list[list[str]], bool]:
    """The steps of a sync: for each (phase, wave) reached, the objects applied as "Kind/name"
    (hooks included); and whether the sync succeeded."""
    steps: list[list[str]] = []
    for step in sorted({_key(o)[:2] for o in objects}):
        wave = sorted((o for o in objects if _key(o)[:2] == step), key=_key)
        steps.append([_id(o) for o in wave])  # all applied, even when a hook of it fails
        hooks = [o for o in wave if "argocd.argoproj.io/hook" in _annotations(o)]
        if not all(hook_passes(h) for h in hooks):
            return steps, False
    return steps, True


def _id(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def _applied(steps: list[list[str]]) -> list[str]:
    return [name for step in steps for name in step]


def _moves_production(obj: dict) -> bool:
    return obj["kind"] in ("VirtualService", "HTTPRoute") or (obj["kind"] == "Service" and _wave(obj) == 3)


def _wave(obj: dict) -> int:
    return int(_annotations(obj)["argocd.argoproj.io/sync-wave"])


GATED = [c for c in cases("render") if (c / "bluegreen.yaml").read_text().count("analysis:")]


@pytest.fixture(params=GATED, ids=lambda p: p.name)
def rendered(request) -> list[dict]:
    return render_app(find_intent(request.param), clean_env(case_env(request.param)))


def test_there_are_gated_cases():
    assert {c.name for c in GATED} >= {"analysis-manual-before-after-idle",
                                       "analysis-auto-service-provider-image-from-env"}


def test_a_failing_before_analysis_stops_the_switch(rendered):
    steps, succeeded = sync(rendered, lambda hook: not hook["metadata"]["name"].endswith("-analysis-before"))
    applied = _applied(steps)
    assert not succeeded and any(name.endswith("-analysis-before") for name in steps[-1])
    routes = [_id(o) for o in rendered if _moves_production(o)]
    assert routes and not set(routes) & set(applied), "the route that moves production was applied"
    post_sync = {_id(o) for o in rendered if _annotations(o).get("argocd.argoproj.io/hook") == "PostSync"}
    assert not post_sync & set(applied)  # the idle color's gates run in Sync only while it takes a share


SHARING = [c for c in GATED if "traffic:" in (c / "bluegreen.yaml").read_text()]


@pytest.mark.parametrize("case", SHARING, ids=lambda p: p.name)
@pytest.mark.parametrize("failing", ["-smoke-test-idle", "-analysis-idle"])
def test_a_failing_gate_of_the_color_taking_a_share_stops_the_share(case, failing):
    """DESIGN §18: the idle color gets its share only after its smoke test and `before` analysis
    passed in this sync."""
    rendered = render_app(find_intent(case), clean_env(case_env(case)))
    steps, succeeded = sync(rendered, lambda hook: not hook["metadata"]["name"].endswith(failing))
    assert not succeeded and any(name.endswith(failing) for name in steps[-1])
    routes = [_id(o) for o in rendered if _moves_production(o)]
    assert routes and not set(routes) & set(_applied(steps))


def test_there_are_sharing_cases():
    assert SHARING


def test_the_before_analysis_starts_only_after_the_smoke_test_passed(rendered):
    steps, succeeded = sync(rendered, lambda hook: True)
    assert succeeded
    step_of = {name: i for i, step in enumerate(steps) for name in step}
    smoke = next(n for n in step_of if n.endswith("-smoke-test"))
    analysis = next(n for n in step_of if n.endswith("-analysis-before"))
    route = next(_id(o) for o in rendered if _moves_production(o))
    assert step_of[smoke] < step_of[analysis] < step_of[route]  # a wave each: never side by side


def test_a_failing_smoke_test_never_starts_the_analysis(rendered):
    steps, succeeded = sync(rendered, lambda hook: not hook["metadata"]["name"].endswith("-smoke-test"))
    assert not succeeded and not any(n.endswith("-analysis-before") for n in _applied(steps))


def test_a_failing_after_analysis_fails_the_sync_after_the_switch():
    case = GOLDEN / "render" / "analysis-manual-before-after-idle"
    objects = render_app(find_intent(case), clean_env(case_env(case)))
    steps, succeeded = sync(objects, lambda hook: not hook["metadata"]["name"].endswith("-analysis-after"))
    assert not succeeded and "VirtualService/web" in _applied(steps)  # production moved before it
    assert any(n.endswith("-analysis-after") for n in steps[-1])


def test_the_model_runs_same_wave_hooks_side_by_side():
    """Why `before` has a wave of its own: two hooks of one wave start together, whatever names."""
    job = {"kind": "Job", "metadata": {"annotations": {"argocd.argoproj.io/hook": "Sync",
                                                       "argocd.argoproj.io/sync-wave": "1"}}}
    a, b = ({**job, "metadata": {**job["metadata"], "name": n}} for n in ("a-smoke-test", "b-analysis"))
    steps, _ = sync([b, a], lambda hook: False)
    assert steps == [["Job/a-smoke-test", "Job/b-analysis"]]
