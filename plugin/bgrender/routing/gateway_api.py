"""routing.provider `gateway-api`: HTTPRoutes (gateway.networking.k8s.io) whose backends are
the per-color Services. A route attached to the Service (GAMMA) and a route attached to
Gateways are separate objects (DESIGN §16): a mesh must not read a Service parent's route by
`hostnames` (GEP-1426; Linkerd applies them, Istio ignores them), and Gateways need them.

- `<httpRoute>`, the mesh route: parent the app's Service (unless routing.meshRouting is
  false), no hostnames; its one rule sends everything to `<service>-<active>`. Once a route is
  attached to a Service, a request that matches none of its rules is rejected, so the rule
  matches everything.
- `<httpRoute>-gateway`, the gateway route: parents the Gateways of routing.gateways, with
  routing.hosts as hostnames; the same rule.
- `<httpRoute>-preview` and `<httpRoute>-gateway-preview`: the header rules (`<header>: <color>`
  → `<service>-<color>`, for each color with replicas), on the Service (`mesh` in
  routing.preview.gateways, the default) and on the Gateways named there, never a public
  Gateway by default. Where a preview route and a production route share a parent, Gateway
  API merges them and the rule with a header match wins.

Every rule also gets routing.match (the app's path: then "everything" is everything under it),
routing.policy, and on the production rules routing.mirror (policy.py).

Reading back: the production route (the mesh route, else the gateway route) rules that match
without headers (every path, or the app's) say which per-color Service gets production.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, routing, waves
from bgrender.colors import COLORS
from bgrender.intent.spec import GATEWAY_API, MESH  # in routing.preview.gateways: the Service parent
from bgrender.routing import policy

if TYPE_CHECKING:
    from typing import Any

    from bgrender.colors import Color
    from bgrender.plan.plan import Plan

GATEWAY_SUFFIX = "-gateway"
PREVIEW_SUFFIX = "-preview"


def objects(plan: Plan) -> list[dict[str, Any]]:
    intent = plan.intent
    weights = routing.production_weights(plan)
    production = [{"backendRefs": [_backend(plan, color, weight) for color, weight in weights]}]
    previews = [{"matches": [{"headers": [{"type": "Exact", "name": intent.header, "value": cp.color}]}],
                 "backendRefs": [_backend(plan, cp.color)]}
                for cp in plan.colors.values() if cp.replicas > 0]
    # routing.match, .policy on every rule; the mirror on the production rule (policy.py).
    production = [policy.gateway_rule(plan, r, production=True) for r in production]
    previews = [policy.gateway_rule(plan, r, production=False) for r in previews]
    preview_gateways = tuple(g for g in intent.preview_gateways if g != MESH)
    routes = []
    if intent.mesh_routing:
        routes.append(_route(plan, intent.http_route, [_service_parent(plan)], production))
    if intent.gateways:
        routes.append(_route(plan, intent.http_route + GATEWAY_SUFFIX, _gateways(intent.gateways), production,
                             intent.hosts))
    if previews and MESH in intent.preview_gateways:
        routes.append(_route(plan, intent.http_route + PREVIEW_SUFFIX, [_service_parent(plan)], previews))
    if previews and preview_gateways:
        routes.append(_route(plan, intent.http_route + GATEWAY_SUFFIX + PREVIEW_SUFFIX, _gateways(preview_gateways),
                             previews, intent.hosts))
    return routes


def _route(plan: Plan, name: str, parents: list[dict[str, Any]], rules: list[dict[str, Any]],
           hostnames: tuple[str, ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {"parentRefs": parents}
    if hostnames:
        spec["hostnames"] = list(hostnames)
    spec["rules"] = rules
    return {"apiVersion": plan.routing_api, "kind": "HTTPRoute",
            "metadata": routing.metadata(plan, name, waves.ROUTES), "spec": spec}


def _service_parent(plan: Plan) -> dict[str, Any]:
    return {"group": "", "kind": "Service", "name": plan.intent.service_name, "port": plan.port}


def _gateways(gateways: tuple[str, ...]) -> list[dict[str, Any]]:
    parents = []
    for gateway in gateways:
        namespace, _, name = gateway.rpartition("/")
        parent = {"group": GATEWAY_API.group, "kind": "Gateway", "name": name}
        parents.append({**parent, "namespace": namespace} if namespace else parent)
    return parents


def _backend(plan: Plan, color: Color, weight: int | None = None) -> dict[str, Any]:
    backend = {"group": "", "kind": "Service", "name": routing.color_service(plan, color), "port": plan.port}
    return backend if weight is None else {**backend, "weight": weight}


# --- reading it back ------------------------------------------------------------------------


def live(plan: Plan) -> routing.LiveObject:
    """The production route status reads: the mesh route, or without one the gateway route."""
    name = plan.intent.http_route + ("" if plan.intent.mesh_routing else GATEWAY_SUFFIX)
    return routing.live_object(GATEWAY_API, "HTTPRoute", "httproutes", name)


def production(route: dict[str, Any], plan: Plan) -> routing.Production:
    spec = routing.expect(route.get("spec") or {}, dict, "spec")
    rules = [routing.expect(r, dict, "spec.rules[]") for r in routing.expect(spec.get("rules") or [], list,
                                                                             "spec.rules")]
    path = policy.gateway_path(plan.intent)
    catch_all = [r for r in rules if all(_matches_everything(m, path) for m in _matches(r))]
    if not catch_all:
        return routing.Production(None, "it has no rule that matches every request")
    backends = [routing.expect(b, dict, "spec.rules[].backendRefs[]")
                for b in routing.expect(catch_all[0].get("backendRefs") or [], list, "spec.rules[].backendRefs")]
    # Unlike Istio's, a lone backend of weight 0 takes no traffic either (the HTTPRoute API says so).
    serving: dict[str, float] = {}
    namespace = routing.live_namespace(route, plan)
    for backend in backends:
        if _weight(backend) > 0:
            name = _backend_name(backend, namespace)
            serving[name] = serving.get(name, 0) + _weight(backend)
    colors = {routing.color_service(plan, c): c for c in COLORS}
    if not serving:
        return routing.Production(None, "its catch-all rule sends production traffic to no backend (none has a "
                                        "weight above 0)")
    strangers = sorted(name for name in serving if name not in colors)
    if strangers and len(serving) == 1:
        return routing.Production(None, f"its catch-all rule sends production traffic to {strangers[0]}, not a "
                                        "color's Service")
    if strangers:
        return routing.Production(None, "its catch-all rule splits production traffic between "
                                        + ", ".join(sorted(serving)))
    # Backend weights (DESIGN §18): a weighted step gives the other color a share.
    return routing.split(plan, {colors[name]: weight for name, weight in serving.items()})


def _backend_name(backend: dict[str, Any], namespace: str | None) -> str:
    """A backendRef's Service name when it is a core Service of the route's own namespace;
    else how it reads (`kind group/namespace/name`), which names no color: a Service of the
    same name in another namespace, or another kind, is not the app's."""
    name = str(backend.get("name"))
    kind, group, where = backend.get("kind", "Service"), backend.get("group", ""), backend.get("namespace")
    if kind == "Service" and group in ("", None) and where in (None, namespace):
        return name
    return f"{kind} {group or 'core'}/{where or namespace}/{name}"


def _matches(rule: dict[str, Any]) -> list[dict[str, Any]]:
    # The API server fills in `matches: [{path: {type: PathPrefix, value: /}}]` when a rule has none.
    return [routing.expect(m, dict, "spec.rules[].matches[]")
            for m in routing.expect(rule.get("matches") or [{}], list, "spec.rules[].matches")]


def _matches_everything(match: dict[str, Any], app_path: dict[str, str] | None = None) -> bool:
    """Whether a match takes every request, or every request of the app's path (routing.match)."""
    path = match.get("path") or {"type": "PathPrefix", "value": "/"}
    return not (match.get("headers") or match.get("queryParams") or match.get("method")) \
        and isinstance(path, dict) and (path.get("type", "PathPrefix") == "PathPrefix" and path.get("value", "/") == "/"
                                        or path == app_path)


def _weight(backend: dict[str, Any]) -> int:
    return routing.expect(backend.get("weight", 1), int, "spec.rules[].backendRefs[].weight")
