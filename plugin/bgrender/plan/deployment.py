"""A color's Deployment, assembled in one place (DESIGN §4's table, §9).

`color_plan` settles what one color runs and how many: the base Deployment's shell (all but
the pod template, its templates expanded for the color), the selector and pod template of
its release (its lock entry; without a lock, pinned now from the base by pod_template.py),
its replicas or HPA bounds, and its sync wave. `manifest` turns that into the object.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, names, waves
from bgrender.labels import IDLE, PRODUCTION, ROLE, SYNC_WAVE, released_template, selector_labels
from bgrender.lock.lockfile import pinned_entry
from bgrender.plan.pod_template import pin_color, template_context
from bgrender.plan.templating import expand
from bgrender.record import Record

if TYPE_CHECKING:
    from typing import Any

    from bgrender.colors import Color
    from bgrender.errors import Problem
    from bgrender.intent.base_deployment import Base
    from bgrender.intent.configmaps import ConfigMap
    from bgrender.intent.intent import Intent
    from bgrender.intent.versioned import Versioned
    from bgrender.lock.lockfile import Entry, LockFile
    from bgrender.yamlfile.document import Document


class ColorPlan(Record):
    color: Color
    name: str  # of its Deployment, and of its HPA and PodDisruptionBudget
    version: str
    active: bool  # serves production
    replicas: int  # what the color runs; with an HPA, the fewest it runs (minReplicas, or idleReplicas)
    bounds: tuple[int, int] | None  # the HPA's minReplicas and maxReplicas; None: no HPA, spec.replicas is set
    wave: int
    shell: dict[str, Any]  # the base Deployment without its pod template, this color's templates expanded
    entry: Entry  # what the color runs: its selector and pod template (from the lock, or pinned now)
    share: int = 0  # percent of production the idle color holds (spec.traffic); 0 for the active color


class Source(Record):
    """What every color's Deployment is made from."""

    intent: Intent
    intent_doc: Document
    base: Base
    namespace: str | None
    lock_file: LockFile | None  # None: each color is pinned from the base now
    config_maps: dict[str, ConfigMap]  # spec.configMaps, read: by the name the pod template uses
    replicas: int  # of the active color
    versions: tuple[Versioned, ...] = ()  # of the versioned resources of spec.resources


def color_plan(source: Source, color: Color, version: str) -> tuple[ColorPlan | None, list[Problem]]:
    """What `color` runs at `version`, or every problem that stops it."""
    intent, base = source.intent, source.base
    context = template_context(intent, source.namespace, color, version)
    shell, problems = expand(_without_template(base.manifest), context, base.doc.problem, text=base.doc.text)
    entry, entry_problems = _entry(source, color, version)
    problems += entry_problems
    if entry is None or problems:
        return None, problems
    active = color == intent.active
    share = 0 if active else intent.traffic or 0
    # A color holding a share serves production: it runs what the active color runs, and is
    # rolled out with it, before the smoke tests and the routes (DESIGN §18).
    serves = active or share > 0
    count = source.replicas if serves else _idle_replicas(intent, source.replicas)
    return ColorPlan(color=color, name=names.color_deployment(base.name, color), version=version, active=active,
                     replicas=count,
                     bounds=_bounds(intent, serves, count), wave=waves.ACTIVE if serves else waves.IDLE,
                     shell=shell, entry=entry, share=share), []


def _entry(source: Source, color: Color, version: str) -> tuple[Entry | None, list[Problem]]:
    intent, base = source.intent, source.base
    if source.lock_file is None:
        return pin_color(intent, base, source.config_maps, source.namespace, color, version, source.versions)
    selector = selector_labels(base.app_labels, intent.color_label, color)
    return pinned_entry(source.lock_file, intent, source.intent_doc, color, selector)


def manifest(cp: ColorPlan, namespace: str | None, color_label: str) -> dict[str, Any]:
    """The base Deployment with this color's name, labels (its role among them), wave and
    replicas, and the selector and pod template of what the color runs (its lock entry, marked
    with the release it is)."""
    d = dict(cp.shell)
    meta = d["metadata"] = dict(d["metadata"])
    meta["name"] = cp.name
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = {**(meta.get("labels") or {}), color_label: cp.color, ROLE: PRODUCTION if cp.active else IDLE}
    meta["annotations"] = {**(meta.get("annotations") or {}), SYNC_WAVE: str(cp.wave)}
    d["spec"] = {**d["spec"], "replicas": cp.replicas, "selector": {"matchLabels": dict(cp.entry.selector)},
                 "template": released_template(cp.entry.template, cp.entry.digest)}
    if cp.bounds is not None:  # its HPA sets the replicas; Argo CD must not set them back
        del d["spec"]["replicas"]
    return d


def _without_template(manifest: dict[str, Any]) -> dict[str, Any]:
    return {**manifest, "spec": {k: v for k, v in manifest["spec"].items() if k != "template"}}


def _idle_replicas(intent: Intent, replicas: int) -> int:
    return replicas if intent.idle_replicas is None else intent.idle_replicas


def _bounds(intent: Intent, active: bool, replicas: int) -> tuple[int, int] | None:
    """The HPA's bounds: spec.autoscaling's for the active color; for the idle color, held at its
    count, so that its Deployment never carries spec.replicas either and a promotion changes
    only the HPA (a Deployment that drops spec.replicas would fall back to 1 replica). An idle
    color at 0 replicas has no HPA (an HPA cannot go below 1): its Deployment says 0."""
    scaling = intent.autoscaling
    if scaling is None or replicas == 0:
        return None
    return (scaling.min_replicas, scaling.max_replicas) if active else (replicas, replicas)
