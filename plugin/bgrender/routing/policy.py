"""What routes carry besides their destination (DESIGN §18), in each provider's words:
routing.policy (timeout, retries, CORS, header changes) on every route of the app, routing.match
(the app's path) in every route's matches, routing.mirror on the production route only. istio.py
and gateway_api.py build their routes' destinations and hand each route here to be decorated;
intent/routes.py checked every value in the form written here.

- Istio: http route fields `match[].uri`, `timeout`, `retries`, `corsPolicy`, `headers`,
  `mirror` and `mirrorPercentage`; durations in seconds (`0.5s`).
- Gateway API (standard channel): rule `matches[].path`, `timeouts`, and the filters CORS,
  RequestHeaderModifier, ResponseHeaderModifier and RequestMirror (with `percent`).

A prefix matches by path element in both: the Gateway API's PathPrefix does so itself; for
Istio, whose prefix is a string prefix, `/shop` becomes two matches, exactly `/shop` or a
prefix `/shop/`. The mirror goes to the idle color's Service, and only while that color is
deployed with replicas (never to the active color, never to a host without endpoints).
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, routing
from bgrender.colors import other
from bgrender.intent.nodes import Mapping, Scalar
from bgrender.intent.routes import DURATION, TRAFFIC_POLICY, seconds

if TYPE_CHECKING:
    from typing import Any

    from bgrender.colors import Color
    from bgrender.intent.intent import Intent
    from bgrender.intent.nodes import Node
    from bgrender.plan.plan import Plan


def mirror_color(plan: Plan) -> Color | None:
    """The color production requests are mirrored to: the idle one, if routing.mirror is set and
    it is deployed with replicas."""
    idle = other(plan.intent.active)
    if plan.intent.mirror_percent is None or idle not in plan.colors or plan.colors[idle].replicas <= 0:
        return None
    return idle


def _path(intent: Intent) -> str | None:
    """The app's path prefix without a trailing "/" (but "/" itself), or its exact path."""
    match = intent.match or {}
    if "prefix" in match:
        return match["prefix"].rstrip("/") or "/"
    return match.get("exact")


# --- Istio ----------------------------------------------------------------------------------------


def istio_uri_matches(intent: Intent) -> list[dict[str, Any]]:
    """The `uri` matches of routing.match (none without it)."""
    path = _path(intent)
    if path is None:
        return []
    if intent.match and "exact" in intent.match:
        return [{"uri": {"exact": path}}]
    if path == "/":
        return [{"uri": {"prefix": "/"}}]
    return [{"uri": {"exact": path}}, {"uri": {"prefix": path + "/"}}]


def istio_route(plan: Plan, route: dict[str, Any], production: bool) -> dict[str, Any]:
    """An http route of the VirtualService with the app's match, policy and (production) mirror."""
    uris = istio_uri_matches(plan.intent)
    out = {k: v for k, v in route.items() if k != "match"}
    if uris:
        matches = route.get("match") or [{}]
        out = {"name": route["name"], "match": [{**u, **m} for m in matches for u in uris], **out}
    elif "match" in route:
        out = {"name": route["name"], "match": route["match"], **out}
    out.update(istio_policy(plan.intent))
    color = mirror_color(plan) if production else None
    if color is not None:
        out["mirror"] = {"host": routing.color_service(plan, color), "port": {"number": plan.port}}
        out["mirrorPercentage"] = {"value": plan.intent.mirror_percent}
    return out


def istio_policy(intent: Intent) -> dict[str, Any]:
    policy: dict[str, Any] = intent.policy or {}
    out: dict[str, Any] = {}
    if "timeout" in policy:
        out["timeout"] = seconds(policy["timeout"])
    if "retries" in policy:
        retries = dict(policy["retries"])
        if "perTryTimeout" in retries:
            retries["perTryTimeout"] = seconds(retries["perTryTimeout"])
        out["retries"] = retries
    if "cors" in policy:
        cors = dict(policy["cors"])
        cors["allowOrigins"] = [_istio_origin(o) for o in cors["allowOrigins"]]
        if "maxAge" in cors:
            cors["maxAge"] = f"{cors['maxAge']}s"
        out["corsPolicy"] = cors
    if policy.get("headers"):
        out["headers"] = {direction: {k: (dict(v) if isinstance(v, dict) else list(v)) for k, v in changes.items()}
                          for direction, changes in policy["headers"].items() if changes}
    return out


def _istio_origin(origin: str) -> dict[str, str]:
    """A Gateway API origin ("*", or with "*" in the host) as an Istio string match."""
    if "*" not in origin:
        return {"exact": origin}
    if origin == "*":
        return {"regex": ".*"}
    import re  # only for a wildcard origin (not at import: see spec.matches)

    return {"regex": "".join("[a-zA-Z0-9.-]+" if part == "*" else re.escape(part)
                             for part in re.split(r"(\*)", origin))}


def istio_traffic_policy(value: dict[str, Any], node: Node = TRAFFIC_POLICY) -> dict[str, Any]:
    """routing.trafficPolicy as a DestinationRule's: its durations in seconds."""
    assert isinstance(node, Mapping)
    out: dict[str, Any] = {}
    for key, item in value.items():
        field = node.fields[key]
        if isinstance(field, Mapping) and isinstance(item, dict):
            out[key] = istio_traffic_policy(item, field)
        elif isinstance(field, Scalar) and field.pattern == DURATION:
            out[key] = seconds(item)
        else:
            out[key] = item
    return out


# --- Gateway API ------------------------------------------------------------------------------------


def gateway_path(intent: Intent) -> dict[str, str] | None:
    path = _path(intent)
    if path is None:
        return None
    return {"type": "Exact" if intent.match and "exact" in intent.match else "PathPrefix", "value": path}


def gateway_rule(plan: Plan, rule: dict[str, Any], production: bool) -> dict[str, Any]:
    """A rule of an HTTPRoute with the app's path, policy filters, timeouts and (production) mirror."""
    path = gateway_path(plan.intent)
    out = {k: v for k, v in rule.items() if k not in ("matches", "filters")}
    matches = rule.get("matches")
    if path is not None:
        matches = [{"path": path, **m} for m in matches or [{}]]
    filters = [*rule.get("filters", ()), *gateway_filters(plan.intent)]
    color = mirror_color(plan) if production else None
    if color is not None:
        filters.append({"type": "RequestMirror", "requestMirror": {
            "backendRef": {"group": "", "kind": "Service", "name": routing.color_service(plan, color),
                           "port": plan.port},
            "percent": plan.intent.mirror_percent}})
    head: dict[str, Any] = {"matches": matches} if matches is not None else {}
    if filters:
        head["filters"] = filters
    out = {**head, **out}
    timeouts = gateway_timeouts(plan.intent)
    if timeouts:
        out["timeouts"] = timeouts
    return out


def gateway_timeouts(intent: Intent) -> dict[str, str]:
    policy = intent.policy or {}
    return {key: policy[field] for key, field in (("request", "timeout"), ("backendRequest", "backendTimeout"))
            if field in policy}


def gateway_filters(intent: Intent) -> list[dict[str, Any]]:
    policy = intent.policy or {}
    filters: list[dict[str, Any]] = []
    if "cors" in policy:
        filters.append({"type": "CORS", "cors": dict(policy["cors"])})
    for direction, kind, key in (("request", "RequestHeaderModifier", "requestHeaderModifier"),
                                 ("response", "ResponseHeaderModifier", "responseHeaderModifier")):
        changes = (policy.get("headers") or {}).get(direction)
        if changes:
            modifier = {change: [{"name": k, "value": v} for k, v in changes[change].items()]
                        if change != "remove" else list(changes[change])
                        for change in ("set", "add", "remove") if changes.get(change)}
            filters.append({"type": kind, key: modifier})
    return filters
