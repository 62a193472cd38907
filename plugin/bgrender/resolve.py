"""Intent + base Deployment + environment → Plan. Pure: every default is settled here."""

from __future__ import annotations

from .base import Base
from .env import Options
from .errors import InvalidInput, Problem
from .model import COLORS, WAVE_ACTIVE, WAVE_IDLE, Color, ColorPlan, Intent, Plan
from .templating import expand
from .yamldoc import Document


def resolve(intent: Intent, intent_doc: Document, base: Base, options: Options) -> Plan:
    problems: list[Problem] = []
    namespace = intent.namespace or options.namespace
    port = intent.port or base.container_port
    if port is None:
        problems.append(intent_doc.problem(("spec",), "no port to route to: set spec.service.port (the app "
                                                      "container does not declare exactly one containerPort)"))
    replicas = _replicas(intent, intent_doc, base, problems)
    colors: dict[Color, ColorPlan] = {}
    for color in COLORS:
        version = intent.versions[color]
        if version is None:
            continue
        context = {"name": intent.name, "color": color, "version": version,
                   "image": image_reference(intent.image, version)}
        if namespace:
            context["namespace"] = namespace
        expanded, template_problems = expand(base.manifest, context, base.doc.problem)
        problems += template_problems
        active = color == intent.active
        colors[color] = ColorPlan(
            color=color,
            deployment_name=f"{base.name}-{color}",
            version=version,
            replicas=replicas if active else _idle_replicas(intent, replicas),
            wave=WAVE_ACTIVE if active else WAVE_IDLE,
            base=expanded,
        )
    if problems:
        raise InvalidInput(problems)
    assert port is not None
    return Plan(
        intent=intent,
        base_name=base.name,
        container_index=base.container_index,
        namespace=namespace,
        istio_api=options.istio_api,
        app_labels=base.app_labels,
        port=port,
        target_port=base.container_port or port,
        colors=colors,
    )


def _replicas(intent: Intent, intent_doc: Document, base: Base, problems: list[Problem]) -> int:
    """Replicas of the active color: spec.replicas, else the base's (null counts as absent),
    else 1; never 0, since the active color serves production."""
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


def image_reference(image: str, version: str) -> str:
    return f"{image}@{version}" if version.startswith("sha256:") else f"{image}:{version}"
