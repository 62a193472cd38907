"""routing.provider `istio` (the default): a VirtualService on the app's host whose header
routes reach each color (only from the preview gateways, by default the mesh) and whose last
route sends production to the active color, routing by host as Flagger does (DESIGN §16):
production goes to `<service>-<active>`, a header route to `<service>-<color>`, the per-color
Services every provider has (policy.py adds routing.match, .policy and .mirror to each route).
No DestinationRule and no subsets: a color's host exists as soon
as its Service does (wave -1), so no route names a cluster Envoy does not know (503 NC).
DestinationRules come back only to carry routing.trafficPolicy, one per color host (DESIGN
§18): `destination_rules` is where they go.

A header route exists only for a color with replicas: a host with no endpoints answers 503 UH.
Reading back: the first http route without a match (or matching only the app's path,
routing.match) is the one Istio sends every other request to; the color Service it names (or,
as bgrender rendered it before, the subset of the app's host) is the production color.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, routing, waves
from bgrender.colors import COLORS
from bgrender.intent.spec import ISTIO
from bgrender.routing import policy

if TYPE_CHECKING:
    from typing import Any

    from bgrender.colors import Color
    from bgrender.plan.plan import Plan



def objects(plan: Plan) -> list[dict[str, Any]]:
    return destination_rules(plan) + [virtual_service(plan)]


def destination_rules(plan: Plan) -> list[dict[str, Any]]:
    """Routing by host needs no subsets: only routing.trafficPolicy (DESIGN §18) renders
    DestinationRules, one per deployed color's host, `<destinationRule>-<color>` with host
    `<service>-<color>`. They take the wave of the color Services (before any route and any
    color's pods), so the policy is there before the first request reaches the host."""
    traffic_policy = plan.intent.traffic_policy
    if not traffic_policy:
        return []
    return [{"apiVersion": plan.routing_api, "kind": "DestinationRule",
             "metadata": routing.metadata(plan, f"{plan.intent.destination_rule}-{color}", waves.SHARED),
             "spec": {"host": routing.color_service(plan, color),
                      "trafficPolicy": policy.istio_traffic_policy(traffic_policy)}}
            for color in plan.colors]


def virtual_service(plan: Plan) -> dict[str, Any]:
    intent = plan.intent
    header_routes = []
    if intent.preview_gateways:
        header_routes = [
            {"name": f"{cp.color}-by-header",
             "match": [{"headers": {intent.header: {"exact": cp.color}}, "gateways": list(intent.preview_gateways)}],
             "route": [_destination(plan, cp.color)]}
            for cp in plan.colors.values() if cp.replicas > 0
        ]
    production = {"name": "production", "route": [_destination(plan, color, weight)
                                                  for color, weight in routing.production_weights(plan)]}
    spec: dict[str, Any] = {"hosts": list(intent.hosts)}
    if intent.gateways:
        spec["gateways"] = list(intent.gateways)
    # First match wins: the catch-all goes last. Each route gets routing.match and .policy; the
    # production route the mirror.
    spec["http"] = [policy.istio_route(plan, r, r is production) for r in header_routes + [production]]
    return {
        "apiVersion": plan.routing_api,
        "kind": "VirtualService",
        "metadata": routing.metadata(plan, intent.virtual_service, waves.ROUTES),
        "spec": spec,
    }


def _destination(plan: Plan, color: Color, weight: int | None = None) -> dict[str, Any]:
    destination: dict[str, Any] = {"destination": {"host": routing.color_service(plan, color),
                                                   "port": {"number": plan.port}}}
    if weight is not None:
        destination["weight"] = weight
    return destination


# --- reading it back ------------------------------------------------------------------------


def live(plan: Plan) -> routing.LiveObject:
    return routing.live_object(ISTIO, "VirtualService", "virtualservices",
                              plan.intent.virtual_service)


def production(vs: dict[str, Any], plan: Plan) -> routing.Production:
    route = default_route(vs, policy.istio_uri_matches(plan.intent))
    if route is None:
        return routing.Production(None, "it has no default route (an http route without match)")
    weighted = _serving(route)
    if not weighted:
        return routing.Production(None, "its default route has no destination")
    shown = sorted({_shown(d) for d, _ in weighted})
    weights: dict[Color, float] = {}
    namespace = routing.live_namespace(vs, plan)
    for destination, weight in weighted:
        color = _color(destination, plan, namespace)
        if color is None and len(shown) == 1:
            return routing.Production(None, f"its default route sends production traffic to {shown[0]}, "
                                            "not to a color's Service")
        if color is None:
            return routing.Production(None, f"its default route splits production traffic between {', '.join(shown)}")
        weights[color] = weights.get(color, 0) + weight
    return routing.split(plan, weights)  # a weighted step (DESIGN §18): a share for the other color


def _color(destination: dict[str, Any], plan: Plan, namespace: str | None) -> Color | None:
    """The color a destination is: a color's Service as host (routing by host), or the app's
    Service with a color's subset (the subsets bgrender rendered before DESIGN §16); the host
    in the route's own namespace, as routing.color_of_service reads it."""
    host, subset = destination.get("host"), destination.get("subset")
    if subset is None:
        return routing.color_of_service(plan, host, namespace)
    if routing.service_of_host(host, namespace) != plan.intent.service_name:
        return None
    return next((c for c in COLORS if c == subset), None)



def _shown(destination: dict[str, Any]) -> str:
    host = str(destination.get("host"))
    return host if destination.get("subset") is None else f"{host} subset {destination['subset']}"


# The http matches that match every request: none, or only the URI prefix "/".
MATCHES_EVERY_REQUEST: tuple[dict[str, Any], ...] = ({}, {"uri": {"prefix": "/"}})


def default_route(vs: dict[str, Any], app_matches: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """The http route Istio sends every request that no route before it matched: the first
    that matches every request (no match, or only the URI prefix `/`), or every request of the
    app's path (`app_matches`: routing.match as rendered). Also read by `bgrender import`, on
    VirtualServices bgrender did not write."""
    spec = routing.expect(vs.get("spec") or {}, dict, "spec")
    for rule in (routing.expect(r, dict, "spec.http[]") for r in routing.expect(spec.get("http") or [], list,
                                                                                  "spec.http")):
        matches = routing.expect(rule.get("match") or [], list, "spec.http[].match")
        if all(m in MATCHES_EVERY_REQUEST for m in matches) or (app_matches and matches == app_matches):
            return rule
    return None


def serving_destinations(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """The destinations an http route sends traffic to: a lone destination takes all of it
    whatever its weight; among several, one of weight 0 takes none."""
    return [destination for destination, _ in _serving(rule)]


def _serving(rule: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
    """The destinations an http route sends traffic to, each with its weight (a lone one: 1)."""
    destinations = [routing.expect(d, dict, "spec.http[].route[]")
                    for d in routing.expect(rule.get("route") or [], list, "spec.http[].route")]
    weighted = [(d, 1 if len(destinations) == 1 else routing.expect(d.get("weight", 0), int, "weight"))
                for d in destinations]
    return [(routing.expect(d.get("destination") or {}, dict, "destination"), w) for d, w in weighted if w > 0]


def serving_subsets(rule: dict[str, Any]) -> list[str]:
    """The subsets an http route sends traffic to, sorted (`bgrender import` reads a layout's
    VirtualService by them)."""
    return sorted({str(d.get("subset")) for d in serving_destinations(rule)})
