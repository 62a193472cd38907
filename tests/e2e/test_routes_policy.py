"""What routes carry besides their destination (DESIGN §18), on the real API server with the
vendored CRDs (e2e/crds: Istio's networking.istio.io, the Gateway API standard channel).

An app rendered with every routing field of §18 (routing.policy, .match, .trafficPolicy,
.mirror) is applied for real (server-side apply, as Argo CD applies; the CRDs' structural
schemas, strict field validation and CEL rules all run), once with Istio and once with the
Gateway API, and what the server stores holds every field as rendered. Then the other side:
what bgrender refuses on the Gateway API, the server refuses too (a rule's `retry` is not in
the standard channel; a backend timeout longer than the request's breaks the CRD's rule), so
the refusals are the API's own, not bgrender's taste.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ..conftest import GOLDEN
from .conftest import Cluster, render

pytestmark = pytest.mark.e2e

NAMESPACE = "e2e-routes-policy"
CASES = {"istio": GOLDEN / "render" / "routes-policy-istio",
         "gateway-api": GOLDEN / "render" / "routes-policy-gateway-api"}
ROUTING_KINDS = ("VirtualService", "DestinationRule", "HTTPRoute")


@pytest.fixture(scope="module")
def namespace(cluster: Cluster) -> str:
    return cluster.namespace(NAMESPACE, labels={})  # the routes are the subject here, not the pods' security


def _apply(cluster: Cluster, objs: list[dict], check: bool = True):
    for obj in objs:
        if cluster.k.resource_of(obj)[1]:
            obj["metadata"]["namespace"] = NAMESPACE
    return cluster.kubectl("apply", "--server-side", "--field-manager", "argocd-controller", "-f", "-",
                           stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}), check=check)


def _held(rendered: Any, stored: Any, where: str = "spec") -> None:
    """Everything rendered is stored as it was (the server may add defaults beside it)."""
    if isinstance(rendered, dict):
        assert isinstance(stored, dict), where
        for key, value in rendered.items():
            assert key in stored, f"{where}.{key} was dropped by the API server"
            _held(value, stored[key], f"{where}.{key}")
    elif isinstance(rendered, list):
        assert isinstance(stored, list) and len(stored) == len(rendered), where
        for i, (a, b) in enumerate(zip(rendered, stored)):
            _held(a, b, f"{where}[{i}]")
    else:
        assert rendered == stored, f"{where}: rendered {rendered!r}, stored {stored!r}"


@pytest.mark.parametrize("provider", list(CASES))
def test_every_routing_field_is_admitted_and_stored_as_rendered(cluster: Cluster, namespace: str, provider: str):
    objs = render(CASES[provider])
    routing = [o for o in objs if o["kind"] in ROUTING_KINDS]
    kinds = {o["kind"] for o in routing}
    assert kinds == ({"VirtualService", "DestinationRule"} if provider == "istio" else {"HTTPRoute"})
    proc = _apply(cluster, objs)
    assert proc.returncode == 0, proc.stderr
    for obj in routing:
        plural = cluster.k.resource_of(obj)[0]
        stored = cluster.get(plural, obj["metadata"]["name"], NAMESPACE)
        assert stored is not None, obj["metadata"]["name"]
        _held(obj["spec"], stored["spec"])
    if provider == "gateway-api":  # the mirror and the policy filters reached the server on the production rule
        stored = cluster.get("httproutes.gateway.networking.k8s.io", "web-gateway", NAMESPACE)
        types = [f["type"] for f in stored["spec"]["rules"][0]["filters"]]
        assert types == ["CORS", "RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror"]


def _gateway_route(objs: list[dict]) -> dict:
    (route,) = [o for o in objs if o["kind"] == "HTTPRoute" and o["metadata"]["name"] == "web-gateway"]
    route["metadata"]["name"] = "web-refused"
    return route


@pytest.mark.parametrize("change, refusal", [
    ({"retry": {"attempts": 2}}, "unknown field"),  # experimental channel only: bgrender refuses policy.retries
    ({"timeouts": {"request": "1s", "backendRequest": "2s"}}, "backendRequest timeout cannot be longer"),
    ({"timeouts": {"request": "1m30s500us"}}, "spec.rules[0].timeouts.request"),  # not a Gateway API Duration
], ids=["retry", "backend-timeout-longer", "duration-format"])
def test_what_bgrender_refuses_on_the_gateway_api_the_server_refuses(cluster: Cluster, namespace: str,
                                                                      change: dict, refusal: str):
    route = _gateway_route(render(CASES["gateway-api"]))
    route["spec"]["rules"][0].update(change)
    proc = _apply(cluster, [route], check=False)
    assert proc.returncode != 0 and refusal in proc.stderr, proc.stderr
    assert cluster.get("httproutes.gateway.networking.k8s.io", "web-refused", NAMESPACE) is None
