"""Routing (DESIGN §10): the objects that send production traffic to the active color and
previews to each color, and reading a live one back into "which color gets production".

One room per provider (istio.py, gateway_api.py, service.py), each owning both directions:
`objects(plan)` builds what a render emits; `production(obj, plan)` reads the live object
that `live(plan)` names. This package builds the Services every provider has: the app's
Service and one per deployed color (`<service>-<color>`: stable names for previews, smoke
tests and Gateway API backends). Pure: no I/O; live/ fetches (cluster.py), status.py compares.
"""

from __future__ import annotations

import sys

from bgrender import TYPE_CHECKING, labels, names, waves
from bgrender.colors import COLORS, Color, other
from bgrender.labels import selector_labels
from bgrender.record import Record

if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

    from bgrender.intent.spec import Provider
    from bgrender.plan.plan import Plan


def provider(name: str) -> ModuleType:
    """The room of routing.provider `name` (spec.PROVIDERS): `gateway-api` is gateway_api.py.
    Imported when an app names it: a render loads only its own provider."""
    module = f"{__name__}.{name.replace('-', '_')}"
    __import__(module)  # importlib.import_module would first import importlib (~0.6 ms)
    return sys.modules[module]


class LiveObject(Record):
    """The live object that says where production goes, as the API serves it."""

    product: str  # what serves its API, for messages ("Istio")
    kind: str
    group: str  # "" for the core group
    versions: tuple[str, ...]  # newest first
    resource: str  # the plural, as RBAC names it
    name: str


def live_object(provider: Provider, kind: str, resource: str, name: str) -> LiveObject:
    return LiveObject(provider.product, kind, provider.group, provider.versions, resource, name)


class Production(Record):
    """What a live routing object says: the color production goes to, or why none (in words
    that quote the object as it is: whoever shows the note escapes it). When the route splits
    production between the two colors (a weighted step, DESIGN §18), `color` is the color Git
    calls active and `share` the percent the other one gets."""

    color: Color | None
    note: str | None = None
    share: int = 0


def production_weights(plan: Plan) -> list[tuple[Color, int | None]]:
    """Where the production route sends traffic, in percent: all of it to the active color
    (None: a lone destination needs no weight), or with spec.traffic a share to the idle color,
    which plan/ has rolled out with the active color's replicas and render/ tests before the
    routes' wave."""
    idle = plan.colors.get(other(plan.active))
    if idle is None or idle.share == 0:
        return [(plan.active, None)]
    return [(plan.active, 100 - idle.share), (idle.color, idle.share)]


def split(plan: Plan, weights: dict[Color, float]) -> Production:
    """The Production of a route that sends `weights` (relative, each above 0) to the colors:
    one color takes it all; two share it, `color` being Git's active one."""
    if len(weights) == 1:
        return Production(next(iter(weights)))
    total = sum(weights.values())
    return Production(plan.active, share=round(100 * weights[other(plan.active)] / total))


def objects(plan: Plan) -> list[dict[str, Any]]:
    """Every routing object of the app: its Services and its provider's objects."""
    return services(plan) + provider(plan.intent.provider).objects(plan)


def live(plan: Plan) -> LiveObject:
    return provider(plan.intent.provider).live(plan)


def service_of_host(host: object, namespace: str | None) -> str | None:
    """The name of the Service `host` names, as Istio resolves a host in a route of
    `namespace` (the live object's): a short name (`web-blue`) is that namespace's Service; a
    qualified one must be `<name>.<namespace>.svc.<cluster domain>` of that same namespace.
    None for a host in another namespace (a Service of the same name elsewhere), for any other
    name (`web-blue.example.com`, or `web-blue.shop`, which Istio does not expand), and for a
    qualified host when the namespace is not known."""
    if not isinstance(host, str):
        return None
    name, dot, rest = host.partition(".")
    if dot:
        parts = rest.split(".")
        if namespace is None or len(parts) < 3 or parts[:2] != [namespace, "svc"]:
            return None
    return name


def color_of_service(plan: Plan, host: object, namespace: str | None) -> Color | None:
    """The color whose Service `host` names in `namespace` (service_of_host); None for any other."""
    name = service_of_host(host, namespace)
    return next((c for c in COLORS if name == color_service(plan, c)), None)


def live_namespace(obj: dict[str, Any], plan: Plan) -> str | None:
    """The namespace a live object is in: its own metadata's, else the app's."""
    metadata = obj.get("metadata")
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    return namespace if isinstance(namespace, str) else plan.namespace


def production(obj: dict[str, Any], plan: Plan) -> Production:
    """The color the live object sends production to; Malformed when it is not such an object."""
    return provider(plan.intent.provider).production(obj, plan)


class Malformed(Exception):
    """A live object that is not what the API serves for its kind; its text is not escaped yet."""


def services(plan: Plan) -> list[dict[str, Any]]:
    """The app's Service and a Service per deployed color. In every provider the app's Service
    selects the app labels plus the active color (DESIGN §16): callers the routes do not reach
    (outside the mesh, through a NodePort or a LoadBalancer) get production only. It moves
    production traffic, so it takes the routes' wave; promotion changes its selector, no pod."""
    intent = plan.intent
    main = service_object(plan, intent.service_name, waves.ROUTES,
                          selector_labels(plan.app_labels, intent.color_label, intent.active))
    return [main] + [service_object(plan, color_service(plan, color), waves.SHARED,
                                    selector_labels(plan.app_labels, intent.color_label, color),
                                    target=plan.target_ports[color])
                     for color in plan.colors]


def color_service(plan: Plan, color: Color) -> str:
    return names.color_service(plan.intent.service_name, color)


def service_object(plan: Plan, name: str, wave: int, selector: dict[str, str],
                   target: int | str | None = None) -> dict[str, Any]:
    """A Service; its target port is the active color's release's unless `target` (a color's) is given."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(plan, name, wave),
        # Istio picks the protocol from the port name.
        "spec": {"selector": dict(selector),
                 "ports": [{"name": "http", "port": plan.port,
                            "targetPort": plan.target_port if target is None else target, "protocol": "TCP"}]},
    }


def metadata(plan: Plan, name: str, wave: int) -> dict[str, Any]:
    """A routing object's metadata: the app's labels, its namespace, its wave."""
    return labels.metadata(name, plan.namespace, plan.app_labels, wave)


def expect(value: Any, kind: type, where: str) -> Any:
    """`value` if it has the type the API serves at `where`; Malformed otherwise."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Malformed(f"{where} is {type(value).__name__}, expected {kind.__name__}")
    return value
