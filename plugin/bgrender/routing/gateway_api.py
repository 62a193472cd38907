"""routing.provider `gateway-api`: HTTPRoutes (gateway.networking.k8s.io) whose backends are
the per-color Services.

- `<httpRoute>`, the production route: attached to the Gateways in routing.gateways and, for
  in-mesh callers, to the app's Service itself (GAMMA, unless routing.meshRouting is false);
  its one rule sends everything to `<service>-<active>`.
- `<httpRoute>-preview`: the header rules (`<header>: <color>` → `<service>-<color>`, for each
  color with replicas), attached only to the preview parents: the Service (`mesh`) and the
  Gateways named in routing.preview.gateways, never a public Gateway by default. Where both
  routes attach, Gateway API merges them and the rule with a header match wins.

The hostnames (routing.hosts) matter at Gateways only: meshes ignore them (GEP-1426). Once a
route is attached to a Service, a request that matches none of its rules is rejected, so the
production rule matches everything. Reading back: the production route's rules that match
without headers say which per-color Service gets production.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, routing, waves
from bgrender.colors import COLORS
from bgrender.intent.spec import GATEWAY_API, MESH  # in routing.preview.gateways: the Service parent

if TYPE_CHECKING:
    from typing import Any

    from bgrender.colors import Color
    from bgrender.plan.plan import Plan



def objects(plan: Plan) -> list[dict[str, Any]]:
    intent = plan.intent
    production = _route(plan, intent.http_route, _parents(plan, intent.gateways, intent.mesh_routing),
                        [{"backendRefs": [_backend(plan, intent.active)]}])
    previews = [{"matches": [{"headers": [{"type": "Exact", "name": intent.header, "value": cp.color}]}],
                 "backendRefs": [_backend(plan, cp.color)]}
                for cp in plan.colors.values() if cp.replicas > 0]
    preview_gateways = [g for g in intent.preview_gateways if g != MESH]
    parents = _parents(plan, preview_gateways, MESH in intent.preview_gateways)
    if not (previews and parents):
        return [production]
    return [production, _route(plan, f"{intent.http_route}-preview", parents, previews)]


def _route(plan: Plan, name: str, parents: list[dict[str, Any]], rules: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = {"parentRefs": parents}
    if plan.intent.hosts:
        spec["hostnames"] = list(plan.intent.hosts)
    spec["rules"] = rules
    return {"apiVersion": plan.routing_api, "kind": "HTTPRoute",
            "metadata": routing.metadata(plan, name, waves.ROUTES), "spec": spec}


def _parents(plan: Plan, gateways: tuple[str, ...] | list[str], mesh: bool) -> list[dict[str, Any]]:
    parents: list[dict[str, Any]] = (
        [{"group": "", "kind": "Service", "name": plan.intent.service_name, "port": plan.port}] if mesh else [])
    for gateway in gateways:
        namespace, _, name = gateway.rpartition("/")
        parent = {"group": GATEWAY_API.group, "kind": "Gateway", "name": name}
        parents.append({**parent, "namespace": namespace} if namespace else parent)
    return parents


def _backend(plan: Plan, color: Color) -> dict[str, Any]:
    return {"group": "", "kind": "Service", "name": routing.color_service(plan, color), "port": plan.port}


# --- reading it back ------------------------------------------------------------------------


def live(plan: Plan) -> routing.LiveObject:
    return routing.live_object(GATEWAY_API, "HTTPRoute", "httproutes", plan.intent.http_route)


def production(route: dict[str, Any], plan: Plan) -> routing.Production:
    spec = routing.expect(route.get("spec") or {}, dict, "spec")
    rules = [routing.expect(r, dict, "spec.rules[]") for r in routing.expect(spec.get("rules") or [], list,
                                                                             "spec.rules")]
    catch_all = [r for r in rules if all(_matches_everything(m) for m in _matches(r))]
    if not catch_all:
        return routing.Production(None, "it has no rule that matches every request")
    backends = [routing.expect(b, dict, "spec.rules[].backendRefs[]")
                for b in routing.expect(catch_all[0].get("backendRefs") or [], list, "spec.rules[].backendRefs")]
    # Unlike Istio's, a lone backend of weight 0 takes no traffic either (the HTTPRoute API says so).
    serving = {str(b.get("name")) for b in backends if _weight(b) > 0}
    colors = {routing.color_service(plan, c): c for c in COLORS}
    if not serving:
        return routing.Production(None, "its catch-all rule sends production traffic to no backend (none has a "
                                        "weight above 0)")
    if len(serving) != 1:
        return routing.Production(None, "its catch-all rule splits production traffic between "
                                        + ", ".join(sorted(serving)))
    (name,) = serving
    if name not in colors:
        return routing.Production(None, f"its catch-all rule sends production traffic to {name}, not a "
                                        "color's Service")
    return routing.Production(colors[name])


def _matches(rule: dict[str, Any]) -> list[dict[str, Any]]:
    # The API server fills in `matches: [{path: {type: PathPrefix, value: /}}]` when a rule has none.
    return [routing.expect(m, dict, "spec.rules[].matches[]")
            for m in routing.expect(rule.get("matches") or [{}], list, "spec.rules[].matches")]


def _matches_everything(match: dict[str, Any]) -> bool:
    path = match.get("path") or {"type": "PathPrefix", "value": "/"}
    return not (match.get("headers") or match.get("queryParams") or match.get("method")) \
        and isinstance(path, dict) and path.get("type", "PathPrefix") == "PathPrefix" and path.get("value", "/") == "/"


def _weight(backend: dict[str, Any]) -> int:
    return routing.expect(backend.get("weight", 1), int, "spec.rules[].backendRefs[].weight")
