"""What routes carry besides their destination (DESIGN §18), held to the upstream APIs: every
field bgrender declares for routing.trafficPolicy exists in Istio's DestinationRule CRD with
the same type; what it refuses on the Gateway API is absent from the standard channel it
writes (and only in the experimental one); its patterns accept only what the CRDs accept; the
mirror follows the idle color's replicas; status reads the production color back through a
path match."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bgrender.app.pipeline import find_intent, plan_app, read_texts, render_app
from bgrender.intent import routes
from bgrender.intent.nodes import Map, Mapping, Scalar, Sequence
from bgrender.intent.spec import matches
from bgrender.routing import gateway_api, istio

from .conftest import GOLDEN, REPO, case_env, clean_env, shared_dir

ISTIO_CASE = GOLDEN / "render" / "routes-policy-istio"
GATEWAY_CASE = GOLDEN / "render" / "routes-policy-gateway-api"
EXPERIMENTAL = REPO / "tests" / "data" / "gateway-api" / "httproutes-experimental-v1.6.1.yaml"


@cache
def _crds(path: str) -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> openAPIV3Schema, for every served version of the CRDs in `path`."""
    out = {}
    for crd in yaml.safe_load_all(Path(path).read_text()):
        for version in (crd or {}).get("spec", {}).get("versions", []):
            out[(f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])] = \
                version["schema"]["openAPIV3Schema"]
    return out


def _istio() -> dict[tuple[str, str], dict]:
    return _crds(str(shared_dir() / "schemas" / "istio-networking-crds.yaml"))


def _standard() -> dict[tuple[str, str], dict]:
    return _crds(str(shared_dir() / "schemas" / "gateway-api-httproutes-v1.6.1.yaml"))


def _experimental() -> dict[tuple[str, str], dict]:
    return _crds(str(EXPERIMENTAL))


def _rule_schema(schemas: dict, version: str) -> dict:
    return schemas[(f"gateway.networking.k8s.io/{version}", "HTTPRoute")]["properties"]["spec"]["properties"][
        "rules"]["items"]


# --- declared fields against the CRDs -----------------------------------------------------------------------


def _same_shape(node, schema: dict, where: str) -> None:
    """`node` (bgrender's declaration) asks only for what `schema` (the CRD's) accepts."""
    expected = {Mapping: "object", Map: "object", Sequence: "array"}.get(type(node))
    if isinstance(node, Scalar):
        expected = {str: "string", int: "integer", bool: "boolean"}[node.type]
        if node.enum:
            assert set(node.enum) <= set(schema["enum"]), where
    assert schema.get("type") == expected, where
    if isinstance(node, Mapping):
        for key, field in node.fields.items():
            assert key in schema.get("properties", {}), f"{where}.{key}: not in the CRD"
            _same_shape(field, schema["properties"][key], f"{where}.{key}")
    if isinstance(node, Sequence):
        _same_shape(node.item, schema["items"], where + "[]")


@pytest.mark.parametrize("version", ["v1", "v1beta1", "v1alpha3"])
def test_every_traffic_policy_field_is_the_destination_rules_own(version):
    schema = _istio()[(f"networking.istio.io/{version}", "DestinationRule")]
    _same_shape(routes.TRAFFIC_POLICY, schema["properties"]["spec"]["properties"]["trafficPolicy"], "trafficPolicy")


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_the_gateway_api_fields_refused_are_experimental_only_and_the_ones_written_are_standard(version):
    standard, experimental = _rule_schema(_standard(), version), _rule_schema(_experimental(), version)
    assert "retry" not in standard["properties"] and "retry" in experimental["properties"]
    for rule in (standard, experimental):
        assert {"timeouts", "filters", "matches"} <= set(rule["properties"])
        filters = rule["properties"]["filters"]["items"]["properties"]
        assert {"CORS", "RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror"} <= set(
            filters["type"]["enum"])
        assert {"percent", "fraction"} <= set(filters["requestMirror"]["properties"])
        # routes.DURATION is the CRD's Duration, narrowed to values above zero.
        assert rule["properties"]["timeouts"]["properties"]["request"]["pattern"] == \
            routes.DURATION.replace("(?=[^1-9]*[1-9])", "")
        assert set(routes.POLICY.fields["cors"].fields) == set(filters["cors"]["properties"])


def _objects(case, env: dict | None = None) -> list[dict]:
    return render_app(find_intent(case), clean_env({**case_env(case), **(env or {})}))


@pytest.mark.parametrize("api", ["networking.istio.io/v1", "networking.istio.io/v1beta1",
                                 "networking.istio.io/v1alpha3"])
def test_istio_routes_and_destination_rules_match_every_istio_version(api):
    objects = _objects(ISTIO_CASE, {"KUBE_API_VERSIONS": api})
    routing = [o for o in objects if o["kind"] in ("VirtualService", "DestinationRule")]
    assert {o["kind"] for o in routing} == {"VirtualService", "DestinationRule"}
    for obj in routing:
        assert obj["apiVersion"] == api
        jsonschema.validate(obj, _istio()[(api, obj["kind"])], cls=jsonschema.Draft7Validator)


@pytest.mark.parametrize("api", ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"])
def test_http_routes_match_both_channels_in_every_version(api):
    routes_ = [o for o in _objects(GATEWAY_CASE, {"KUBE_API_VERSIONS": api}) if o["kind"] == "HTTPRoute"]
    assert len(routes_) == 4
    for route in routes_:
        for schemas in (_standard(), _experimental()):
            jsonschema.validate(route, schemas[(api, "HTTPRoute")], cls=jsonschema.Draft7Validator)


# --- patterns against the CRDs' own -----------------------------------------------------------------------------


def _gateway_rule_properties() -> dict:
    return _rule_schema(_standard(), "v1")["properties"]


def _cel_path_ok(value: str) -> bool:
    """The HTTPRoute CRD's CEL rules for an Exact or PathPrefix path, written out."""
    return (value.startswith("/") and not any(bad in value for bad in ("//", "/./", "/../", "%2f", "%2F", "#"))
            and not value.endswith(("/..", "/.")) and len(value) <= 1024
            and re.fullmatch(r"(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+", value) is not None)


PATH_ALPHABET = st.text(alphabet="/.%2fFa-~#: @", max_size=12)


@settings(max_examples=400, deadline=None)
@given(PATH_ALPHABET)
def test_path_pattern_accepts_exactly_what_the_http_route_accepts(value):
    assert matches(routes.PATH, value) == _cel_path_ok(value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789hmsx ", max_size=10))
def test_duration_pattern_accepts_only_crd_durations_above_zero(value):
    crd = _gateway_rule_properties()["timeouts"]["properties"]["request"]["pattern"]
    ours = matches(routes.DURATION, value)
    assert ours == (re.fullmatch(crd.strip("^$"), value) is not None and any(c in "123456789" for c in value))
    if ours:
        assert re.fullmatch(r"[0-9]+(\.[0-9]+)?s", routes.seconds(value))  # Istio's (protobuf) form
        assert routes.milliseconds(value) > 0


@pytest.mark.parametrize("value, expected", [("500ms", "0.5s"), ("1m30s", "90s"), ("1h", "3600s"), ("1s250ms", "1.25s"),
                                             ("2m0s", "120s"), ("1ms", "0.001s")])
def test_istio_durations_are_written_in_seconds(value, expected):
    assert routes.seconds(value) == expected


@pytest.mark.parametrize("origin", ["*", "https://shop.example.com", "http://*.example.com:8080", "https://*",
                                    "shop.example.com", "ftp://x", "https://a/b", "https://*x.example.com"])
def test_origin_pattern_is_the_crds(origin):
    cors = _gateway_rule_properties()["filters"]["items"]["properties"]["cors"]["properties"]
    crd = cors["allowOrigins"]["items"]["pattern"]
    assert matches(routes.ORIGIN, origin) == (re.search(crd, origin) is not None)


@pytest.mark.parametrize("name", ["X-App", "x-app", "bad header", "a:b", "", "x_y.z~"])
def test_header_pattern_is_the_crds(name):
    crd = _gateway_rule_properties()["filters"]["items"]["properties"]["requestHeaderModifier"]["properties"][
        "set"]["items"]["properties"]["name"]["pattern"]
    assert matches(routes.HEADER, name) == (re.fullmatch(crd.strip("^$").replace("\\x60", "`"), name) is not None)


# --- the mirror follows the idle color's replicas --------------------------------------------------------------


def _with(case, old: str, new: str) -> list[dict]:
    texts = read_texts(find_intent(case))
    assert old in texts.intent
    return render_app(find_intent(case), clean_env(case_env(case)),
                      texts.replace(intent=texts.intent.replace(old, new)))


def _mirrored(objects: list[dict]) -> list[str]:
    return [r["mirror"]["host"] for o in objects if o["kind"] == "VirtualService" for r in o["spec"]["http"]
            if "mirror" in r] + [f["requestMirror"]["backendRef"]["name"] for o in objects if o["kind"] == "HTTPRoute"
                                 for rule in o["spec"]["rules"] for f in rule.get("filters", [])
                                 if f["type"] == "RequestMirror"]


@pytest.mark.parametrize("case, idle", [(ISTIO_CASE, "green"), (GATEWAY_CASE, "blue")])
def test_no_mirror_to_an_idle_color_without_replicas_or_version(case, idle):
    assert set(_mirrored(_objects(case))) == {f"web-{idle}"}
    assert _mirrored(_with(case, "  deployment: deployment.yaml", "  deployment: deployment.yaml\n  idleReplicas: 0")) \
        == []
    version = {"green": "v1.1.0", "blue": "v1.0.0"}[idle]
    objects = _with(case, f"  {idle}:\n    version: {version}\n", "")  # the idle color not deployed
    assert _mirrored(objects) == []
    assert [o["spec"]["host"] for o in objects if o["kind"] == "DestinationRule"] == (
        [] if case == GATEWAY_CASE else ["web-blue"])


def test_without_the_new_fields_the_routes_carry_only_their_destinations():
    """The fields of DESIGN §18 are the only source of what a route carries besides its
    destination: with them removed, no DestinationRule, and routes hold only name, match, route."""
    text = read_texts(find_intent(ISTIO_CASE)).intent
    kept = text.split("    match: {prefix: /web}\n")[0]
    objects = render_app(find_intent(ISTIO_CASE), clean_env(case_env(ISTIO_CASE)),
                         read_texts(find_intent(ISTIO_CASE)).replace(intent=kept))
    assert [o for o in objects if o["kind"] == "DestinationRule"] == []
    (vs,) = [o for o in objects if o["kind"] == "VirtualService"]
    assert [sorted(r) for r in vs["spec"]["http"]] == [["match", "name", "route"]] * 2 + [["name", "route"]]


# --- status reads production back through the path match --------------------------------------------------------


@pytest.mark.parametrize("case, module, kind", [(ISTIO_CASE, istio, "VirtualService"),
                                                (GATEWAY_CASE, gateway_api, "HTTPRoute")])
def test_status_finds_the_production_color_of_a_route_with_a_path_match(case, module, kind):
    plan = plan_app(find_intent(case), clean_env(case_env(case)))
    live = module.live(plan)
    (obj,) = [o for o in _objects(case) if o["kind"] == kind and o["metadata"]["name"] == live.name]
    assert module.production(obj, plan).color == plan.intent.active


# --- import carries back what the Istio render writes ------------------------------------------------------------

ROUND_TRIPS = [
    ("    match: {prefix: /web}\n    policy:\n      timeout: 1m30s\n"
     "      retries: {attempts: 3, perTryTimeout: 500ms, retryOn: \"5xx,connect-failure,503\"}\n"
     "      cors: {allowOrigins: [\"https://shop.example.com\"], allowMethods: [GET], maxAge: 600,"
     " allowCredentials: true}\n"
     "      headers: {request: {set: {x-app: web}, remove: [x-debug]}, response: {add: {cache-control: no-store}}}\n"
     "    trafficPolicy:\n      connectionPool: {tcp: {connectTimeout: 2s}, http: {idleTimeout: 1h}}\n"
     "      outlierDetection: {consecutive5xxErrors: 5, interval: 1s250ms}\n      tls: {mode: ISTIO_MUTUAL}\n"),
    "    match: {exact: /web/api}\n    policy: {timeout: 1h1m1s1ms}\n",
    "    policy: {headers: {response: {remove: [server]}}}\n",
]


@pytest.mark.parametrize("fields", ROUND_TRIPS)
def test_import_carries_back_what_the_istio_render_writes(fields):
    """Render an app with routing.policy, .match, .trafficPolicy; read its VirtualService and
    DestinationRule as a layout's (import's route_policy): the same fields come back."""
    from bgrender.importing.layouts import Manifest
    from bgrender.importing.route_policy import carry

    text = read_texts(find_intent(ISTIO_CASE)).intent.split("    match: {prefix: /web}\n")[0] + fields
    objects = render_app(find_intent(ISTIO_CASE), clean_env(case_env(ISTIO_CASE)),
                         read_texts(find_intent(ISTIO_CASE)).replace(intent=text))
    (vs,) = [o for o in objects if o["kind"] == "VirtualService"]
    rules = [o for o in objects if o["kind"] == "DestinationRule"] or [{"kind": "DestinationRule", "spec": {}}]
    http = vs["spec"]["http"]
    carried = carry(Manifest(vs, "render"), list(range(len(http))), len(http) - 1, Manifest(rules[0], "render"))
    expected = yaml.safe_load(text)["spec"]["routing"]
    assert carried.routing == {k: expected[k] for k in ("policy", "match", "trafficPolicy") if k in expected}
    assert [n for n in carried.notes if "not carried" in n] == []
