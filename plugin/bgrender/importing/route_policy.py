"""What a layout's routes carry besides their destination, carried over by `bgrender import`
into routing.policy, routing.match and routing.trafficPolicy (DESIGN §18).

From the VirtualService's default route: `timeout`, `retries` (attempts, perTryTimeout,
retryOn), `corsPolicy` and `headers`, rewritten in bluegreen.yaml's words (durations as
`1m30s`, CORS origins as strings, maxAge in seconds). bgrender puts one policy on every route,
so a field a header route holds differently is carried from the default route and named in a
note. The path every kept route matches, when it is one `uri` (a prefix or an exact path, or
the pair bgrender itself writes for a prefix), becomes routing.match. The DestinationRule's
`trafficPolicy` becomes routing.trafficPolicy. Each value is checked as bluegreen.yaml is
(spec.py); one that does not fit is not carried, and is named in what `import` leaves behind.

Pure: the layout's objects in, values and sentences out.
"""

from __future__ import annotations

import re

from bgrender import TYPE_CHECKING
from bgrender.errors import escape
from bgrender.intent import routes, spec
from bgrender.record import Record
from bgrender.yamlfile.document import get_in, load_document
from bgrender.yamlfile.dump import dump_document

if TYPE_CHECKING:
    from typing import Any

    from bgrender.importing.layouts import Manifest
    from bgrender.intent.nodes import Node

POLICY_FIELDS = {"timeout": "timeout", "retries": "retries", "corsPolicy": "cors", "headers": "headers"}


class Carried(Record):
    routing: dict[str, Any]  # routing.policy, .match, .trafficPolicy, as bluegreen.yaml writes them
    fields: frozenset[str]  # the route fields carried ("spec.http[1].timeout"), no longer "not carried over"
    notes: tuple[str, ...]  # what changes on the way, and what could not be carried


def app_uri(http: list[Any]) -> list[dict[str, Any]] | None:
    """The uri matches every route of the layout's VirtualService has in common (the app's path),
    read from the last route whose matches hold nothing else; None without one."""
    for route in reversed(http):
        matches = get_in(route, ("match",))
        if isinstance(matches, list) and matches and all(isinstance(m, dict) and set(m) == {"uri"} for m in matches):
            return matches
    return None


def carry(vs: Manifest, kept: list[int], default: int, rule: Manifest) -> Carried:
    http = get_in(vs.data, ("spec", "http"))
    routing: dict[str, Any] = {}
    notes: list[str] = []
    fields: set[str] = set()
    policy, lost = _policy(http[default])
    for key, target in POLICY_FIELDS.items():
        if key in lost:  # said here with the reason, instead of among the other fields not carried over
            notes.append(f"not carried over: {vs.describe()}: spec.http[{default}].{key}: {lost[key]}")
            fields.add(f"spec.http[{default}].{key}")
        if target not in policy:
            continue
        fields |= {f"spec.http[{i}].{key}" for i in kept if key in http[i]}
        differing = [i for i in kept if i != default and http[i].get(key) != http[default][key]]
        if differing:
            notes.append(f"routing.policy.{target} comes from {vs.describe()}'s default route; bgrender puts it on "
                         f"every route, so the header routes (spec.http[{', '.join(map(str, differing))}]) get it too")
    if policy:
        routing["policy"] = policy
    match = _match(http, kept)
    if match is not None:
        routing["match"] = match
        if "prefix" in match and _matches(http[default])[0].get("uri") == match:
            notes.append(_prefix_note(match["prefix"]))
    traffic_policy = get_in(rule.data, ("spec", "trafficPolicy"))
    if traffic_policy is not None:
        fields.add("trafficPolicy")  # carried, or said here with the reason
        carried, reason = _fits(routes.TRAFFIC_POLICY, _durations(traffic_policy, routes.TRAFFIC_POLICY))
        if reason is None:
            routing["trafficPolicy"] = carried
        else:
            notes.append(f"not carried over: {rule.describe()}: spec.trafficPolicy: {reason}")
    return Carried(routing, frozenset(fields), tuple(notes))


def _prefix_note(prefix: str) -> str:
    return (f"routing.match.prefix {escape(prefix)} matches by path element: {escape(prefix)} and "
            f"{escape(prefix.rstrip('/'))}/..., no longer every path that merely starts with it, as Istio's "
            "prefix did")


def _policy(route: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """routing.policy from an Istio http route; and, per field that does not fit, why."""
    policy, lost = {}, {}
    for key, target in POLICY_FIELDS.items():
        if key not in route:
            continue
        value = _convert(key, route[key])
        carried, reason = _fits(routes.POLICY.fields[target], value) if value is not None else (None, _WHY[key])
        if reason is None:
            policy[target] = carried
        else:
            lost[key] = reason
    return policy, lost


_WHY = {"timeout": "not a duration of whole milliseconds above zero",
        "retries": "only attempts, perTryTimeout and retryOn carry over, and attempts is needed",
        "corsPolicy": "only exact origins, methods, headers, a whole-second maxAge and allowCredentials carry over",
        "headers": "only set, add and remove of request and response headers carry over"}


def _convert(key: str, value: Any) -> Any:
    if key == "timeout":
        return gep_duration(value)
    if key == "retries":
        return _retries(value)
    if key == "corsPolicy":
        return _cors(value)
    return value


def _retries(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or "attempts" not in value or set(value) - {"attempts", "perTryTimeout", "retryOn"}:
        return None
    out = dict(value)
    if "perTryTimeout" in out:
        out["perTryTimeout"] = gep_duration(out["perTryTimeout"])
    return out


def _cors(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or set(value) - {"allowOrigins", "allowOrigin", "allowMethods", "allowHeaders",
                                                    "exposeHeaders", "maxAge", "allowCredentials"}:
        return None
    out = {k: v for k, v in value.items() if k not in ("allowOrigin", "maxAge")}
    origins = [{"exact": o} for o in value.get("allowOrigin") or []] + list(value.get("allowOrigins") or [])
    if not all(isinstance(o, dict) and set(o) == {"exact"} for o in origins):
        return None
    out["allowOrigins"] = [o["exact"] for o in origins]
    if "maxAge" in value:
        age = _millis(value["maxAge"])
        if age is None or age % 1000:
            return None
        out["maxAge"] = age // 1000
    return out


def _match(http: list[Any], kept: list[int]) -> dict[str, str] | None:
    """routing.match when every kept route matches the one path of the default route (the last
    kept): one uri, or the pair bgrender writes for a prefix (exactly /x, or a prefix /x/)."""
    uris = [m.get("uri") for m in _matches(http[max(kept)])]
    if len(uris) == 2 and uris[0] == {"exact": get_in(uris[0], ("exact",))} \
            and uris[1] == {"prefix": f"{get_in(uris[0], ('exact',))}/"}:
        match: Any = {"prefix": uris[0]["exact"]}  # bgrender's own rendering of a prefix
    elif len(uris) == 1 and isinstance(uris[0], dict) and len(uris[0]) == 1 and set(uris[0]) <= {"prefix", "exact"}:
        match = dict(uris[0])
    else:
        return None
    for i in kept:
        found = [m.get("uri") for m in _matches(http[i])]
        if len(found) % len(uris) or found != uris * (len(found) // len(uris)):
            return None
    return match if match != {"prefix": "/"} and _fits(routes.MATCH, match)[1] is None else None


def _matches(route: Any) -> list[dict[str, Any]]:
    matches = get_in(route, ("match",))
    return [m if isinstance(m, dict) else {} for m in matches] if isinstance(matches, list) and matches else [{}]


def _durations(value: Any, node: Node) -> Any:
    """Istio's durations in `value` as bluegreen.yaml writes them, where `node` declares one."""
    if isinstance(value, dict) and isinstance(node, spec.Mapping):
        return {k: _durations(v, node.fields[k]) if k in node.fields else v for k, v in value.items()}
    if isinstance(node, spec.Scalar) and node.pattern == routes.DURATION:
        return gep_duration(value) or value
    return value


def _fits(node: Node, value: Any) -> tuple[Any, str | None]:
    """`value` if bluegreen.yaml takes it at `node`, else why not (spec.py's first complaint)."""
    doc = load_document(dump_document({"value": value}), "import")
    problems = spec.check(node, doc.data["value"], ("value",), doc)
    if problems:
        where = problems[0].path.removeprefix("value").lstrip(".")
        return None, escape((f"{where}: " if where else "") + problems[0].message)
    return value, None


# --- durations ----------------------------------------------------------------------------------

_UNITS = {"h": 3_600_000_000_000, "m": 60_000_000_000, "s": 1_000_000_000, "ms": 1_000_000, "us": 1000,
          "µs": 1000, "ns": 1}


def _millis(value: Any) -> int | None:
    """A duration as Istio reads it ("1.5s", "100ms", "1m30s") in milliseconds; None if it is
    not one, or not whole milliseconds."""
    if not isinstance(value, str) or not re.fullmatch(r"([0-9]+(\.[0-9]+)?(h|ms|m|s|us|µs|ns))+", value):
        return None
    nanos = 0
    for number, unit in re.findall(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)", value):
        whole, _, fraction = number.partition(".")
        nanos += int(whole) * _UNITS[unit] + int(fraction or 0) * _UNITS[unit] // 10 ** len(fraction or "")
    return nanos // 1_000_000 if nanos % 1_000_000 == 0 else None


def gep_duration(value: Any) -> str | None:
    """An Istio duration in the Gateway API's form bluegreen.yaml takes ("90s" -> "1m30s")."""
    millis = _millis(value)
    if not millis:
        return None
    parts = []
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    text = "".join(parts)
    return text if spec.matches(routes.DURATION, text) else None
