"""The Plan: everything a render needs, resolved from the intent, its base Deployment and the
environment. `resolve` settles every default; it is pure (no I/O), like the render after it.
"""

from __future__ import annotations

from . import waves
from .base import Base, target_port
from .colors import COLORS, Color
from .env import Options
from .errors import InvalidInput, Problem
from .intent import Intent
from .record import Record
from .templating import expand
from .yamldoc import Document

TYPE_CHECKING = False  # the typing module costs ~3 ms at startup; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


class ColorPlan(Record):
    color: Color
    deployment_name: str
    version: str
    replicas: int
    wave: int
    base: dict[str, Any]  # the base Deployment with this color's templates expanded


class Plan(Record):
    """Everything a render needs, resolved: no defaults left, no I/O left."""

    intent: Intent
    base_name: str  # color Deployments are named "<base_name>-<color>"
    container_index: int  # which container of the base runs spec.image
    namespace: str | None
    istio_api: str  # e.g. "networking.istio.io/v1"
    app_labels: dict[str, str]  # the base selector: selects both colors
    port: int  # the Service port
    target_port: int | str  # the container port behind it, or its name
    colors: dict[Color, ColorPlan]  # only the colors that have a version

    @property
    def active(self) -> Color:
        return self.intent.active

    def deployment_name(self, color: Color) -> str:
        return f"{self.base_name}-{color}"


def resolve(intent: Intent, intent_doc: Document, base: Base, options: Options) -> Plan:
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
            wave=waves.ACTIVE if active else waves.IDLE,
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
        target_port=target,
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
