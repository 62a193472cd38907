"""The shape of bluegreen.yaml, declared once.

`check` walks a loaded document against it and reports every structural problem;
`schema.py` turns the same declaration into the JSON Schema that `bgrender schema`
prints, so the editor's view of the format and the validator cannot drift apart.
Rules that relate several fields (an active color needs a version, ...) live in intent.py.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.errors import Problem, quote
from bgrender.intent.nodes import Map, Mapping, Object, Scalar, Sequence
from bgrender.intent.routes import FIELDS as ROUTE_FIELDS  # routing.policy, match, trafficPolicy, mirror
from bgrender.labels import MAX_DNS_LABEL, MAX_DNS_SUBDOMAIN
from bgrender.record import Record
from bgrender.yamlfile.document import Document, Path

if TYPE_CHECKING:
    from typing import Any

    from bgrender.intent.nodes import Node

API_VERSION = "bgrender.io/v1alpha1"  # of bluegreen.yaml and of its lock

# Patterns are written in the subset that both Python's re and JSON Schema (ECMA-262) share.
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"  # a DNS-1123 label, unanchored; every DNS pattern is built on it
_SUBDOMAIN = rf"{_LABEL}(\.{_LABEL})*"
DNS_LABEL = rf"^{_LABEL}$"
DNS_SUBDOMAIN = rf"^{_SUBDOMAIN}$"
GATEWAY_REF = rf"^({_LABEL}/)?{_LABEL}$"  # a Gateway: name, or namespace/name
KUBE_API_VERSION = rf"^({_SUBDOMAIN}/)?v[0-9]+((alpha|beta)[0-9]+)?$"  # a Kubernetes apiVersion: [group/]version
# An optional DNS subdomain prefix of at most 253 characters (the lookahead), "/", and a name
# of at most 63.
LABEL_KEY = rf"^(?![^/]{{254}})({_SUBDOMAIN}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{{0,61}}[A-Za-z0-9])?$"
IMAGE_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
DIGEST = r"sha256:[a-f0-9]{64}"
VERSION = rf"^({IMAGE_TAG}|{DIGEST})$"
DIGEST_PATTERN = rf"^{DIGEST}$"
# An image repository as the distribution reference grammar defines it, without tag or digest.
_DOMAIN_PART = r"([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_PATH_PART = r"[a-z0-9]+(([._]|__|[-]+)[a-z0-9]+)*"
IMAGE_REPOSITORY = (rf"^({_DOMAIN_PART}(\.{_DOMAIN_PART})*(:[0-9]+)?/)?"
                    rf"{_PATH_PART}(/{_PATH_PART})*$")
KIND = r"^[A-Z][A-Za-z0-9]*$"  # a Kubernetes kind, as spec.resources' objects name theirs
IMAGE_REFERENCE = r"^[^\s]+$"  # an image with its tag or digest, as a container's `image` takes it
# RFC 7230 token characters, lowercase only: Istio matches header keys in lowercase.
HEADER_NAME = r"^[a-z0-9!#$%&'*+.^_`|~-]+$"
HTTP_PATH = r"^/[^\s]*$"
# A named port (IANA service name): at most 15 lowercase letters, digits and "-", with a letter,
# no "-" at either end or twice in a row.
PORT_NAME = r"^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$"
NAME_FOR_COLOR = MAX_DNS_LABEL - len("-green")  # "<name>-green" must still be a DNS label
INT32_MAX = 2**31 - 1  # Kubernetes' replica counts are int32


# --- routing providers: their names, APIs and the routing keys each reads -------------------

# The gateway name meaning "callers inside the mesh" (Istio's; bgrender uses it for every provider).
MESH = "mesh"


class Provider(Record):
    """A routing provider (DESIGN §10); routing/ builds and reads its objects."""

    name: str  # as spec.routing.provider says it
    group: str  # the API group of its objects ("" for the core group)
    versions: tuple[str, ...]  # the API versions bgrender can write, newest first
    api: str  # its API, for messages
    product: str  # what serves that API, for messages
    routing_keys: frozenset[str]  # the spec.routing keys it reads besides `provider`


ISTIO = Provider("istio", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"),  # v1 since Istio 1.22
                 "Istio networking API", "Istio",
                 frozenset({"header", "hosts", "gateways", "meshRouting", "preview", "virtualService",
                            "destinationRule", "policy", "match", "trafficPolicy", "mirror"}))
GATEWAY_API = Provider("gateway-api", "gateway.networking.k8s.io", ("v1", "v1beta1"),  # HTTPRoute is v1 since 1.0
                       "HTTPRoute API", "the Gateway API",
                       frozenset({"header", "hosts", "gateways", "meshRouting", "preview", "httpRoute", "policy",
                                  "match", "mirror"}))
SERVICE = Provider("service", "", ("v1",), "the core API", "the core API", frozenset())  # always served

PROVIDERS = {p.name: p for p in (ISTIO, GATEWAY_API, SERVICE)}


# The node types the declaration is built of are in nodes.py, re-exported: spec.Scalar, spec.Mapping, ...
__all__ = ["Map", "Mapping", "Object", "Scalar", "Sequence"]


def _dns_label(description: str, max_length: int = MAX_DNS_LABEL) -> Scalar:
    return Scalar(str, description, pattern=DNS_LABEL, max_length=max_length,
                  hint='must be a DNS-1123 label (lowercase letters, digits and "-")')


def dns_subdomain(description: str) -> Scalar:
    return Scalar(str, description, pattern=DNS_SUBDOMAIN, max_length=MAX_DNS_SUBDOMAIN,
                  hint="must be a DNS-1123 subdomain")


def _color(name: str) -> Mapping:
    return Mapping(f"The {name} color.", {
        "version": Scalar(str, "Image tag, or sha256:<64 hex> digest, that this color runs; "
                               "absent means the color is not deployed.",
                          pattern=VERSION, hint='must be an image tag or a "sha256:<64 hex>" digest'),
    })


# --- companion objects (DESIGN §11) ----------------------------------------------------------

# A Kubernetes quantity ("500m", "1Gi", "2.5"), as the API's own schema writes it.
QUANTITY = (r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]"
            r"|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$")
# A ConfigMap key: not "." or "..", nor starting with ".." (the kubelet's own names in a volume).
CONFIG_KEY = r"^(?!\.\.)(?!\.$)[-._a-zA-Z0-9]+$"
CONFIG_KEY_HINT = 'must be a ConfigMap key (letters, digits, "-", "_", "."; not "." or "..", nor starting with "..")'
# A quantity above zero (an HPA target's value): no sign but "+", a non-zero digit before the suffix.
POSITIVE_QUANTITY = (r"^\+?(?=[0-9.]*[1-9])(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]"
                     r"|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$")
PERCENT = r"^(100|[1-9]?[0-9])%$"  # 0% to 100%
# An HTTPRoute hostname (Gateway API): lowercase DNS labels, optionally "*." first; no port, no
# trailing dot, no bare "*".
ROUTE_HOSTNAME = rf"^(\*\.)?{_SUBDOMAIN}$"
MAX_ROUTE_HOSTNAMES = 16  # the HTTPRoute CRD's maxItems
MAX_ROUTE_PARENTS = 32  # likewise
CONFIG_MAP_NAME_LENGTH = 242  # "<name>-<10 hex>" must still be a 253-character DNS subdomain
MAX_COMPANION_FILES = 100  # per list: far beyond a real app, and a bound on what one render opens


def _path(description: str) -> Scalar:
    return Scalar(str, description, max_length=1024)


def _int_or_string(description: str, pattern: str, hint: str, minimum: int = 0) -> Scalar:
    """A count, or a string such as "50%" or "500m", as Kubernetes' IntOrString and Quantity."""
    return Scalar((int, str), description, pattern=pattern, hint=hint, minimum=minimum, maximum=INT32_MAX,
                  max_length=64)


def _quantity(description: str) -> Scalar:
    """An HPA target's value: Kubernetes requires it positive."""
    return _int_or_string(description, POSITIVE_QUANTITY, 'must be a quantity above zero such as 500m, 2 or "1Gi"',
                          minimum=1)


def _percent_or_count(description: str) -> Scalar:
    return _int_or_string(description, PERCENT, 'must be a count or a percent from "0%" to "100%"')


def _metric_target() -> Mapping:
    return Mapping("The value the metric is held at.", {
        "type": Scalar(str, "Utilization, Value or AverageValue.", enum=("Utilization", "Value", "AverageValue")),
        "averageUtilization": Scalar(int, "Percent of the pods' requests (type Utilization).", minimum=1,
                                     maximum=INT32_MAX),
        "averageValue": _quantity("Per-pod value (type AverageValue)."),
        "value": _quantity("Value (type Value)."),
    }, required=("type",))


def _metric_identifier() -> Mapping:
    return Mapping("The metric's name and selector.", {
        "name": Scalar(str, "Metric name.", max_length=253),
        "selector": Object("A label selector narrowing the metric."),
    }, required=("name",))


def _scaling_rules(direction: str) -> Mapping:
    return Mapping(f"How fast to scale {direction}.", {
        "stabilizationWindowSeconds": Scalar(int, "Past recommendations considered.", minimum=0, maximum=3600),
        "selectPolicy": Scalar(str, "Which policy wins.", enum=("Max", "Min", "Disabled")),
        "policies": Sequence("Scaling policies.", Mapping("A scaling policy.", {
            "type": Scalar(str, "Pods or Percent.", enum=("Pods", "Percent")),
            "value": Scalar(int, "How many pods, or percent of them.", minimum=1, maximum=INT32_MAX),
            "periodSeconds": Scalar(int, "Over how long.", minimum=1, maximum=1800),
        }, required=("type", "value", "periodSeconds")), min_items=1),
    })


METRIC_TYPES = {"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
                "Object": "object", "External": "external"}
METRIC = Mapping("A metric the HPA scales on (autoscaling/v2 MetricSpec).", {
    "type": Scalar(str, "Which of the fields below holds the metric.", enum=tuple(METRIC_TYPES)),
    "resource": Mapping("CPU or memory of the pods.", {
        "name": Scalar(str, "cpu or memory.", max_length=253), "target": _metric_target(),
    }, required=("name", "target")),
    "containerResource": Mapping("CPU or memory of one container of the pods.", {
        "name": Scalar(str, "cpu or memory.", max_length=253),
        "container": Scalar(str, "The container.", max_length=253), "target": _metric_target(),
    }, required=("name", "container", "target")),
    "pods": Mapping("A metric of each pod.", {"metric": _metric_identifier(), "target": _metric_target()},
                    required=("metric", "target")),
    "object": Mapping("A metric of another object.", {
        "describedObject": Mapping("The object.", {
            "apiVersion": Scalar(str, "Its apiVersion.", max_length=253),
            "kind": Scalar(str, "Its kind.", max_length=253),
            "name": Scalar(str, "Its name.", max_length=253),
        }, required=("kind", "name")),
        "metric": _metric_identifier(), "target": _metric_target(),
    }, required=("describedObject", "metric", "target")),
    "external": Mapping("A metric from outside the cluster.", {"metric": _metric_identifier(),
                                                                "target": _metric_target()},
                        required=("metric", "target")),
}, required=("type",))

COMPANIONS: dict[str, Node] = {
    "resources": Sequence("More manifests of the app (relative paths), emitted as they are in wave -1 unless "
                          "they set a wave.", _path("A manifest file: one or more YAML documents."),
                          min_items=1, max_items=MAX_COMPANION_FILES),
    "configMaps": Sequence("ConfigMaps named <name>-<hash of the content>, pinned with each color's release.",
                           Mapping("A ConfigMap; the pod template refers to it by `name`.", {
                               "name": Scalar(str, "The name the pod template uses.", pattern=DNS_SUBDOMAIN,
                                              max_length=CONFIG_MAP_NAME_LENGTH,
                                              hint="must be a DNS-1123 subdomain"),
                               "files": Sequence("Text files (relative paths); each file's name is its key.",
                                                 _path("A file."), min_items=1, max_items=MAX_COMPANION_FILES),
                               "data": Map("Keys and their string values.",
                                           Scalar(str, "A key.", pattern=CONFIG_KEY, max_length=253,
                                                  hint=CONFIG_KEY_HINT),
                                           Scalar(str, "A value.")),
                           }, required=("name",)), min_items=1, max_items=MAX_COMPANION_FILES),
    "autoscaling": Mapping("A HorizontalPodAutoscaler per color: the active color's scales between these bounds, "
                           "the idle color's is held at idleReplicas.", {
        "minReplicas": Scalar(int, "Fewest replicas of the active color; a promoted color starts here.", minimum=1,
                              maximum=INT32_MAX),
        "maxReplicas": Scalar(int, "Most replicas of the active color.", minimum=1, maximum=INT32_MAX),
        "metrics": Sequence("What to scale on (default: 80% average CPU utilization).", METRIC, min_items=1),
        "behavior": Mapping("Scaling speed.", {"scaleUp": _scaling_rules("up"),
                                               "scaleDown": _scaling_rules("down")}),
    }, required=("minReplicas", "maxReplicas")),
    "podDisruptionBudget": Mapping("A PodDisruptionBudget per color; set minAvailable or maxUnavailable.", {
        "minAvailable": _percent_or_count("Pods of a color that must stay up (a count or a percent)."),
        "maxUnavailable": _percent_or_count("Pods of a color that may be down (a count or a percent)."),
        "unhealthyPodEvictionPolicy": Scalar(str, "IfHealthyBudget (Kubernetes' default) or AlwaysAllow.",
                                             enum=("IfHealthyBudget", "AlwaysAllow")),
    }),
}


# --- metric gates (DESIGN §17) ----------------------------------------------------------------

# `result <op> <number>`; intent/analysis.py parses it by hand (a test holds the two equal).
CONDITION = r"^ *result *(<=|>=|==|!=|<|>) *[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)? *$"
CONDITION_HINT = 'must be "result <op> <number>", with <op> one of < <= > >= == != (e.g. "result < 0.01")'
PROMETHEUS_URL = r"^https?://[^\s/?#@]+(/[^\s?#]*)?$"


def _condition(description: str) -> Scalar:
    return Scalar(str, description, pattern=CONDITION, max_length=128, hint=CONDITION_HINT)


def _query(template: bool) -> Mapping:
    variables = " It may use {{ name }}, {{ namespace }}, {{ color }}, {{ version }} and {{ service }}." \
        if template else ""
    return Mapping("A PromQL query and the condition every sample of its result must meet; set "
                   "successCondition or failureCondition.", {
        "name": _dns_label("Names the query in the report."),
        "query": Scalar(str, "A PromQL instant query (a vector or a scalar)." + variables, max_length=8192),
        "successCondition": _condition("Every sample must meet it, e.g. `result < 0.01`."),
        "failureCondition": _condition("A sample meeting it fails the measurement, e.g. `result > 500`."),
    }, required=("name", "query"))


def _analysis_settings(defaults: bool) -> dict[str, Node]:
    def default_(value: int) -> int | None:
        return value if defaults else None

    return {
        "address": Scalar(str, "Prometheus' base URL, e.g. http://prometheus.monitoring:9090.",
                          pattern=PROMETHEUS_URL, max_length=2048,
                          hint="must be an http:// or https:// URL without credentials, query or fragment"),
        "interval": Scalar(int, "Seconds between two measurements of the queries.", minimum=1, maximum=3600,
                           default=default_(30)),
        "count": Scalar(int, "Measurements of each query.", minimum=1, maximum=100, default=default_(3)),
        "failureLimit": Scalar(int, "Failed measurements of a query tolerated; one more fails the analysis.",
                               minimum=0, maximum=99, default=default_(0)),
        "inconclusiveLimit": Scalar(int, "Inconclusive measurements of a query tolerated (no sample, NaN, "
                                         "Prometheus unreachable); one more ends the analysis inconclusive.",
                                    minimum=0, maximum=99, default=default_(0)),
        "timeoutSeconds": Scalar(int, "How long one query may take.", minimum=1, maximum=300,
                                 default=default_(10)),
    }


ANALYSIS = Mapping("Prometheus queries that gate production (https://bgrender.github.io/bgrender/metric-gates/): "
                   "`before` the switch, on the color about to take production (and in manual mode on the idle color "
                   "after a release), `after` it, on the new production color. A failed analysis fails the sync.", {
    **_analysis_settings(defaults=True),
    "queries": Sequence("The queries; each is measured `count` times.", _query(template=True), min_items=1,
                        max_items=20),
    "before": Scalar(bool, "Run before traffic moves (a Sync hook after the smoke test).", default=True),
    "after": Scalar(bool, "Run after the sync on the production color (a PostSync hook).", default=False),
}, required=("address", "queries"))

# What a hook Job measures, as the render writes it into $BGRENDER_ANALYSIS: the same fields, the
# queries with their variables replaced, every setting explicit.
ANALYSIS_RUN = Mapping("One analysis of one color, as rendered for `bgrender analyze --rendered`.", {
    "color": Scalar(str, "The color measured.", enum=("blue", "green")),
    **_analysis_settings(defaults=False),
    "queries": Sequence("The queries, variables replaced.", _query(template=False), min_items=1, max_items=20),
}, required=("color", "address", "interval", "count", "failureLimit", "inconclusiveLimit", "timeoutSeconds",
             "queries"))


# --- weighted steps (DESIGN §18) --------------------------------------------------------------

TRAFFIC = Mapping("A weighted step: a share of production for the idle color, which must be deployed with "
                  "replicas; it runs the active color's replicas, and its smoke test and `before` analysis pass "
                  "before the share moves. Written by `bgrender promote --percent N`; `bgrender promote` completes "
                  "the switch and removes it, `bgrender rollback` removes it. Not with routing.provider service.", {
    "percent": Scalar(int, "The idle color's share of production traffic, in percent (1 to 99).", minimum=1,
                      maximum=99),
}, required=("percent",))


INTENT = Mapping("A blue/green app rendered by bgrender.", {
    "apiVersion": Scalar(str, f"Always {API_VERSION}.", enum=(API_VERSION,)),
    "kind": Scalar(str, "Always BlueGreen.", enum=("BlueGreen",)),
    "metadata": Mapping("Name and namespace of the app.", {
        "name": _dns_label("App name; color Deployments are named <name>-<color>.", NAME_FOR_COLOR),
        "namespace": _dns_label("Namespace; default $ARGOCD_APP_NAMESPACE, else none."),
    }, required=("name",)),
    "spec": Mapping("What runs and where traffic goes.", {
        "image": Scalar(str, "Image repository without tag or digest; the version supplies it.",
                        pattern=IMAGE_REPOSITORY, max_length=255,
                        hint="must be an image repository without tag or digest (e.g. registry.example.com/team/app)"),
        "active": Scalar(str, "The color serving production traffic.", enum=("blue", "green")),
        "blue": _color("blue"),
        "green": _color("green"),
        "deployment": Scalar(str, "Base Deployment manifest, relative to this file.", max_length=1024),
        "template": Object("Inline PodTemplateSpec, instead of `deployment`."),
        "container": _dns_label("The container that runs `image` (default: the only one, or the one "
                                "whose image repository equals `image`)."),
        "replicas": Scalar(int, "Replicas of the active color (default: the base's, else 1).", minimum=0,
                           maximum=INT32_MAX),
        "idleReplicas": Scalar(int, "Replicas of the idle color (default: replicas); 0 turns it off.",
                               minimum=0, maximum=INT32_MAX),
        "labels": Mapping("Label keys bgrender adds.", {
            "color": Scalar(str, "Label key carrying the color (selectors, pods, subsets).",
                            pattern=LABEL_KEY, hint="must be a Kubernetes label key",
                            max_length=317, default="bgrender.io/color"),
            "version": Scalar(str, "Label key carrying the version (pod templates only).",
                              pattern=LABEL_KEY, hint="must be a Kubernetes label key",
                              max_length=317, default="version"),
        }),
        "service": Mapping("The Service in front of both colors.", {
            "name": _dns_label("Service name (default metadata.name); each color has its own Service, "
                               "<name>-<color>.", NAME_FOR_COLOR),
            "port": Scalar(int, "Service port (default: the container's only containerPort).",
                           minimum=1, maximum=65535),
            "targetPort": Scalar((int, str), "Port of the app container behind the Service: a containerPort "
                                             "or the name of one (default: the container's only port, "
                                             "else spec.service.port).", minimum=1, maximum=65535,
                                 pattern=PORT_NAME, max_length=15,
                                 hint="must be a port number or a port name (at most 15 lowercase letters, "
                                      'digits and "-", with a letter)'),
        }),
        "routing": Mapping("How production traffic and previews reach the colors "
                           "(https://bgrender.github.io/bgrender/routing/).", {
            "provider": Scalar(str, "istio: a VirtualService (and DestinationRules with routing.trafficPolicy); "
                                    "gateway-api: HTTPRoutes; service: the Service selects the active color (no "
                                    "mesh).",
                               enum=tuple(PROVIDERS), default="istio"),
            "header": Scalar(str, "Request header that picks a color on preview routes: `<header>: green` reaches "
                                  "green.", pattern=HEADER_NAME, max_length=256, default="x-bgrender-color",
                             hint="must be a lowercase HTTP header name (Istio matches lowercase keys)"),
            "hosts": Sequence("Hosts routed (default: istio [service name]; gateway-api: every host of the "
                              "Gateways' listeners).",
                              Scalar(str, "A host.", pattern=r"^[^\s]+$", hint="must not contain spaces",
                                     max_length=253), min_items=1),
            "gateways": Sequence("Gateways the production route applies on: istio, Gateway names and `mesh` "
                                 "(default: mesh only); gateway-api, `namespace/name` of Gateways (default: none).",
                                 Scalar(str, "A gateway.", pattern=r"^[^\s]+$", hint="must not contain spaces",
                                        max_length=253), min_items=1),
            "meshRouting": Scalar(bool, "Route in-mesh callers too: istio, `gateways` must include `mesh`; "
                                        "gateway-api, the route also attaches to the Service (GAMMA). Set false "
                                        "to route only at the named gateways.", default=True),
            "preview": Mapping("Where the header routes to each color apply.", {
                "gateways": Sequence("Gateways the header routes apply on, a subset of `gateways` (default: the "
                                     "mesh only; never a public gateway unless named here).",
                                     Scalar(str, "A gateway.", pattern=r"^[^\s]+$", hint="must not contain spaces",
                                            max_length=253)),
            }),
            "virtualService": dns_subdomain("VirtualService name (default metadata.name)."),
            "destinationRule": dns_subdomain("Base name of the per-color DestinationRules that "
                                             "routing.trafficPolicy renders, <name>-<color> (default "
                                             "metadata.name); routing by host renders none without it.")
                               .replace(max_length=MAX_DNS_SUBDOMAIN - len("-green")),
            "httpRoute": Scalar(str, "Base name of the HTTPRoutes (default metadata.name): <name> on the Service "
                                     "(mesh), <name>-gateway on the Gateways, <name>-preview and "
                                     "<name>-gateway-preview for the header routes.", pattern=DNS_SUBDOMAIN,
                                max_length=MAX_DNS_SUBDOMAIN - len("-gateway-preview"),
                                hint="must be a DNS-1123 subdomain"),
            **ROUTE_FIELDS,
        }),
        "promotion": Mapping("How production traffic moves.", {
            "mode": Scalar(str, "manual: promote by editing `active`; auto: release also promotes.",
                           enum=("manual", "auto"), default="manual"),
            "smokeTest": Mapping("A Job that calls a color's own Service: before production moves to the color "
                                 "(it must pass), and in manual mode after each sync, on the idle color.", {
                "path": Scalar(str, "HTTP path to request.", pattern=HTTP_PATH, max_length=2048,
                               hint='must be an HTTP path starting with "/" without spaces'),
                "expectStatus": Scalar(int, "Expected HTTP status.", minimum=100, maximum=599, default=200),
                "image": Scalar(str, "Image with curl and sh (it runs as a non-root user).", pattern=r"^[^\s]+$",
                                max_length=512, hint="must be an image reference", default="curlimages/curl:8.11.1"),
                "timeoutSeconds": Scalar(int, "How long to retry before failing the sync.",
                                         minimum=1, maximum=3600, default=60),
                "serviceAccountName": dns_subdomain("The test pod's service account (for an AuthorizationPolicy "
                                                     "that admits only known callers)."),
                "imagePullSecrets": Sequence("Secrets to pull the image with, by name.",
                                             dns_subdomain("A Secret's name."), min_items=1),
            }, required=("path",)),
            "analysis": ANALYSIS,
            "image": Scalar(str, "The bgrender image that hook Jobs running bgrender use (the analyses, and the "
                                 "capacity hook of autoscaling; default: $BGRENDER_IMAGE, which argocd-cm-patch sets "
                                 "on the sidecar to its own image).", pattern=IMAGE_REFERENCE, max_length=512,
                            hint="must be an image reference"),
            "scaleDownDelaySeconds": Scalar(int, "How long the color losing production traffic keeps its replicas "
                                                 "after the switch (proxies need time to apply the new routes); "
                                                 "0 turns it off.", minimum=0, maximum=3600, default=30),
        }),
        "traffic": TRAFFIC,
        **COMPANIONS,
    }, required=("image", "active")),
}, required=("apiVersion", "kind", "metadata", "spec"))


def check(node: Node, value: Any, path: Path, doc: Document) -> list[Problem]:
    """Every structural problem of `value` against `node`, with positions from `doc`."""
    if isinstance(node, (Mapping, Object)):
        if not isinstance(value, dict):
            return [doc.problem(path, f"must be a mapping, got {_kind(value)}")]
        return _check_mapping(node, value, path, doc) if isinstance(node, Mapping) else []
    if isinstance(node, Sequence):
        if not isinstance(value, list):
            return [doc.problem(path, f"must be a list, got {_kind(value)}")]
        if len(value) < node.min_items:
            return [doc.problem(path, f"must hold at least {node.min_items} item(s)")]
        if node.max_items is not None and len(value) > node.max_items:
            return [doc.problem(path, f"must hold at most {node.max_items} items, got {len(value)}")]
        return [p for i, item in enumerate(value) for p in check(node.item, item, path + (i,), doc)]
    if isinstance(node, Map):
        if not isinstance(value, dict):
            return [doc.problem(path, f"must be a mapping, got {_kind(value)}")]
        return [p for key, item in value.items() for p in _check_scalar(node.key, key, path + (key,), doc, key=True)
                + check(node.value, item, path + (key,), doc)]
    return _check_scalar(node, value, path, doc)


def _check_mapping(node: Mapping, value: dict, path: Path, doc: Document) -> list[Problem]:
    problems = []
    for key, item in value.items():
        if key in node.fields:
            if item is None and key not in node.required:
                continue  # `green:` with nothing after it means no green, as in Kubernetes
            problems += check(node.fields[key], item, path + (key,), doc)
        else:
            problems.append(doc.problem(path + (key,), _unknown_key(key, node), key=True))
    for key in node.required:
        if key not in value:
            problems.append(doc.problem(path, f"required key {key!r} is missing"))
    return problems


def _unknown_key(key: str, node: Mapping) -> str:
    import difflib  # only on the error path

    close = difflib.get_close_matches(key, node.fields, n=1)
    return f"unknown key {quote(key)}" + (f' (did you mean "{close[0]}"?)' if close else "")


def _check_scalar(node: Scalar, value: Any, path: Path, doc: Document, key: bool = False) -> list[Problem]:
    def problem(message: str) -> list[Problem]:
        return [doc.problem(path, message, key=key)]

    if node.type == (int, str):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return problem(f"must be an integer or a string, got {_kind(value)}")
        return _check_scalar(node.replace(type=type(value)), value, path, doc, key)
    if node.type is int and (isinstance(value, bool) or not isinstance(value, int)):
        return problem(f"must be an integer, got {_kind(value)}")
    if node.type is bool and not isinstance(value, bool):
        return problem(f"must be true or false, got {_kind(value)}")
    if node.type is str and not isinstance(value, str):
        advice = " (quote it)" if isinstance(value, (int, float, bool)) else ""
        return problem(f"must be a string, got {_kind(value)}{advice}")
    if node.enum and value not in node.enum:
        choices = ", ".join(f'"{c}"' for c in node.enum)
        return problem(f"must be one of {choices}, got {quote(value)}")
    if isinstance(value, str) and node.max_length is not None and len(value) > node.max_length:
        return problem(f"must be at most {node.max_length} characters, got {len(value)}")
    if isinstance(value, str) and node.pattern and not matches(node.pattern, value):
        return problem(f"{node.hint}, got {quote(value)}")
    if isinstance(value, int) and node.minimum is not None and value < node.minimum:
        return problem(f"must be at least {node.minimum}, got {value}")
    if isinstance(value, int) and node.maximum is not None and value > node.maximum:
        return problem(f"must be at most {node.maximum}, got {value}")
    return []


def is_dns_label(value: object) -> bool:
    """A DNS-1123 label of at most 63 characters: a namespace's name, for one."""
    return isinstance(value, str) and len(value) <= MAX_DNS_LABEL and matches(DNS_LABEL, value)


def matches(pattern: str, value: str) -> bool:
    """The whole value matches; Python's "$" would also accept a trailing newline. The common
    patterns first try a check without re (compiling one costs about 1 M instructions, and a
    render meets seven), which accepts only what the pattern does; the pattern has the last word."""
    fast = _FAST_CHECKS.get(pattern)
    if fast is not None and fast(value):
        return True
    import re  # not at import: a render whose values pass the fast checks never needs it

    return re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value) is not None


_LOWER_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ALNUM = _LOWER_ALNUM | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LABEL_CHARS = _LOWER_ALNUM | {"-"}
_HOST_CHARS = _ALNUM | {"-"}
_TAG_CHARS = _ALNUM | frozenset("_.-")
_HEADER_CHARS = _LOWER_ALNUM | frozenset("!#$%&'*+.^_`|~-")
_HEX = frozenset("0123456789abcdef")


def _is_label(value: str, chars: frozenset[str] = _LABEL_CHARS) -> bool:
    return value[:1] not in ("", "-") and value[-1] != "-" and chars.issuperset(value)


def _is_subdomain(value: str) -> bool:
    return all(_is_label(part) for part in value.split("."))


def _is_version(value: str) -> bool:
    if value.startswith("sha256:"):
        return _is_digest(value)
    return 0 < len(value) <= 128 and value[0] not in ".-" and _TAG_CHARS.issuperset(value)


def _is_digest(value: str) -> bool:
    return len(value) == 71 and value.startswith("sha256:") and _HEX.issuperset(value[7:])


def _is_label_key(value: str) -> bool:
    prefix, slash, name = value.rpartition("/")
    return (not slash or (len(prefix) <= MAX_DNS_SUBDOMAIN and _is_subdomain(prefix))) and 0 < len(name) <= 63 \
        and name[0] in _ALNUM and name[-1] in _ALNUM and _TAG_CHARS.issuperset(name)


def _is_image_repository(value: str) -> bool:
    first, *rest = value.split("/")
    host, colon, port = first.partition(":")
    if rest and (port.isdigit() or not colon) and port.isascii() \
            and all(_is_label(part, _HOST_CHARS) for part in host.split(".")):
        first = rest.pop(0)
    # A path component: lowercase letters and digits, separated by ".", "_", "__" or dashes.
    return all(_is_label(piece) for c in (first, *rest) for piece in c.replace("__", "_").replace(".", "_").split("_"))


def _is_image_reference(value: str) -> bool:
    return value != "" and not any(map(str.isspace, value))  # `\s` is str.isspace (both follow Unicode)


def _is_http_path(value: str) -> bool:
    return value[:1] == "/" and not any(map(str.isspace, value))


def _is_gateway_ref(value: str) -> bool:
    namespace, slash, name = value.rpartition("/")
    return _is_label(name) and (not slash or _is_label(namespace))


def _is_config_key(value: str) -> bool:
    return value not in ("", ".") and not value.startswith("..") and _TAG_CHARS.issuperset(value)


def _is_kube_api_version(value: str) -> bool:
    group, slash, version = value.rpartition("/")
    if (slash and not _is_subdomain(group)) or version[:1] != "v":
        return False
    number = version[1:]
    for stage in ("alpha", "beta"):
        number, found, level = number.partition(stage)
        if found:
            return _is_digits(number) and _is_digits(level)
    return _is_digits(number)


def _is_digits(value: str) -> bool:
    return value.isdigit() and value.isascii()  # [0-9]+ (isdigit alone takes "²" too)


def _is_kind(value: str) -> bool:
    return "A" <= value[:1] <= "Z" and _ALNUM.issuperset(value)


def _is_port_name(value: str) -> bool:
    return len(value) <= 15 and _is_label(value) and "--" not in value and any("a" <= c <= "z" for c in value)


_FAST_CHECKS = {DNS_LABEL: _is_label, DNS_SUBDOMAIN: _is_subdomain, VERSION: _is_version, DIGEST_PATTERN: _is_digest,
                LABEL_KEY: _is_label_key, IMAGE_REPOSITORY: _is_image_repository,
                HEADER_NAME: lambda value: value != "" and _HEADER_CHARS.issuperset(value),
                IMAGE_REFERENCE: _is_image_reference, HTTP_PATH: _is_http_path, GATEWAY_REF: _is_gateway_ref,
                ROUTE_HOSTNAME: lambda value: _is_subdomain(value.removeprefix("*.")), CONFIG_KEY: _is_config_key,
                KUBE_API_VERSION: _is_kube_api_version, KIND: _is_kind, PORT_NAME: _is_port_name}


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "a mapping", type(None): "null"}
    return names.get(type(value), type(value).__name__)




def default(*path: str) -> Any:
    """The default declared here for spec.<path>, so docs, schema and code agree."""
    node: Any = INTENT.fields["spec"]
    for key in path:
        node = node.fields[key]
    return node.default


def mapping(*path: str) -> Mapping:
    """The Mapping declared here for spec.<path> (every step of it a Mapping)."""
    node = INTENT
    for key in ("spec", *path):
        child = node.fields[key]
        assert isinstance(child, Mapping)
        node = child
    return node


# --- paths written in bluegreen.yaml ---------------------------------------------------------


def unsafe_path_reason(rel: str) -> str | None:
    """Why a path written in bluegreen.yaml may not be used, or None when it may.

    POSIX rules, as the sidecar reads the repository on Linux: "a:deployment.yaml" and
    "a\\b.yaml" are ordinary relative names there, not a drive and a separator. ".." may leave
    the app directory (DESIGN §19: environments share a base); where a path may lead is the
    reader's to check, which confines what it resolves to to the repository (app/repository.py)."""
    if not rel:
        return "must not be empty"
    if "\x00" in rel:
        return "must not contain NUL bytes"
    if rel.startswith("/"):
        return "must be relative to the directory of bluegreen.yaml, not absolute"
    return None
