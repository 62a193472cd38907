"""routing.provider `istio` (the default): a DestinationRule with a subset per color and a
VirtualService whose header routes reach each color (only from the preview gateways, by
default the mesh) and whose last route sends production to the active subset.

Both subsets always exist: a release never adds or removes one, so no route names a subset
Envoy does not know yet (503 NC). A header route exists only for a color with replicas: a
subset with no endpoints answers 503 UH. Reading back: the first http route without a match
is the one Istio sends every other request to; its subset is the production color.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, routing, waves
from bgrender.colors import COLORS
from bgrender.intent.spec import ISTIO

if TYPE_CHECKING:
    from typing import Any

    from bgrender.plan.plan import Plan



def objects(plan: Plan) -> list[dict[str, Any]]:
    return [destination_rule(plan), virtual_service(plan)]


def destination_rule(plan: Plan) -> dict[str, Any]:
    subsets = [{"name": c, "labels": {plan.intent.color_label: c}} for c in COLORS]
    return {
        "apiVersion": plan.routing_api,
        "kind": "DestinationRule",
        "metadata": routing.metadata(plan, plan.intent.destination_rule, waves.SHARED),
        "spec": {"host": plan.intent.service_name, "subsets": subsets},
    }


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
    production = {"name": "production", "route": [_destination(plan, intent.active)]}
    spec: dict[str, Any] = {"hosts": list(intent.hosts)}
    if intent.gateways:
        spec["gateways"] = list(intent.gateways)
    spec["http"] = header_routes + [production]  # first match wins: the catch-all goes last
    return {
        "apiVersion": plan.routing_api,
        "kind": "VirtualService",
        "metadata": routing.metadata(plan, intent.virtual_service, waves.ROUTES),
        "spec": spec,
    }


def _destination(plan: Plan, color: str) -> dict[str, Any]:
    return {"destination": {"host": plan.intent.service_name, "subset": color, "port": {"number": plan.port}}}


# --- reading it back ------------------------------------------------------------------------


def live(plan: Plan) -> routing.LiveObject:
    return routing.live_object(ISTIO, "VirtualService", "virtualservices",
                              plan.intent.virtual_service)


def production(vs: dict[str, Any], plan: Plan) -> routing.Production:
    route = default_route(vs)
    if route is None:
        return routing.Production(None, "it has no default route (an http route without match)")
    subsets = serving_subsets(route)
    if not subsets:
        return routing.Production(None, "its default route has no destination")
    if len(subsets) != 1:
        return routing.Production(None, f"its default route splits production traffic between subsets "
                                        f"{', '.join(subsets)}")
    if subsets[0] not in COLORS:
        return routing.Production(None, f"its default route sends production traffic to subset {subsets[0]}, "
                                        "not blue or green")
    return routing.Production(subsets[0])


# The http matches that match every request: none, or only the URI prefix "/".
MATCHES_EVERY_REQUEST: tuple[dict[str, Any], ...] = ({}, {"uri": {"prefix": "/"}})


def default_route(vs: dict[str, Any]) -> dict[str, Any] | None:
    """The http route Istio sends every request that no route before it matched: the first
    that matches every request (no match, or only the URI prefix `/`). Also read by
    `bgrender import`, on VirtualServices bgrender did not write."""
    spec = routing.expect(vs.get("spec") or {}, dict, "spec")
    for rule in (routing.expect(r, dict, "spec.http[]") for r in routing.expect(spec.get("http") or [], list,
                                                                                  "spec.http")):
        matches = routing.expect(rule.get("match") or [], list, "spec.http[].match")
        if all(m in MATCHES_EVERY_REQUEST for m in matches):
            return rule
    return None


def serving_subsets(rule: dict[str, Any]) -> list[str]:
    """The subsets an http route sends traffic to, sorted: a lone destination takes all of it
    whatever its weight; among several, one of weight 0 takes none."""
    destinations = [routing.expect(d, dict, "spec.http[].route[]")
                    for d in routing.expect(rule.get("route") or [], list, "spec.http[].route")]
    serving = [d for d in destinations
               if len(destinations) == 1 or routing.expect(d.get("weight", 0), int, "weight") > 0]
    return sorted({str(routing.expect(d.get("destination") or {}, dict, "destination").get("subset"))
                   for d in serving})
