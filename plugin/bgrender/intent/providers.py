"""The routing providers (DESIGN §10): the one place their names, their APIs and the routing
keys each reads are written. routing/ builds and reads their objects; spec.py, rules.py and
the plan take their facts from here.
"""

from __future__ import annotations

from bgrender.record import Record

# The gateway name meaning "callers inside the mesh" (Istio's; bgrender uses it for every provider).
MESH = "mesh"


class Provider(Record):
    name: str  # as spec.routing.provider says it
    group: str  # the API group of its objects ("" for the core group)
    versions: tuple[str, ...]  # the API versions bgrender can write, newest first
    api: str  # its API, for messages
    product: str  # what serves that API, for messages
    routing_keys: frozenset[str]  # the spec.routing keys it reads besides `provider`


ISTIO = Provider("istio", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"),  # v1 since Istio 1.22
                 "Istio networking API", "Istio",
                 frozenset({"header", "hosts", "gateways", "meshRouting", "preview", "virtualService",
                            "destinationRule"}))
GATEWAY_API = Provider("gateway-api", "gateway.networking.k8s.io", ("v1", "v1beta1"),  # HTTPRoute is v1 since 1.0
                       "HTTPRoute API", "the Gateway API",
                       frozenset({"header", "hosts", "gateways", "meshRouting", "preview", "httpRoute"}))
SERVICE = Provider("service", "", ("v1",), "the core API", "the core API", frozenset())  # always served

PROVIDERS = {p.name: p for p in (ISTIO, GATEWAY_API, SERVICE)}
