"""The Intent: bluegreen.yaml validated, as the values every later stage reads.

Its structure is declared in spec.py and the rules relating its fields are in rules.py;
every problem is collected before anything is raised, so a user fixes a file in one pass.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.colors import COLORS, Color
from bgrender.errors import InvalidInput
from bgrender.intent import spec
from bgrender.intent.rules import relation_problems
from bgrender.intent.spec import MESH, default
from bgrender.record import Record
from bgrender.yamlfile.document import Document

if TYPE_CHECKING:
    from typing import Any, Literal

    from bgrender.intent.analysis import Analysis


class ConfigMapSpec(Record):
    name: str
    files: tuple[str, ...]
    data: dict[str, str]


class Autoscaling(Record):
    min_replicas: int
    max_replicas: int
    metrics: list[dict[str, Any]] | None
    behavior: dict[str, Any] | None


class SmokeTest(Record):
    path: str
    expect_status: int
    image: str
    timeout_seconds: int
    service_account: str | None
    pull_secrets: tuple[str, ...]


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
    target_port: int | str | None  # a containerPort of the app container, or its name
    provider: Literal["istio", "gateway-api", "service"]
    header: str
    hosts: tuple[str, ...]
    gateways: tuple[str, ...]
    mesh_routing: bool
    preview_gateways: tuple[str, ...]  # where header routes apply; "mesh" for in-mesh callers
    virtual_service: str
    destination_rule: str
    http_route: str
    mode: Literal["manual", "auto"]
    smoke_test: SmokeTest | None
    scale_down_delay: int  # seconds the color losing traffic keeps its replicas after the switch
    bgrender_image: str | None  # promotion.image: what hooks running bgrender run (else $BGRENDER_IMAGE)
    resources: tuple[str, ...] = ()  # more manifests, relative to the intent's directory
    config_maps: tuple[ConfigMapSpec, ...] = ()
    autoscaling: Autoscaling | None = None
    disruption_budget: dict[str, Any] | None = None  # the PodDisruptionBudget's spec, without its selector
    analysis: Analysis | None = None  # the metric gates (DESIGN §17)
    # What routes carry besides their destination (DESIGN §18), as validated by intent/routes.py:
    policy: dict[str, Any] | None = None  # routing.policy
    match: dict[str, str] | None = None  # routing.match: {prefix: PATH} or {exact: PATH}
    traffic_policy: dict[str, Any] | None = None  # routing.trafficPolicy (istio)
    mirror_percent: int | None = None  # routing.mirror.percent
    traffic: int | None = None  # spec.traffic.percent: the idle color's share of production (DESIGN §18)


def parse_intent(doc: Document) -> Intent:
    """The Intent of a loaded bluegreen.yaml: its structure checked against spec.py, then every
    rule of rules.py; all problems at once, or InvalidInput."""
    problems = spec.check(spec.INTENT, doc.data, (), doc)
    problems += relation_problems(doc, {p.path for p in problems})
    if problems:
        raise InvalidInput(problems)
    return _build(_without_nulls(doc.data), doc.file)


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
    provider = routing.get("provider", default("routing", "provider"))
    mesh = routing.get("meshRouting", default("routing", "meshRouting"))
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
        color_label=labels.get("color", default("labels", "color")),
        version_label=labels.get("version", default("labels", "version")),
        service_name=service_name,
        port=service.get("port"),
        target_port=service.get("targetPort"),
        provider=provider,
        header=routing.get("header", default("routing", "header")),
        hosts=tuple(routing.get("hosts", [service_name] if provider == "istio" else [])),
        gateways=tuple(routing.get("gateways", [])),
        mesh_routing=mesh,
        preview_gateways=tuple((routing.get("preview") or {}).get("gateways", [MESH] if mesh else [])),
        virtual_service=routing.get("virtualService", name),
        destination_rule=routing.get("destinationRule", name),
        http_route=routing.get("httpRoute", name),
        mode=promotion.get("mode", default("promotion", "mode")),
        smoke_test=_smoke_test(promotion.get("smokeTest")),
        scale_down_delay=promotion.get("scaleDownDelaySeconds", default("promotion", "scaleDownDelaySeconds")),
        bgrender_image=promotion.get("image"),
        resources=tuple(s.get("resources", ())),
        config_maps=_config_maps(s.get("configMaps", [])),
        autoscaling=_autoscaling(s.get("autoscaling")),
        disruption_budget=s.get("podDisruptionBudget"),
        analysis=_analysis(promotion.get("analysis")),
        policy=routing.get("policy"),
        match=routing.get("match"),
        traffic_policy=routing.get("trafficPolicy"),
        mirror_percent=(routing.get("mirror") or {}).get("percent"),
        traffic=(s.get("traffic") or {}).get("percent"),
    )


def _config_maps(raw: list[dict[str, Any]]) -> tuple[ConfigMapSpec, ...]:
    return tuple(ConfigMapSpec(c["name"], tuple(c.get("files", ())), dict(c.get("data", {}))) for c in raw)


def _autoscaling(raw: dict[str, Any] | None) -> Autoscaling | None:
    if raw is None:
        return None
    return Autoscaling(raw["minReplicas"], raw["maxReplicas"], raw.get("metrics"), raw.get("behavior"))


def _analysis(raw: dict[str, Any] | None) -> Analysis | None:
    if raw is None:
        return None
    from bgrender.intent.analysis import Analysis, query_from  # only for an app with metric gates

    def setting(key: str) -> Any:
        return raw.get(key, default("promotion", "analysis", key))

    return Analysis(
        address=raw["address"], queries=tuple(query_from(q) for q in raw["queries"]), interval=setting("interval"),
        count=setting("count"), failure_limit=setting("failureLimit"), inconclusive_limit=setting("inconclusiveLimit"),
        timeout_seconds=setting("timeoutSeconds"), before=setting("before"), after=setting("after"),
    )


def _smoke_test(raw: dict[str, Any] | None) -> SmokeTest | None:
    if raw is None:
        return None
    return SmokeTest(
        path=raw["path"],
        expect_status=raw.get("expectStatus", default("promotion", "smokeTest", "expectStatus")),
        image=raw.get("image", default("promotion", "smokeTest", "image")),
        timeout_seconds=raw.get("timeoutSeconds", default("promotion", "smokeTest", "timeoutSeconds")),
        service_account=raw.get("serviceAccountName"),
        pull_secrets=tuple(raw.get("imagePullSecrets", ())),
    )


