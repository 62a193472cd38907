"""`status` and `release --check-live` for each routing provider, against the fake API server:
the production color read from a VirtualService (istio), an HTTPRoute (gateway-api) or the
app's Service (service), through the real click group and kubernetes client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result

from .conftest import deploy, gorilla_with, report, run_cli, status
from .fake_kube_api import GATEWAY_API, FakeKubeApi, set_production

DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments/gorilla-sfx-demo-deployment-bg-"
BLUE_SERVICE, GREEN_SERVICE = "gorilla-sfx-demo-service-blue", "gorilla-sfx-demo-service-green"


@dataclass(frozen=True)
class Routing:
    """The object that says where production goes, for one provider of the gorilla example."""

    provider: str
    kind: str
    name: str
    resource: str
    path: str  # with {} for the version
    api_version: str  # the newest the fake server serves

    def url(self, version: str) -> str:
        return self.path.format(version)


ROUTINGS = [
    Routing("istio", "VirtualService", "gorilla-sfx-demo-virtualservice", "virtualservices",
            "/apis/networking.istio.io/{}/namespaces/default/virtualservices/gorilla-sfx-demo-virtualservice",
            "networking.istio.io/v1"),
    Routing("gateway-api", "HTTPRoute", "gorilla-sfx-demo-route", "httproutes",
            f"/apis/{GATEWAY_API}/{{}}/namespaces/default/httproutes/gorilla-sfx-demo-route", f"{GATEWAY_API}/v1"),
    Routing("service", "Service", "gorilla-sfx-demo-service", "services",
            "/api/{}/namespaces/default/services/gorilla-sfx-demo-service", "v1"),
]
HTTP_ROUTE, SERVICE = ROUTINGS[1], ROUTINGS[2]
ONLY_GATEWAY_API = pytest.mark.parametrize("routing", [HTTP_ROUTE], indirect=True, ids=["gateway-api"])
ONLY_SERVICE = pytest.mark.parametrize("routing", [SERVICE], indirect=True, ids=["service"])


@pytest.fixture(params=ROUTINGS, ids=lambda r: r.provider)
def routing(request: pytest.FixtureRequest) -> Routing:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def app(tmp_path: Path, routing: Routing) -> Path:
    return gorilla_with(routing.provider, tmp_path)


@pytest.fixture
def live_app(kube_api: FakeKubeApi, app: Path) -> Path:
    deploy(kube_api, app)
    return app


def release(app: Path, kubeconfig: Path) -> Result:
    return run_cli("release", "9b8c7d6e", str(app), "--check-live", "--kubeconfig", str(kubeconfig))


def released(app: Path) -> bool:
    return "version: 9b8c7d6e" in (app / "bluegreen.yaml").read_text()


def one_printable_line(text: str) -> bool:
    return text.count("\n") == 1 and text.endswith("\n") and all(" " <= c <= "~" for c in text[:-1])


# --- each provider: in sync, switched by hand, not there yet -----------------------------------


def test_in_sync(kube_api: FakeKubeApi, live_app: Path, kubeconfig: Path, routing: Routing) -> None:
    result = status(live_app, kubeconfig)
    assert (result.exit_code, result.stderr) == (0, "")
    assert f"production  git: blue  live: blue  ({routing.kind} {routing.name}, {routing.api_version})\n" \
           in result.stdout
    assert result.stdout.endswith("\nin sync with Git\n")
    assert kube_api.paths() == [DEPLOYMENTS + "blue", DEPLOYMENTS + "green", routing.url("v1")]


def test_check_live_reads_only_the_routing_object_and_releases(kube_api: FakeKubeApi, live_app: Path,
                                                               kubeconfig: Path, routing: Routing) -> None:
    result = release(live_app, kubeconfig)
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    assert released(live_app)
    assert kube_api.requests == [("GET", routing.url("v1"))]


def test_production_switched_by_hand(kube_api: FakeKubeApi, live_app: Path, kubeconfig: Path,
                                     routing: Routing) -> None:
    set_production(kube_api.get(routing.resource, routing.name), "green")
    code, seen = report(live_app, kubeconfig)
    assert (code, seen["active"], seen["drift"]) == (
        3, {"git": "blue", "live": "green"}, ["production traffic goes to green live, but Git says active: blue"])
    before = (live_app / "bluegreen.yaml").read_bytes()
    refused = release(live_app, kubeconfig)
    assert (refused.exit_code, refused.stdout) == (3, "")
    assert refused.stderr.startswith("refusing to release: production traffic goes to green live, but ")
    assert (live_app / "bluegreen.yaml").read_bytes() == before


def test_before_the_first_sync(kube_api: FakeKubeApi, live_app: Path, kubeconfig: Path, routing: Routing) -> None:
    kube_api.delete(routing.resource, routing.name)
    code, seen = report(live_app, kubeconfig)
    missing = f"{routing.kind} {routing.name} not found in namespace default"
    assert (code, seen["active"]["live"], seen["routing"]["found"], seen["routing"]["note"]) == (3, None, False,
                                                                                                   missing)
    result = release(live_app, kubeconfig)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(f"check-live: {missing}; no color serves production yet, go ahead\n")
    assert released(live_app)


# --- the Gateway API: versions, catch-all rules ------------------------------------------------


@ONLY_GATEWAY_API
def test_an_http_route_served_only_as_v1beta1(kube_api: FakeKubeApi, live_app: Path, kubeconfig: Path) -> None:
    kube_api.served[GATEWAY_API] = {"v1beta1"}  # the Gateway API before 1.0
    code, seen = report(live_app, kubeconfig)
    assert (code, seen["active"]["live"], seen["routing"]["apiVersion"]) == (0, "blue", f"{GATEWAY_API}/v1beta1")
    assert kube_api.paths()[2:] == [HTTP_ROUTE.url("v1"), HTTP_ROUTE.url("v1beta1")]
    assert release(live_app, kubeconfig).exit_code == 0


@ONLY_GATEWAY_API
def test_a_cluster_without_the_gateway_api(kube_api: FakeKubeApi, live_app: Path, kubeconfig: Path) -> None:
    kube_api.served[GATEWAY_API] = set()
    code, seen = report(live_app, kubeconfig)
    note = f"the cluster serves no {GATEWAY_API} v1/v1beta1 (the Gateway API not installed?)"
    assert (code, seen["routing"]["found"], seen["routing"]["note"]) == (3, False, note)
    assert seen["drift"] == [f"no live production color for Git's active: blue ({note})"]
    result = release(live_app, kubeconfig)
    assert result.exit_code == 0
    assert result.stderr.startswith(f"check-live: {note}; no color serves production yet, go ahead\n")


def catch_all(route: dict) -> dict:
    (rule,) = [r for r in route["spec"]["rules"] if not any(m.get("headers") for m in r["matches"])]
    return rule


@ONLY_GATEWAY_API
def test_a_catch_all_rule_split_between_the_colors_is_a_share_and_refuses_a_release(
        kube_api: FakeKubeApi, live_app: Path, kubeconfig: Path) -> None:
    """Backend weights are a weighted step (DESIGN §18): green gets a share, which Git does not
    give it; a release would replace green under its users."""
    rule = catch_all(kube_api.get("httproutes", HTTP_ROUTE.name))
    rule["backendRefs"] = [{"name": BLUE_SERVICE, "port": 9090, "weight": 90},
                           {"name": GREEN_SERVICE, "port": 9090, "weight": 10}]
    code, seen = report(live_app, kubeconfig)
    assert (code, seen["active"]["live"], seen["routing"]["note"]) == (3, "blue", None)
    assert seen["traffic"] == {"git": {"blue": 100}, "live": {"blue": 90, "green": 10}}
    assert seen["drift"] == ["production traffic goes blue 90%, green 10% live, but Git says blue 100%"]
    refused = release(live_app, kubeconfig)
    assert (refused.exit_code, refused.stdout) == (3, "")
    assert refused.stderr == (f"refusing to release: green gets 10% of production traffic live (HTTPRoute "
                              f"{HTTP_ROUTE.name}); the release would replace a color serving users (finish the "
                              "step with `bgrender promote`, or take the share back with `bgrender rollback`, and "
                              "sync first)\n")
    assert not released(live_app)


@ONLY_GATEWAY_API
def test_a_catch_all_rule_split_with_another_backend_has_no_production_color(
        kube_api: FakeKubeApi, live_app: Path, kubeconfig: Path) -> None:
    rule = catch_all(kube_api.get("httproutes", HTTP_ROUTE.name))
    rule["backendRefs"] = [{"name": BLUE_SERVICE, "port": 9090, "weight": 90},
                           {"name": "canary", "port": 9090, "weight": 10}]
    note = f"its catch-all rule splits production traffic between canary, {BLUE_SERVICE}"
    code, seen = report(live_app, kubeconfig)
    assert (code, seen["active"]["live"], seen["routing"]["note"]) == (3, None, note)
    refused = release(live_app, kubeconfig)
    assert (refused.exit_code, refused.stdout) == (3, "")
    assert refused.stderr == ("refusing to release: cannot tell which color serves production from HTTPRoute "
                              f"{HTTP_ROUTE.name} ({note})\n")
    assert not released(live_app)


@ONLY_GATEWAY_API
def test_a_backend_of_weight_0_takes_no_traffic(kube_api: FakeKubeApi, live_app: Path,
                                                kubeconfig: Path) -> None:
    catch_all(kube_api.get("httproutes", HTTP_ROUTE.name))["backendRefs"] = [
        {"name": BLUE_SERVICE, "port": 9090, "weight": 0}, {"name": GREEN_SERVICE, "port": 9090, "weight": 1}]
    assert report(live_app, kubeconfig)[1]["active"]["live"] == "green"


@ONLY_GATEWAY_API
def test_a_lone_backend_of_weight_0_takes_no_traffic_either(kube_api: FakeKubeApi, live_app: Path,
                                                            kubeconfig: Path) -> None:
    catch_all(kube_api.get("httproutes", HTTP_ROUTE.name))["backendRefs"][0]["weight"] = 0
    code, seen = report(live_app, kubeconfig)
    assert (code, seen["active"]["live"], seen["routing"]["note"]) == (
        3, None, "its catch-all rule sends production traffic to no backend (none has a weight above 0)")
    assert release(live_app, kubeconfig).exit_code == 3


@ONLY_GATEWAY_API
def test_a_rule_matching_a_header_is_not_the_production_rule(kube_api: FakeKubeApi, live_app: Path,
                                                             kubeconfig: Path) -> None:
    route = kube_api.get("httproutes", HTTP_ROUTE.name)
    header = {"matches": [{"path": {"type": "PathPrefix", "value": "/"},
                           "headers": [{"type": "Exact", "name": "x-deploy", "value": "green"}]}],
              "backendRefs": [{"group": "", "kind": "Service", "name": GREEN_SERVICE, "port": 9090, "weight": 1}]}
    route["spec"]["rules"].insert(0, header)
    code, seen = report(live_app, kubeconfig)
    assert (code, seen["active"]["live"]) == (0, "blue")


@ONLY_GATEWAY_API
def test_a_forged_backend_name_stays_on_its_line(kube_api: FakeKubeApi, live_app: Path,
                                                 kubeconfig: Path) -> None:
    catch_all(kube_api.get("httproutes", HTTP_ROUTE.name))["backendRefs"] = [
        {"name": "x\nin sync with Git\x1b[2J", "port": 9090, "weight": 1}]
    result = status(live_app, kubeconfig)
    assert result.exit_code == 3
    assert "in sync with Git" not in result.stdout.splitlines()
    assert "to x\\nin sync with Git\\x1b[2J, not a color's Service" in result.stdout
    assert all(" " <= c <= "~" for c in result.stdout.replace("\n", ""))


# --- the Service: its selector -----------------------------------------------------------------


@ONLY_SERVICE
def test_a_selector_without_the_color_sends_production_to_both(kube_api: FakeKubeApi, live_app: Path,
                                                               kubeconfig: Path) -> None:
    del kube_api.get("services", SERVICE.name)["spec"]["selector"]["deploy"]
    note = "its selector has no deploy label: it sends production traffic to both colors"
    code, seen = report(live_app, kubeconfig)
    assert (code, seen["active"]["live"], seen["routing"]["note"]) == (3, None, note)
    refused = release(live_app, kubeconfig)
    assert (refused.exit_code, refused.stdout) == (3, "")
    assert f"cannot tell which color serves production from Service {SERVICE.name} ({note})" in refused.stderr


# --- malformed objects: one escaped line, exit 4 -----------------------------------------------

HOSTILE_KIND = "Route\x1b[2J\nin sync with Git\u202e"


@pytest.mark.parametrize(("routing", "spoil", "detail"), [
    (HTTP_ROUTE, lambda obj: obj["spec"].update(rules={"backendRefs": []}), "spec.rules is dict, expected list"),
    (HTTP_ROUTE, lambda obj: obj["spec"]["rules"][0]["backendRefs"][0].update(weight="all"),
     "spec.rules[].backendRefs[].weight is str, expected int"),
    (HTTP_ROUTE, lambda obj: obj.update(kind=HOSTILE_KIND),
     'expected a HTTPRoute, got kind "Route\\x1b[2J in sync with Git\\u202e"'),
    (SERVICE, lambda obj: obj["spec"].update(selector=["deploy", "blue"]), "spec.selector is list, expected dict"),
    (SERVICE, lambda obj: obj.update(kind=HOSTILE_KIND),
     'expected a Service, got kind "Route\\x1b[2J in sync with Git\\u202e"'),
], indirect=["routing"], ids=["rules", "weight", "kind", "selector", "kind"])
def test_a_malformed_routing_object_is_one_escaped_line(kube_api: FakeKubeApi, live_app: Path, kubeconfig: Path,
                                                        routing: Routing, spoil: Callable[[dict], None],
                                                        detail: str) -> None:
    spoil(kube_api.get(routing.resource, routing.name))
    request = f"get {routing.resource}{'.' + GATEWAY_API if routing.kind == 'HTTPRoute' else ''} {routing.name} (v1)"
    for result in (status(live_app, kubeconfig), release(live_app, kubeconfig)):
        assert (result.exit_code, result.stdout) == (4, "")
        assert one_printable_line(result.stderr), result.stderr
        assert result.stderr == (f"malformed answer from the Kubernetes API server at {kube_api.url} to {request} "
                                 f"in namespace default: {detail}\n")
    assert not released(live_app)


# --- a look-alike of the app's own objects is not production (#26, class 8) --------------------


def _lookalike(obj: dict, provider: str) -> None:
    """The live routing object edited to send production to what only looks like blue's Service."""
    if provider == "istio":
        (default,) = [r for r in obj["spec"]["http"] if not r.get("match")]
        default["route"][0]["destination"]["host"] = f"{BLUE_SERVICE}.elsewhere.svc.cluster.local"
    elif provider == "gateway-api":
        catch_all = [r for r in obj["spec"]["rules"] if not any(m.get("headers") for m in r["matches"])]
        for rule in catch_all:
            rule["backendRefs"][0]["namespace"] = "elsewhere"
    else:
        obj["spec"]["selector"]["app"] = "payments"


def test_a_look_alike_in_another_namespace_or_of_another_app_is_not_in_sync(
        kube_api: FakeKubeApi, live_app: Path, kubeconfig: Path, routing: Routing) -> None:
    _lookalike(kube_api.get(routing.resource, routing.name), routing.provider)
    code, seen = report(live_app, kubeconfig)
    assert (code, seen["inSync"], seen["active"]["live"]) == (3, False, None), seen
    (reason,) = seen["drift"]
    assert reason.startswith("no live production color for Git's active: blue ("), reason


@pytest.mark.parametrize(("host", "exit_code"), [
    # The app's own namespace, by any name Istio resolves to the color's Service: in sync.
    (BLUE_SERVICE, 0), (f"{BLUE_SERVICE}.default.svc.cluster.local", 0),
    (f"{BLUE_SERVICE}.default.svc.corp.example", 0),
    # Names Istio takes as they are, which no Service of the registry has: drift.
    (f"{BLUE_SERVICE}.default", 3), (f"{BLUE_SERVICE}.example.com", 3), (f"{BLUE_SERVICE}.default.svc", 3),
])
@pytest.mark.parametrize("routing", [ROUTINGS[0]], indirect=True, ids=["istio"])
def test_a_host_is_the_color_s_service_only_as_istio_resolves_it(
        kube_api: FakeKubeApi, live_app: Path, kubeconfig: Path, routing: Routing, host: str, exit_code: int) -> None:
    vs = kube_api.get(routing.resource, routing.name)
    (default,) = [r for r in vs["spec"]["http"] if not r.get("match")]
    default["route"][0]["destination"]["host"] = host
    assert status(live_app, kubeconfig).exit_code == exit_code
