"""The Plan: everything a render needs, resolved from the intent, its base Deployment and the
environment. `resolve` settles every default; it is pure (no I/O), like the render after it.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, routing, waves
from bgrender.colors import COLORS, Color
from bgrender.errors import InvalidInput, Problem
from bgrender.intent.base_deployment import Base, target_port
from bgrender.intent.env import Options, unserved_problem
from bgrender.intent.intent import Intent
from bgrender.intent.resources import Resource
from bgrender.labels import selector_labels
from bgrender.lock.lockfile import Entry, Lock, LockFile, pin_color, pinned_entry, recorded, template_context
from bgrender.plan.templating import expand
from bgrender.record import Record
from bgrender.render.companions import NONE, Companions
from bgrender.yamlfile.document import Document

if TYPE_CHECKING:
    from typing import Any


class ColorPlan(Record):
    color: Color
    version: str
    replicas: int  # what the color runs; with an HPA, the fewest it runs (minReplicas, or idleReplicas)
    bounds: tuple[int, int] | None  # the HPA's minReplicas and maxReplicas; None: no HPA, spec.replicas is set
    wave: int
    shell: dict[str, Any]  # the base Deployment without its pod template, this color's templates expanded
    entry: Entry  # what the color runs: its selector and pod template (from the lock, or pinned now)


class Plan(Record):
    """Everything a render needs, resolved: no defaults left, no I/O left."""

    intent: Intent
    base_name: str  # color Deployments are named "<base_name>-<color>"
    namespace: str | None
    routing_api: str  # the apiVersion of the provider's objects, e.g. "networking.istio.io/v1"
    app_labels: dict[str, str]  # the base selector: selects both colors
    port: int  # the Service port
    target_port: int | str  # the container port behind it, or its name
    colors: dict[Color, ColorPlan]  # only the colors that have a version
    resources: tuple[Resource, ...]  # spec.resources, checked, as written
    pins: Lock  # the entries the colors render from, and the production history
    locked: bool  # whether the entries come from bluegreen.lock.yaml (else from the base, now)

    @property
    def active(self) -> Color:
        return self.intent.active

    def deployment_name(self, color: Color) -> str:
        return f"{self.base_name}-{color}"


def resolve(intent: Intent, intent_doc: Document, base: Base, options: Options,
            lock_file: LockFile | None = None, companions: Companions = NONE) -> Plan:
    """The Plan. With a lock each color takes its pod template and config from its entry, so an
    edit of the base or the config reaches no color; without one (an app not yet released with
    bgrender) each color is pinned from the base and config now, as its first release will pin
    it."""
    problems: list[Problem] = []
    namespace = intent.namespace or options.namespace
    port = intent.port or base.container_port
    if port is None:
        problems.append(intent_doc.problem(("spec",), "no port to route to: set spec.service.port (the app "
                                                      "container does not declare exactly one containerPort)"))
    target, reason = target_port(base, intent.target_port, port)
    if reason:
        problems.append(intent_doc.problem(("spec", "service", "port" if intent.target_port is None else "targetPort"),
                                           reason))
    replicas = _replicas(intent, intent_doc, base, problems)
    routing_api = _routing_api(intent, options, problems)
    shell_manifest = _without_template(base.manifest)
    colors: dict[Color, ColorPlan] = {}
    for color in COLORS:
        version = intent.versions[color]
        if version is None:
            continue
        context = template_context(intent, namespace, color, version)
        shell, shell_problems = expand(shell_manifest, context, base.doc.problem)
        if lock_file is None:
            entry, entry_problems = pin_color(intent, base, companions.config_maps, namespace, color, version)
        else:
            selector = selector_labels(base.app_labels, intent.color_label, color)
            entry, entry_problems = pinned_entry(lock_file, intent, intent_doc, color, selector)
        problems += shell_problems + entry_problems
        if entry is None:
            continue
        active = color == intent.active
        count = replicas if active else _idle_replicas(intent, replicas)
        colors[color] = ColorPlan(
            color=color,
            version=version,
            replicas=count,
            bounds=_bounds(intent, active, count),
            wave=waves.ACTIVE if active else waves.IDLE,
            shell=shell,
            entry=entry,
        )
    if problems:
        raise InvalidInput(problems)
    assert port is not None
    pins = lock_file.lock if lock_file else recorded(Lock({c: cp.entry for c, cp in colors.items()}), intent.active)
    return Plan(
        intent=intent,
        base_name=base.name,
        namespace=namespace,
        routing_api=routing_api,
        app_labels=base.app_labels,
        port=port,
        target_port=target,
        colors=colors,
        resources=companions.resources,
        pins=pins,
        locked=lock_file is not None,
    )


def _routing_api(intent: Intent, options: Options, problems: list[Problem]) -> str:
    """The newest API version of the routing provider's objects that the destination serves."""
    provider = routing.provider(intent.provider)
    api = options.api_version(provider.GROUP, provider.VERSIONS)
    if api is None:
        problems.append(unserved_problem(provider.API, provider.PRODUCT, provider.GROUP, provider.VERSIONS))
    return api or ""


def _without_template(manifest: dict[str, Any]) -> dict[str, Any]:
    return {**manifest, "spec": {k: v for k, v in manifest["spec"].items() if k != "template"}}


def _replicas(intent: Intent, intent_doc: Document, base: Base, problems: list[Problem]) -> int:
    """Replicas of the active color: spec.autoscaling.minReplicas, else spec.replicas, else the
    base's (null counts as absent), else 1; never 0, since the active color serves production."""
    if intent.autoscaling is not None:
        return intent.autoscaling.min_replicas
    if intent.replicas is not None:
        replicas, doc = intent.replicas, intent_doc
    else:
        from_base = base.manifest["spec"].get("replicas")
        replicas, doc = (1 if from_base is None else from_base), base.doc
    if replicas == 0:
        problems.append(doc.problem(("spec", "replicas"), "the active color serves production traffic and "
                                                          "needs at least 1 replica"))
    return replicas


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
