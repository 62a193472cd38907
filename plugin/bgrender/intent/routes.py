"""What a route carries besides its destination (DESIGN §18): the shape of routing.policy,
routing.match, routing.trafficPolicy and routing.mirror, and the rules relating them to the
provider. spec.py puts these nodes into spec.routing; rules.py runs RULES with its own.

Every value is checked here in the form the API bgrender writes accepts, so the API server
never refuses what validate passed:

- Durations are written as the Gateway API writes them (GEP-2257, `^([0-9]{1,5}(h|m|s|ms)){1,4}$`:
  `500ms`, `10s`, `1m30s`), above zero (Istio's CRDs require at least 1ms). The Istio render
  writes them as seconds (`0.5s`, `90s`), which both the CRD's `duration()` rule and Istio's
  protobuf reading accept.
- Gateway API: bgrender writes the HTTPRoute of the standard channel (v1.6.1, the CRDs its
  end-to-end cluster installs). That channel has `timeouts`, the CORS, header-modifier and
  RequestMirror filters (with `percent`), and no `retry` (experimental only): routing.policy.retries
  is refused there, naming the field. Istio has no per-backend timeout besides a retry's:
  routing.policy.backendTimeout is refused there.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.errors import Problem, quote
from bgrender.intent.nodes import Map, Mapping, Scalar, Sequence

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, Protocol

    from bgrender.yamlfile.document import Document

    class Fields(Protocol):
        """rules.Fields, as these rules read it."""

        def get(self, *path: str) -> Any: ...

        def routing(self, key: str) -> Any: ...

INT32_MAX = 2**31 - 1

# Gateway API's Duration (GEP-2257), with a digit other than 0 somewhere: above zero.
DURATION = r"^(?=[^1-9]*[1-9])([0-9]{1,5}(h|m|s|ms)){1,4}$"
DURATION_HINT = 'must be a duration above zero such as "500ms", "10s" or "1m30s" (units h, m, s, ms)'
# An HTTP header name as the Gateway API accepts it (RFC 7230 token; any case).
HEADER = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
HEADER_HINT = "must be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)"
# A request path the Gateway API accepts for an Exact or PathPrefix match: "/" first, URL path
# characters, no "//", no "." or ".." segment, no encoded "/".
PATH = (r"^(?!.*//)(?!.*/\.\.?/)(?!.*/\.\.?$)(?!.*%2[fF])"
        r"/([-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})*$")
PATH_HINT = ('must be an absolute path ("/" first) of URL path characters, without "//", "." or ".." '
             'segments or an encoded "/"')
# A CORS origin as the Gateway API accepts it: "*", or scheme://host[:port] with "*." or "*" for the host.
ORIGIN = r"^(\*|https?://(((\*\.)?([a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+|\*)(:[0-9]{1,5})?))$"
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "*")
# Envoy's retry conditions (x-envoy-retry-on and x-envoy-retry-grpc-on), as Istio's retryOn takes
# them, comma-separated; an HTTP status code (e.g. 503) is one too.
RETRY_ON = frozenset({
    "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "envoy-ratelimited",
    "retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers", "http3-post-connect-failure",
    "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
})
MAX_HEADER_CHANGES = 16  # per set, add and remove: the Gateway API's maxItems
MAX_LIST = 64  # CORS lists: likewise


def duration(description: str) -> Scalar:
    return Scalar(str, description, pattern=DURATION, hint=DURATION_HINT, max_length=24)


def _header(description: str) -> Scalar:
    return Scalar(str, description, pattern=HEADER, hint=HEADER_HINT, max_length=256)


def _changes(direction: str) -> Mapping:
    value = Scalar(str, "The value.", pattern=r"^[^\r\n]+$", hint="must be a non-empty value on one line",
                   max_length=4096)
    return Mapping(f"Changes to the {direction} headers.", {
        "set": Map("Headers set (replacing any value), name: value.", _header("A header name."), value),
        "add": Map("Headers added (beside any value), name: value.", _header("A header name."), value),
        "remove": Sequence("Headers removed, by name.", _header("A header name."), min_items=1,
                           max_items=MAX_HEADER_CHANGES),
    })


def _count(description: str, maximum: int = INT32_MAX) -> Scalar:
    return Scalar(int, description, minimum=0, maximum=maximum)


POLICY = Mapping("What every route of the app carries besides its destination (production and previews).", {
    "timeout": duration("Whole-request timeout (istio: timeout; gateway-api: timeouts.request)."),
    "backendTimeout": duration("gateway-api only: timeout of each request to the backend "
                               "(timeouts.backendRequest), at most `timeout`."),
    "retries": Mapping("istio only (the Gateway API standard channel has no retry): retries of a failed "
                       "request.", {
        "attempts": _count("How many retries (0 turns retries off)."),
        "perTryTimeout": duration("Timeout of each try."),
        "retryOn": Scalar(str, "When to retry: Envoy's conditions, comma-separated (e.g. "
                               '"5xx,reset,connect-failure", or a status code such as "503").',
                          pattern=r"^[a-z0-9-]+(,[a-z0-9-]+)*$", max_length=512,
                          hint="must be retry conditions separated by commas, without spaces"),
    }, required=("attempts",)),
    "cors": Mapping("Cross-origin resource sharing: the answer to browsers' preflight requests.", {
        "allowOrigins": Sequence("Origins allowed: scheme://host[:port], a host may start with `*.`; or `*`.",
                                 Scalar(str, "An origin.", pattern=ORIGIN, max_length=253,
                                        hint='must be "*" or an origin such as "https://shop.example.com"'),
                                 min_items=1, max_items=MAX_LIST),
        "allowMethods": Sequence("Methods allowed.", Scalar(str, "A method.", enum=METHODS), min_items=1,
                                 max_items=len(METHODS) - 1),
        "allowHeaders": Sequence("Request headers allowed.", _header("A header."), min_items=1, max_items=MAX_LIST),
        "exposeHeaders": Sequence("Response headers exposed to the page.", _header("A header."), min_items=1,
                                  max_items=MAX_LIST),
        "maxAge": Scalar(int, "Seconds a browser may cache the preflight's answer.", minimum=1, maximum=INT32_MAX),
        "allowCredentials": Scalar(bool, "Whether the actual request may carry credentials."),
    }, required=("allowOrigins",)),
    "headers": Mapping("Header changes.", {"request": _changes("request"), "response": _changes("response")}),
})

MATCH = Mapping("The path every route of the app matches (production and previews), so that several apps can "
                "share a host: set prefix or exact. A prefix matches by path element: /shop matches /shop and "
                "/shop/cart, not /shopping.", {
    "prefix": Scalar(str, "Requests whose path is this or starts with it and a `/`.", pattern=PATH, hint=PATH_HINT,
                     max_length=1024),
    "exact": Scalar(str, "Requests whose path is exactly this.", pattern=PATH, hint=PATH_HINT, max_length=1024),
})

MIRROR = Mapping("A copy of this share of production requests goes to the idle color while it is deployed with "
                 "replicas; its answers are dropped.", {
    "percent": Scalar(int, "The share of production requests copied.", minimum=1, maximum=100),
}, required=("percent",))


def _uint32(description: str) -> Scalar:
    return _count(description, 2**32 - 1)


_TCP = Mapping("TCP connections to a color.", {
    "maxConnections": _count("Most connections to each color host."),
    "connectTimeout": duration("Connect timeout."),
    "idleTimeout": duration("Idle timeout of a connection."),
    "maxConnectionDuration": duration("Longest life of a connection."),
    "tcpKeepalive": Mapping("TCP keepalive.", {
        "probes": _uint32("Probes without an answer before the connection is dead."),
        "time": duration("Idle time before the first probe."),
        "interval": duration("Time between probes."),
    }),
})
_HTTP = Mapping("HTTP requests to a color.", {
    "http1MaxPendingRequests": _count("Most requests waiting for a connection."),
    "http2MaxRequests": _count("Most active requests."),
    "maxRequestsPerConnection": _count("Most requests per connection (1 turns keepalive off)."),
    "maxRetries": _count("Most retries outstanding at once."),
    "idleTimeout": duration("Idle timeout of an upstream connection pool connection."),
    "h2UpgradePolicy": Scalar(str, "Whether to upgrade HTTP/1.1 connections to HTTP/2.",
                              enum=("DEFAULT", "DO_NOT_UPGRADE", "UPGRADE")),
    "useClientProtocol": Scalar(bool, "Use the client's protocol towards the color."),
    "maxConcurrentStreams": _count("Most concurrent streams per HTTP/2 connection."),
})

# Istio's DestinationRule trafficPolicy, the fields of its CRD (networking.istio.io) bgrender
# passes through, durations in the format above; tests/test_routes_policy.py holds each field to the CRD.
TRAFFIC_POLICY = Mapping("istio only: the traffic policy of each color's host (a DestinationRule per color).", {
    "connectionPool": Mapping("Connection limits.", {"tcp": _TCP, "http": _HTTP}),
    "outlierDetection": Mapping("Ejecting failing pods from the load balancing pool.", {
        "consecutive5xxErrors": _uint32("5xx answers in a row that eject a pod (0 turns it off)."),
        "consecutiveGatewayErrors": _uint32("502, 503 or 504 answers in a row that eject a pod."),
        "consecutiveLocalOriginFailures": _uint32("Local failures in a row that eject a pod (with "
                                                  "splitExternalLocalOriginErrors)."),
        "splitExternalLocalOriginErrors": Scalar(bool, "Count local-origin failures apart."),
        "interval": duration("Time between two ejection sweeps."),
        "baseEjectionTime": duration("Shortest ejection."),
        "maxEjectionPercent": Scalar(int, "Most pods ejected, in percent.", minimum=0, maximum=100),
        "minHealthPercent": Scalar(int, "Ejection stops below this share of healthy pods.", minimum=0, maximum=100),
    }),
    "tls": Mapping("TLS towards the color.", {
        "mode": Scalar(str, "DISABLE, SIMPLE, MUTUAL or ISTIO_MUTUAL.",
                       enum=("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL")),
        "clientCertificate": Scalar(str, "Client certificate file (MUTUAL).", max_length=4096),
        "privateKey": Scalar(str, "Client key file (MUTUAL).", max_length=4096),
        "caCertificates": Scalar(str, "CA certificates file.", max_length=4096),
        "caCrl": Scalar(str, "Certificate revocation list file.", max_length=4096),
        "credentialName": Scalar(str, "Secret holding the client certificate, key and CA.", max_length=253),
        "subjectAltNames": Sequence("Names the server certificate must carry.",
                                    Scalar(str, "A name.", max_length=253), min_items=1),
        "sni": Scalar(str, "Server name sent in the TLS handshake.", max_length=253),
        "insecureSkipVerify": Scalar(bool, "Skip verifying the server's certificate."),
    }),
})

FIELDS = {"policy": POLICY, "match": MATCH, "trafficPolicy": TRAFFIC_POLICY, "mirror": MIRROR}


def seconds(value: str) -> str:
    """A GEP-2257 duration in seconds, as Istio writes durations: "1m30s" -> "90s", "500ms" -> "0.5s"."""
    millis, number = 0, ""
    scale = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
    i = 0
    while i < len(value):
        if value[i].isdigit():
            number += value[i]
            i += 1
            continue
        unit = "ms" if value.startswith("ms", i) else value[i]
        millis += int(number) * scale[unit]
        number, i = "", i + len(unit)
    whole, fraction = divmod(millis, 1000)
    return f"{whole}.{fraction:03d}".rstrip("0").rstrip(".") + "s"


def milliseconds(value: str) -> int:
    return round(float(seconds(value)[:-1]) * 1000)


# --- rules (run by rules.py) ------------------------------------------------------------------

_AT = ("spec", "routing")


def refusal(key: str, provider: str) -> str | None:
    """Why routing.<key> is refused with `provider` (rules.routing_keys_fit_the_provider says it),
    or None for a key not declared here."""
    if key not in FIELDS:
        return None
    if provider == "service":
        return ("the service provider has no route to carry it (no Istio or Gateway API object); choose "
                "routing.provider istio or gateway-api")
    return "a DestinationRule's traffic policy is Istio's; the Gateway API has no such field"


def fields_the_provider_serves(doc: Document, f: Fields) -> Iterator[Problem]:
    """Refuse a field the provider's API lacks, naming it (routing_keys_fit_the_provider refuses
    whole keys: the service provider takes none of these, gateway-api no trafficPolicy).
    FAIL: routing: {provider: gateway-api, policy: {retries: {attempts: 2}}}
    FAIL: routing: {policy: {backendTimeout: 2s}}"""
    provider = f.routing("provider")
    if provider == "gateway-api" and f.get(*_AT, "policy", "retries") is not None:
        yield doc.problem(_AT + ("policy", "retries"), "the HTTPRoute of the Gateway API standard channel (v1.6.1, "
                          "what bgrender writes) has no retry field (it is experimental); remove it, or retry in "
                          "the client or the Gateway's implementation", key=True)
    if provider == "istio" and f.get(*_AT, "policy", "backendTimeout") is not None:
        yield doc.problem(_AT + ("policy", "backendTimeout"), "Istio's VirtualService has no per-backend timeout; "
                          "use policy.retries.perTryTimeout (a timeout for each try)", key=True)


def timeouts_fit(doc: Document, f: Fields) -> Iterator[Problem]:
    """gateway-api: the backend's timeout may not be longer than the request's (the CRD's rule).
    FAIL: routing: {provider: gateway-api, policy: {timeout: 1s, backendTimeout: 2s}}"""
    timeout, backend = f.get(*_AT, "policy", "timeout"), f.get(*_AT, "policy", "backendTimeout")
    if isinstance(timeout, str) and isinstance(backend, str) and _is_duration(timeout) \
            and _is_duration(backend) and milliseconds(backend) > milliseconds(timeout):
        yield doc.problem(_AT + ("policy", "backendTimeout"), f"must not be longer than policy.timeout "
                                                              f"({quote(timeout)}), got {quote(backend)}")


def _is_duration(value: str) -> bool:
    import re  # only for an app with durations (not at import: see spec.matches)

    return re.fullmatch(DURATION[1:-1], value) is not None


def retry_conditions_are_known(doc: Document, f: Fields) -> Iterator[Problem]:
    """FAIL: retries: {attempts: 2, retryOn: "5xx,sometimes"}"""
    retry_on = f.get(*_AT, "policy", "retries", "retryOn")
    if not isinstance(retry_on, str):
        return
    for condition in retry_on.split(","):
        if condition and condition not in RETRY_ON and not (len(condition) == 3 and condition.isdigit()):
            yield doc.problem(_AT + ("policy", "retries", "retryOn"),
                              f"{quote(condition)} is not a retry condition (known: {', '.join(sorted(RETRY_ON))}, "
                              "or an HTTP status code)")


def cors_lists_are_sets(doc: Document, f: Fields) -> Iterator[Problem]:
    """Each CORS list names an item once, and `*` only alone (the Gateway API's rules).
    FAIL: cors: {allowOrigins: ["*", "https://a.example.com"], allowMethods: [GET, GET]}"""
    for key in ("allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders"):
        items = f.get(*_AT, "policy", "cors", key)
        if not isinstance(items, list):
            continue
        at = _AT + ("policy", "cors", key)
        if "*" in items and len(items) > 1 and key != "exposeHeaders":
            yield doc.problem(at, '"*" allows every one: it must be the only item')
        seen: set[object] = set()
        for i, item in enumerate(items):
            if item in seen:
                yield doc.problem(at + (i,), f"{quote(item)} is listed twice")
            seen.add(item)


def header_changes_fit(doc: Document, f: Fields) -> Iterator[Problem]:
    """At most 16 headers per change, and a header changed once per direction (names are
    case-insensitive).
    FAIL: headers: {request: {set: {X-A: "1"}, remove: [x-a]}}"""
    for direction in ("request", "response"):
        changes = f.get(*_AT, "policy", "headers", direction)
        if not isinstance(changes, dict):
            continue
        seen: set[str] = set()
        for change in ("set", "add", "remove"):
            names = changes.get(change)
            names = list(names) if isinstance(names, (dict, list)) else []
            at = _AT + ("policy", "headers", direction, change)
            if len(names) > MAX_HEADER_CHANGES:
                yield doc.problem(at, f"must hold at most {MAX_HEADER_CHANGES} headers, got {len(names)}")
            for name in (n for n in names if isinstance(n, str)):
                if name.lower() in seen:
                    yield doc.problem(at, f"{quote(name)} is changed twice in the {direction} headers "
                                          "(header names are case-insensitive)")
                seen.add(name.lower())


def one_path_match(doc: Document, f: Fields) -> Iterator[Problem]:
    """FAIL: match: {prefix: /shop, exact: /shop}; match: {}"""
    match = f.get(*_AT, "match")
    if isinstance(match, dict) and ("prefix" in match) == ("exact" in match):
        yield doc.problem(_AT + ("match",), "set exactly one of prefix and exact")


RULES = (fields_the_provider_serves, timeouts_fit, retry_conditions_are_known, cors_lists_are_sets,
         header_changes_fit, one_path_match)
