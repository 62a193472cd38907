"""Plan → Kubernetes objects (DESIGN §4–§5). Pure: plain dicts in, plain dicts out.

Label placement is the point of the whole tool: selectors get the app labels plus the
color (constant for a Deployment's life); the version goes only on pod templates, so a
release is an ordinary rolling update and never `spec.selector: field is immutable`.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, routing
from bgrender.labels import HOOK, SYNC_WAVE
from bgrender.plan import deployment
from bgrender.render.companions import companion_objects
from bgrender.render.hooks import hook_jobs

if TYPE_CHECKING:
    from typing import Any

    from bgrender.plan.plan import Plan

# Argo CD's own order: phase, then wave, then kind, then name (PreSync and SyncFail: none here).
PHASES = {"Sync": 0, "PostSync": 1}


def render(plan: Plan) -> list[dict[str, Any]]:
    objects = routing.objects(plan)
    objects += [deployment.manifest(cp, plan.namespace, plan.intent.color_label) for cp in plan.colors.values()]
    objects += hook_jobs(plan)
    objects += companion_objects(plan, objects)
    return sorted(objects, key=_apply_order)


def _apply_order(obj: dict[str, Any]) -> tuple[int, int, str, str]:
    annotations = obj["metadata"]["annotations"]
    return (PHASES[annotations.get(HOOK, "Sync")], int(annotations[SYNC_WAVE]), obj["kind"],
            obj["metadata"]["name"])
