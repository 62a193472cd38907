"""The app's objects beside its Deployments (DESIGN §11): the ConfigMaps the colors pin, an
HPA and a PodDisruptionBudget per color, and spec.resources as placed in the render.

Their fields are records of the Intent (intent/intent.py), their rules are in
intent/rules.py, and app/reading.py reads their files. Pure: a Plan in, objects out.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, waves
from bgrender.intent.resources import emitted
from bgrender.intent.versioned import rendered
from bgrender.labels import SYNC_OPTIONS, metadata, selector_labels

if TYPE_CHECKING:
    from typing import Any

    from bgrender.plan.deployment import ColorPlan
    from bgrender.plan.plan import Plan

# --- the objects --------------------------------------------------------------------------------


def companion_objects(plan: Plan, generated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ConfigMaps the colors pin, an HPA and a PDB per color, and spec.resources, checked
    against `generated` (the objects bgrender makes besides these)."""
    ours = config_map_objects(plan) + [obj for cp in plan.colors.values()
                                       for obj in (autoscaler(plan, cp), disruption_budget(plan, cp)) if obj]
    resources = list(plan.resources) + [rendered(v) for v in plan.versions]
    return ours + emitted(resources, plan.namespace, generated + ours)


def _meta(plan: Plan, name: str, wave: int, labels: dict[str, str]) -> dict[str, Any]:
    return metadata(name, plan.namespace, labels, wave)


def config_map_objects(plan: Plan) -> list[dict[str, Any]]:
    """Each ConfigMap some deployed color's entry pins, once per hashed name, before any pod
    mounts it. Immutable: its name changes with its content, so its content never changes."""
    pinned = {name: data for cp in plan.colors.values() for name, data in cp.entry.config_maps.items()}
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": _config_map_metadata(plan, name),
             "immutable": True, "data": dict(data)} for name, data in sorted(pinned.items())]


def _config_map_metadata(plan: Plan, name: str) -> dict[str, Any]:
    meta = _meta(plan, name, waves.SHARED, plan.app_labels)
    # Once no color pins it, the sync that replaces its pods prunes it: last, after every wave is
    # healthy, so a pod of the old release that restarts its container meanwhile still finds it.
    meta["annotations"][SYNC_OPTIONS] = "PruneLast=true"
    return meta


def autoscaler(plan: Plan, cp: ColorPlan) -> dict[str, Any] | None:
    """The color's HPA, in its Deployment's wave: the active color's scales within
    spec.autoscaling's bounds, the idle color's is held at idleReplicas."""
    scaling = plan.intent.autoscaling
    if scaling is None or cp.bounds is None:
        return None
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": cp.name},
        "minReplicas": cp.bounds[0],
        "maxReplicas": cp.bounds[1],
    }
    if scaling.metrics:
        spec["metrics"] = scaling.metrics
    if scaling.behavior:
        spec["behavior"] = scaling.behavior
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": _meta(plan, cp.name, cp.wave, _color_labels(plan, cp)), "spec": spec}


def disruption_budget(plan: Plan, cp: ColorPlan) -> dict[str, Any] | None:
    budget = plan.intent.disruption_budget
    if budget is None:
        return None
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": _meta(plan, cp.name, cp.wave, _color_labels(plan, cp)),
            "spec": {**budget, "selector": {"matchLabels": dict(cp.entry.selector)}}}


def _color_labels(plan: Plan, cp: ColorPlan) -> dict[str, str]:
    return selector_labels(plan.app_labels, plan.intent.color_label, cp.color)
