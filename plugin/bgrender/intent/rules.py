"""The rules that relate fields of bluegreen.yaml, each a small function, collected in RULES.

spec.py checks each field on its own; a rule here reads several and yields a Problem (with
its position) for each way they disagree. A rule speaks only of fields that are themselves
well formed: `Fields.get` answers None for anything missing or already reported, so a badly
typed field is reported once, by spec.py. The next rule is one more function in RULES.
"""

from __future__ import annotations

import os

from bgrender import TYPE_CHECKING
from bgrender.colors import COLORS
from bgrender.errors import Problem, quote
from bgrender.intent import routes, spec
from bgrender.intent.spec import CONFIG_KEY, MESH, METRIC_TYPES, PROVIDERS, matches, unsafe_path_reason
from bgrender.intent.traffic import share_goes_to_a_color_with_pods, share_needs_weighted_routes
from bgrender.labels import MAX_DNS_LABEL, MAX_DNS_SUBDOMAIN
from bgrender.yamlfile.document import Document

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any



class Fields:
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

    def routing(self, key: str) -> Any:
        """spec.routing.<key>, else its declared default."""
        value = self.get("spec", "routing", key)
        return spec.default("routing", key) if value is None else value


def relation_problems(doc: Document, broken: set[str]) -> list[Problem]:
    fields = Fields(doc.data, broken)
    if fields.get("spec") is None:
        return []
    return [problem for rule in RULES for problem in rule(doc, fields)]


# --- the base and the colors ----------------------------------------------------------------


def one_base(doc: Document, f: Fields) -> Iterator[Problem]:
    """Exactly one of spec.deployment and spec.template, and a safe path.
    FAIL: {deployment: deployment.yaml, template: {...}}; {deployment: /etc/x.yaml}
    PASS: {deployment: deployment.yaml}"""
    deployment, template = f.get("spec", "deployment"), f.get("spec", "template")
    if deployment is not None and template is not None:
        yield doc.problem(("spec", "template"), "set either spec.deployment or spec.template, not both", key=True)
    elif deployment is None and template is None and not f.broken & {"spec.deployment", "spec.template"}:
        yield doc.problem(("spec",), "required: spec.deployment (a base Deployment file) "
                                     "or spec.template (an inline PodTemplateSpec)")
    elif isinstance(deployment, str) and (reason := unsafe_path_reason(deployment)):
        yield doc.problem(("spec", "deployment"), reason)


def active_has_a_version(doc: Document, f: Fields) -> Iterator[Problem]:
    """FAIL: {active: green, green: {}}   PASS: {active: green, green: {version: v2}}
    With no version anywhere (a new app), the fix is a first release, which pins it too."""
    active = f.get("spec", "active")
    if active in COLORS and f.get("spec", active, "version") is None \
            and not f.broken & {f"spec.{active}", f"spec.{active}.version"}:
        other = next(c for c in COLORS if c != active)
        fix = f"set spec.{active}.version" if f.get("spec", other, "version") is not None else (
            f"no color has one yet: run `bgrender release VERSION`, whose first release goes to {active}")
        yield doc.problem(("spec", "active"), f'the active color "{active}" has no version; {fix}')


def label_keys_differ(doc: Document, f: Fields) -> Iterator[Problem]:
    """FAIL: labels: {color: tier, version: tier}"""
    color = f.get("spec", "labels", "color") or spec.default("labels", "color")
    version = f.get("spec", "labels", "version") or spec.default("labels", "version")
    if color == version:
        yield doc.problem(("spec", "labels", "version"), "must differ from spec.labels.color")


# --- promotion --------------------------------------------------------------------------------


def auto_needs_a_smoke_test(doc: Document, f: Fields) -> Iterator[Problem]:
    """Traffic must not move to a release nothing has tested.
    FAIL: promotion: {mode: auto}   PASS: promotion: {mode: auto, smokeTest: {path: /healthz}}"""
    if f.get("spec", "promotion", "mode") == "auto" and f.get("spec", "promotion", "smokeTest") is None \
            and "spec.promotion.smokeTest" not in f.broken:
        yield doc.problem(("spec", "promotion", "mode"), "mode auto needs spec.promotion.smokeTest: "
                                                         "traffic must not move to a release nothing has tested")


def analysis_queries_are_well_formed(doc: Document, f: Fields) -> list[Problem]:
    """Each query named once, with exactly one condition, and variables that exist.
    FAIL: queries: [{name: errors, query: "up", successCondition: "result > 0", failureCondition: "result < 1"}]
    FAIL: queries: [{name: errors, query: 'up{pod="{{ pod }}"}', successCondition: "result > 0"}]
    PASS: queries: [{name: errors, query: 'up{namespace="{{ namespace }}"}', successCondition: "result > 0"}]"""
    at = ("spec", "promotion", "analysis", "queries")
    queries = f.get(*at)
    if queries is None:
        return []
    from bgrender.intent.analysis import query_problems  # only for an app with metric gates

    return query_problems(doc, queries, at)


def analysis_limits_can_be_reached(doc: Document, f: Fields) -> list[Problem]:
    """A limit of `count` or more could never be passed, and an analysis that runs neither
    before nor after the switch gates nothing.
    FAIL: analysis: {count: 3, failureLimit: 3, ...}; analysis: {before: false, ...}"""
    at = ("spec", "promotion", "analysis")
    analysis = f.get(*at)
    if not isinstance(analysis, dict):
        return []
    problems = []
    count = f.get(*at, "count") or spec.default("promotion", "analysis", "count")
    for key in ("failureLimit", "inconclusiveLimit"):
        limit = f.get(*at, key)
        if isinstance(limit, int) and isinstance(count, int) and limit >= count:
            problems.append(doc.problem(at + (key,), f"must be less than count ({count}), got {limit}: "
                                                     "the analysis could never end on it"))
    if f.get(*at, "before") is False and f.get(*at, "after") in (False, None):
        problems.append(doc.problem(at, "runs neither before nor after the switch: set before or after to true"))
    return problems


# --- routing (DESIGN §10) -------------------------------------------------------------------


def routing_keys_fit_the_provider(doc: Document, f: Fields) -> Iterator[Problem]:
    """A routing key the provider does not read would be silently ignored: name it.
    FAIL: routing: {provider: service, header: x-color}"""
    routing, provider = f.get("spec", "routing"), f.routing("provider")
    if not isinstance(routing, dict) or provider not in PROVIDERS:
        return
    for key, value in routing.items():
        if key != "provider" and key in spec.mapping("routing").fields \
                and key not in PROVIDERS[provider].routing_keys and value is not None:
            yield doc.problem(("spec", "routing", key), routes.refusal(key, provider)
                              or f"has no effect with routing.provider {provider}", key=True)


def mesh_callers_are_routed(doc: Document, f: Fields) -> Iterator[Problem]:
    """istio: a VirtualService with `gateways` routes in-mesh callers only if `mesh` is one
    of them; otherwise they reach the active color through the Service, with no preview. Say
    it is intended.
    FAIL: routing: {gateways: [istio-system/public]}
    PASS: routing: {gateways: [istio-system/public, mesh]}
    PASS: routing: {gateways: [istio-system/public], meshRouting: false}"""
    if f.routing("provider") != "istio" or "spec.routing.gateways" in f.broken:
        return
    gateways, mesh = f.get("spec", "routing", "gateways"), f.routing("meshRouting")
    if mesh is True and gateways and MESH not in gateways:
        yield doc.problem(("spec", "routing", "gateways"), 'must include "mesh": without it, callers inside the '
                          "mesh are not routed by the VirtualService (they reach the active color through the "
                          "Service, with no preview); set spec.routing.meshRouting: false if that is intended")
    if mesh is False and (not gateways or MESH in gateways):
        yield doc.problem(("spec", "routing", "meshRouting"), "is false, but the VirtualService applies in the mesh"
                          + (' ("mesh" is among spec.routing.gateways)' if gateways else
                             " (it has no gateways, which means the mesh)"))


def gateway_api_parents(doc: Document, f: Fields) -> Iterator[Problem]:
    """gateway-api: gateways are `namespace/name` of Gateways (the mesh is meshRouting), and
    the routes need a parent: a Gateway, or the Service with meshRouting.
    FAIL: routing: {provider: gateway-api, gateways: [mesh]}
    FAIL: routing: {provider: gateway-api, meshRouting: false}"""
    if f.routing("provider") != "gateway-api":
        return
    gateways = f.get("spec", "routing", "gateways") or []
    seen: dict[str, int] = {}
    for i, gateway in enumerate(gateways):
        if gateway == MESH:
            yield doc.problem(("spec", "routing", "gateways", i), 'is not a Gateway: in-mesh callers are routed '
                                                                  "through the Service with spec.routing.meshRouting")
        elif isinstance(gateway, str) and not _is_gateway_ref(gateway):
            yield doc.problem(("spec", "routing", "gateways", i), f"must be a Gateway as name or namespace/name "
                                                                  f"(DNS-1123 labels, a namespace of at most 63 "
                                                                  f"characters), got {quote(gateway)}")
        elif isinstance(gateway, str) and seen.setdefault(gateway, i) != i:
            yield doc.problem(("spec", "routing", "gateways", i), f"{quote(gateway)} is named twice (also at "
                                                                  f"spec.routing.gateways[{seen[gateway]}])")
    parents = len(gateways) + (f.routing("meshRouting") is True)
    if parents > spec.MAX_ROUTE_PARENTS:
        yield doc.problem(("spec", "routing", "gateways"), f"an HTTPRoute takes at most {spec.MAX_ROUTE_PARENTS} "
                                                           f"parents; these make {parents}")
    if not gateways and f.routing("meshRouting") is False:
        yield doc.problem(("spec", "routing", "meshRouting"), "is false and spec.routing.gateways is empty: the "
                                                              "HTTPRoute would attach to nothing")


def _is_gateway_ref(ref: str) -> bool:
    namespace, _, name = ref.rpartition("/")
    return spec.matches(spec.GATEWAY_REF, ref) and len(namespace) <= MAX_DNS_LABEL and len(name) <= MAX_DNS_SUBDOMAIN


def gateway_api_hostnames(doc: Document, f: Fields) -> Iterator[Problem]:
    """gateway-api: each host is an HTTPRoute hostname, and a route holds at most 16.
    FAIL: routing: {provider: gateway-api, hosts: [Shop.example.com, "shop.example.com:443", "*", shop.]}"""
    hosts = f.get("spec", "routing", "hosts")
    if f.routing("provider") != "gateway-api" or not isinstance(hosts, list):
        return
    for i, host in enumerate(hosts):
        if isinstance(host, str) and not spec.matches(spec.ROUTE_HOSTNAME, host):
            yield doc.problem(("spec", "routing", "hosts", i), "must be an HTTPRoute hostname (lowercase DNS labels, "
                                                               f'optionally "*." first; no port), got {quote(host)}')
    if len(hosts) > spec.MAX_ROUTE_HOSTNAMES:
        yield doc.problem(("spec", "routing", "hosts"), f"an HTTPRoute takes at most {spec.MAX_ROUTE_HOSTNAMES} "
                                                        f"hostnames, got {len(hosts)}")


def previews_stay_inside(doc: Document, f: Fields) -> Iterator[Problem]:
    """Header routes apply only where the production route applies too, and only where they
    are asked for (DESIGN principle 9): each preview gateway must be a routed one.
    FAIL: routing: {gateways: [public, mesh], preview: {gateways: [internal]}}"""
    previews = f.get("spec", "routing", "preview", "gateways")
    if not isinstance(previews, list) or f.routing("provider") not in ("istio", "gateway-api"):
        return
    gateways = f.get("spec", "routing", "gateways") or []
    mesh = f.routing("meshRouting") is True and (f.routing("provider") == "gateway-api" or not gateways
                                                 or MESH in gateways)
    routed = set(gateways) | ({MESH} if mesh else set())
    where = ", ".join(map(quote, sorted(routed))) or "nowhere"
    for i, gateway in enumerate(previews):
        if isinstance(gateway, str) and gateway not in routed:
            yield doc.problem(("spec", "routing", "preview", "gateways", i),
                              f"{quote(gateway)} is not where the routes apply ({where})")


# --- companion objects (DESIGN §11) ----------------------------------------------------------


def resource_paths_are_safe(doc: Document, f: Fields) -> list[Problem]:
    """FAIL: resources: [/etc/passwd]"""
    return _path_problems(doc, f.get("spec", "resources"))


def _path_problems(doc: Document, paths: Any, at: tuple = ("spec", "resources")) -> list[Problem]:
    if not isinstance(paths, list):
        return []
    return [doc.problem(at + (i,), reason) for i, path in enumerate(paths)
            if isinstance(path, str) and (reason := unsafe_path_reason(path))]


def config_maps_are_well_formed(doc: Document, f: Fields) -> list[Problem]:
    """Each ConfigMap once, with files or data, each file name a key used once."""
    config_maps = f.get("spec", "configMaps")
    if not isinstance(config_maps, list):
        return []
    problems: list[Problem] = []
    names: dict[str, int] = {}
    for i, entry in enumerate(config_maps):
        at = ("spec", "configMaps", i)
        if not isinstance(entry, dict):
            continue
        if entry.get("files") is None and entry.get("data") is None:
            problems.append(doc.problem(at, "set files, data or both"))
        if isinstance(entry.get("name"), str) and names.setdefault(entry["name"], i) != i:
            problems.append(doc.problem(at + ("name",), f"{quote(entry['name'])} is declared twice (also at "
                                                        f"spec.configMaps[{names[entry['name']]}])"))
        problems += _path_problems(doc, entry.get("files"), at + ("files",)) + _key_problems(doc, entry, at)
    return problems


def _key_problems(doc: Document, entry: dict[str, Any], at: tuple) -> list[Problem]:
    """Each file is stored under its file name, which must be a ConfigMap key no other file or
    data entry of the ConfigMap uses."""
    files, data = entry.get("files"), entry.get("data")
    keys = set(data) if isinstance(data, dict) else set()
    problems = []
    for i, path in enumerate(files if isinstance(files, list) else []):
        key = os.path.basename(path) if isinstance(path, str) else None
        if key is None or unsafe_path_reason(path):
            continue
        if not matches(CONFIG_KEY, key) or len(key) > MAX_DNS_SUBDOMAIN:
            problems.append(doc.problem(at + ("files", i), f"the file name {quote(key)} is its key in the "
                                        'ConfigMap, and must be one (at most 253 letters, digits, "-", "_", "."; '
                                        'not "." or "..", nor starting with "..")'))
        elif key in keys:
            problems.append(doc.problem(at + ("files", i), f"the key {quote(key)} is used twice in this ConfigMap"))
        keys.add(key)
    return problems


def autoscaling_bounds_the_replicas(doc: Document, f: Fields) -> list[Problem]:
    """FAIL: {replicas: 3, autoscaling: {minReplicas: 2, maxReplicas: 1}}"""
    get = f.get
    scaling = get("spec", "autoscaling")
    if not isinstance(scaling, dict):
        return []
    at = ("spec", "autoscaling")
    problems = []
    low, high = get(*at, "minReplicas"), get(*at, "maxReplicas")
    if isinstance(low, int) and isinstance(high, int) and high < low:
        problems.append(doc.problem(at + ("maxReplicas",), f"must be at least minReplicas ({low}), got {high}"))
    if get("spec", "replicas") is not None:
        problems.append(doc.problem(("spec", "replicas"), "is set by the HPA with spec.autoscaling (from minReplicas "
                                                          "to maxReplicas); remove it"))
    for i, metric in enumerate(get("spec", "autoscaling", "metrics") or []):
        problems += _metric_problems(doc, metric, at + ("metrics", i))
    return problems


def _metric_problems(doc: Document, metric: Any, at: tuple) -> list[Problem]:
    """A metric holds exactly the field its type names, and a target the value its type names."""
    if not isinstance(metric, dict) or metric.get("type") not in METRIC_TYPES:
        return []
    field = METRIC_TYPES[metric["type"]]
    problems = [doc.problem(at + (other,), f"does not go with type {metric['type']} (which reads {field})", key=True)
                for other in METRIC_TYPES.values() if other != field and other in metric]
    if field not in metric:
        return problems + [doc.problem(at, f"type {metric['type']} needs {field}")]
    target = metric[field].get("target") if isinstance(metric[field], dict) else None
    wanted = {"Utilization": "averageUtilization", "Value": "value", "AverageValue": "averageValue"}
    if isinstance(target, dict) and isinstance(target.get("type"), str):
        needed = wanted.get(target["type"])
        if needed is not None and needed not in target:
            problems.append(doc.problem(at + (field, "target"), f"type {target['type']} needs {needed}"))
    return problems


def one_disruption_budget_field(doc: Document, f: Fields) -> list[Problem]:
    """FAIL: podDisruptionBudget: {minAvailable: 1, maxUnavailable: 1}"""
    budget = f.get("spec", "podDisruptionBudget")
    if isinstance(budget, dict) and ("minAvailable" in budget) == ("maxUnavailable" in budget):
        return [doc.problem(("spec", "podDisruptionBudget"), "set exactly one of minAvailable and maxUnavailable")]
    return []


RULES: tuple[Callable[[Document, Fields], Iterable[Problem]], ...] = (
    one_base,
    active_has_a_version,
    label_keys_differ,
    auto_needs_a_smoke_test,
    analysis_queries_are_well_formed,
    analysis_limits_can_be_reached,
    routing_keys_fit_the_provider,
    mesh_callers_are_routed,
    gateway_api_parents,
    gateway_api_hostnames,
    previews_stay_inside,
    *routes.RULES,  # routing.policy, match, trafficPolicy, mirror (DESIGN §18)
    resource_paths_are_safe,
    config_maps_are_well_formed,
    autoscaling_bounds_the_replicas,
    one_disruption_budget_field,
    share_needs_weighted_routes,  # spec.traffic: intent/traffic.py
    share_goes_to_a_color_with_pods,
)
