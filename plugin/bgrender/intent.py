"""bluegreen.yaml → Intent: structure (spec.py) plus the rules that relate fields.

Every problem is collected before anything is raised, so a user fixes a file in one pass.
A relation rule only speaks when the fields it reads are themselves well formed; a
wrongly typed field has already been reported by the structural check.
"""

from __future__ import annotations

import re

from . import spec
from .colors import COLORS, Color, other
from .companions import Autoscaling, ConfigMapSpec, autoscaling_of, config_map_specs, relation_problems
from .errors import InvalidInput, Problem
from .files import unsafe_path_reason
from .record import Record
from .yamldoc import Document

TYPE_CHECKING = False  # the typing module costs ~3 ms at startup; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, Literal


class SmokeTest(Record):
    path: str
    expect_status: int
    image: str
    timeout_seconds: int


class Intent(Record):
    """bluegreen.yaml after validation; defaults not yet applied where they need the base."""

    file: str  # as shown in messages
    name: str
    namespace: str | None
    image: str
    active: Color
    versions: dict[Color, str | None]
    deployment: str | None  # base manifest path, relative to the intent's directory
    template: dict[str, Any] | None  # or an inline PodTemplateSpec
    container: str | None
    replicas: int | None
    idle_replicas: int | None
    color_label: str
    version_label: str
    service_name: str
    port: int | None
    header: str
    hosts: tuple[str, ...]
    gateways: tuple[str, ...]
    virtual_service: str
    destination_rule: str
    mode: Literal["manual", "auto"]
    smoke_test: SmokeTest | None
    resources: tuple[str, ...] = ()  # more manifests, relative to the intent's directory
    config_maps: tuple[ConfigMapSpec, ...] = ()
    autoscaling: Autoscaling | None = None
    disruption_budget: dict[str, Any] | None = None  # the PodDisruptionBudget's spec, without its selector

    @property
    def idle(self) -> Color:
        return other(self.active)


def parse_intent(doc: Document) -> Intent:
    problems = spec.check(spec.INTENT, doc.data, (), doc)
    broken = {p.path for p in problems}
    problems += _relation_problems(doc, _Fields(doc.data, broken))
    if problems:
        raise InvalidInput(problems)
    return _build(_without_nulls(doc.data), doc.file)


class _Fields:
    """Reads values by path, answering None for anything missing or reported broken."""

    def __init__(self, data: Any, broken: set[str]):
        self.data, self.broken = data, broken

    def get(self, *path: str) -> Any:
        value = self.data
        for i, key in enumerate(path):
            if not isinstance(value, dict) or ".".join(path[: i + 1]) in self.broken:
                return None
            value = value.get(key)
        return value


def _relation_problems(doc: Document, f: _Fields) -> list[Problem]:
    if f.get("spec") is None:
        return []
    return (_base_problems(doc, f) + _active_version_problems(doc, f) + _promotion_problems(doc, f)
            + _label_key_problems(doc, f) + relation_problems(doc, f.get))


def _base_problems(doc: Document, f: _Fields) -> list[Problem]:
    deployment, template = f.get("spec", "deployment"), f.get("spec", "template")
    if deployment is not None and template is not None:
        return [doc.problem(("spec", "template"), "set either spec.deployment or spec.template, not both",
                            key=True)]
    if deployment is None and template is None and not f.broken & {"spec.deployment", "spec.template"}:
        return [doc.problem(("spec",), "required: spec.deployment (a base Deployment file) "
                                       "or spec.template (an inline PodTemplateSpec)")]
    if isinstance(deployment, str) and (reason := unsafe_path_reason(deployment)):
        return [doc.problem(("spec", "deployment"), reason)]
    return []


def _active_version_problems(doc: Document, f: _Fields) -> list[Problem]:
    active = f.get("spec", "active")
    if active not in COLORS or f.get("spec", active, "version") is not None \
            or f.broken & {f"spec.{active}", f"spec.{active}.version"}:
        return []
    return [doc.problem(("spec", "active"), f'the active color "{active}" has no version; '
                                            f"set spec.{active}.version")]


def _promotion_problems(doc: Document, f: _Fields) -> list[Problem]:
    smoke = f.get("spec", "promotion", "smokeTest")
    if smoke is None:
        if f.get("spec", "promotion", "mode") == "auto" and "spec.promotion.smokeTest" not in f.broken:
            return [doc.problem(("spec", "promotion", "mode"), "mode auto needs spec.promotion.smokeTest: "
                                "traffic must not move to a release nothing has tested")]
        return []
    problems = _smoke_test_reach_problems(doc, f)
    if f.get("spec", "idleReplicas") == 0:
        # The test reaches the new active color through the header route of the VirtualService
        # that is still live; a color with no replicas has no such route, so the request would
        # fall through to the old production color and test the wrong release.
        problems.append(doc.problem(("spec", "idleReplicas"), "must be at least 1 with a smoke test: the test "
                                    "reaches a color through its header route, which exists only while the "
                                    "color runs"))
    return problems


def _label_key_problems(doc: Document, f: _Fields) -> list[Problem]:
    color = f.get("spec", "labels", "color") or _default("labels", "color")
    version = f.get("spec", "labels", "version") or _default("labels", "version")
    if color == version:
        return [doc.problem(("spec", "labels", "version"), "must differ from spec.labels.color")]
    return []


def _smoke_test_reach_problems(doc: Document, f: _Fields) -> list[Problem]:
    """The smoke test calls the Service from a pod in the mesh; the VirtualService's header
    routes apply to that call only if they cover the Service host and the mesh gateway."""
    problems = []
    service = f.get("spec", "service", "name") or f.get("metadata", "name")
    hosts, gateways = f.get("spec", "routing", "hosts"), f.get("spec", "routing", "gateways")
    if isinstance(gateways, list) and "mesh" not in gateways:
        problems.append(doc.problem(("spec", "routing", "gateways"), 'must include "mesh" with a smoke test: '
                                    "the test calls the Service from inside the mesh"))
    if isinstance(hosts, list) and isinstance(service, str) and not any(_names_service(h, service) for h in hosts):
        problems.append(doc.problem(("spec", "routing", "hosts"), f'must include the Service host "{service}" '
                                    "with a smoke test: the test calls the Service by that name"))
    return problems


def _names_service(host: Any, service: str) -> bool:
    """"web", "web.shop", "web.shop.svc" and "web.shop.svc.cluster.local" all name Service web."""
    pattern = rf"{re.escape(service)}(\.[a-z0-9-]+(\.svc(\..+)?)?)?"
    return isinstance(host, str) and re.fullmatch(pattern, host) is not None


def _without_nulls(data: Any) -> Any:
    """Optional keys set to null count as absent (spec.check allowed them)."""
    if isinstance(data, dict):
        return {k: _without_nulls(v) for k, v in data.items() if v is not None}
    return data


def _build(data: dict[str, Any], file: str) -> Intent:
    s = data["spec"]
    name = data["metadata"]["name"]
    labels, service, routing = s.get("labels", {}), s.get("service", {}), s.get("routing", {})
    promotion = s.get("promotion", {})
    service_name = service.get("name", name)
    return Intent(
        file=file,
        name=name,
        namespace=data["metadata"].get("namespace"),
        image=s["image"],
        active=s["active"],
        versions={c: (s.get(c) or {}).get("version") for c in COLORS},
        deployment=s.get("deployment"),
        template=s.get("template"),
        container=s.get("container"),
        replicas=s.get("replicas"),
        idle_replicas=s.get("idleReplicas"),
        color_label=labels.get("color", _default("labels", "color")),
        version_label=labels.get("version", _default("labels", "version")),
        service_name=service_name,
        port=service.get("port"),
        header=routing.get("header", _default("routing", "header")),
        hosts=tuple(routing.get("hosts", [service_name])),
        gateways=tuple(routing.get("gateways", [])),
        virtual_service=routing.get("virtualService", name),
        destination_rule=routing.get("destinationRule", name),
        mode=promotion.get("mode", _default("promotion", "mode")),
        smoke_test=_smoke_test(promotion.get("smokeTest")),
        resources=tuple(s.get("resources", ())),
        config_maps=config_map_specs(s.get("configMaps", [])),
        autoscaling=autoscaling_of(s.get("autoscaling")),
        disruption_budget=s.get("podDisruptionBudget"),
    )


def _smoke_test(raw: dict[str, Any] | None) -> SmokeTest | None:
    if raw is None:
        return None
    return SmokeTest(
        path=raw["path"],
        expect_status=raw.get("expectStatus", _default("promotion", "smokeTest", "expectStatus")),
        image=raw.get("image", _default("promotion", "smokeTest", "image")),
        timeout_seconds=raw.get("timeoutSeconds", _default("promotion", "smokeTest", "timeoutSeconds")),
    )


def _default(*path: str) -> Any:
    """The default declared in spec.py, so docs, schema and code agree."""
    node: Any = spec.INTENT.fields["spec"]
    for key in path:
        node = node.fields[key]
    return node.default

