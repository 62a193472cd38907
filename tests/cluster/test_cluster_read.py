"""cluster.read_live and check_live, through the real kubernetes client, against the fake API server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgrender.errors import Drift
from bgrender.live.cluster import check_live, read_live
from bgrender.live.kubeconfig import Connection

from .conftest import plan_of
from .fake_kube_api import FakeKubeApi, set_production, set_rollout

BLUE = "gorilla-sfx-demo-deployment-bg-blue"
GREEN = "gorilla-sfx-demo-deployment-bg-green"
VS = "gorilla-sfx-demo-virtualservice"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments/"
VIRTUALSERVICES = "/apis/networking.istio.io/{}/namespaces/default/virtualservices/" + VS


def test_reads_both_colors_and_the_production_color(kube_api: FakeKubeApi, live_gorilla: Path,
                                                    conn: Connection) -> None:
    live = read_live(plan_of(live_gorilla), conn)
    assert live.namespace == "default"
    assert live.routing.found and live.routing.production == "blue"
    assert live.routing.api_version == "networking.istio.io/v1"
    blue, green = live.deployments["blue"], live.deployments["green"]
    assert blue is not None and green is not None
    assert (blue.name, blue.version, blue.version_source) == (BLUE, "3f9c2e1d", "annotation")
    assert (green.version, green.replicas, green.ready_replicas, green.rollout_pending) == ("8a1b0c4e", 2, 2, None)


def test_sends_only_gets_of_the_three_objects(kube_api: FakeKubeApi, live_gorilla: Path, conn: Connection) -> None:
    plan = plan_of(live_gorilla)
    read_live(plan, conn)
    check_live(plan, conn)
    assert kube_api.methods() == {"GET"}
    assert kube_api.paths() == [DEPLOYMENTS + BLUE, DEPLOYMENTS + GREEN, VIRTUALSERVICES.format("v1"),
                                VIRTUALSERVICES.format("v1")]


def test_tries_istio_v1_then_v1beta1_then_v1alpha3(kube_api: FakeKubeApi, live_gorilla: Path,
                                                  conn: Connection) -> None:
    kube_api.served["networking.istio.io"] = {"v1alpha3"}  # an Istio older than 1.22
    live = read_live(plan_of(live_gorilla), conn)
    assert live.routing.production == "blue"
    assert live.routing.api_version == "networking.istio.io/v1alpha3"
    assert [p for p in kube_api.paths() if "istio" in p] == [VIRTUALSERVICES.format(v)
                                                             for v in ("v1", "v1beta1", "v1alpha3")]


def test_a_missing_virtualservice_in_a_served_version_ends_the_search(kube_api: FakeKubeApi, live_gorilla: Path,
                                                                     conn: Connection) -> None:
    kube_api.delete("virtualservices", VS)
    routing = read_live(plan_of(live_gorilla), conn).routing
    assert (routing.found, routing.production) == (False, None)
    assert routing.note == f"VirtualService {VS} not found in namespace default"
    assert [p for p in kube_api.paths() if "istio" in p] == [VIRTUALSERVICES.format("v1")]


def test_a_cluster_without_istio_has_no_virtualservice(kube_api: FakeKubeApi, live_gorilla: Path,
                                                       conn: Connection) -> None:
    kube_api.served["networking.istio.io"] = set()
    routing = read_live(plan_of(live_gorilla), conn).routing
    assert (routing.found, routing.production) == (False, None)
    assert "Istio not installed" in (routing.note or "")


def test_a_missing_deployment_reads_as_none(kube_api: FakeKubeApi, live_gorilla: Path, conn: Connection) -> None:
    kube_api.delete("deployments", GREEN)
    assert read_live(plan_of(live_gorilla), conn).deployments["green"] is None


def test_without_the_annotation_the_version_label_tells_the_version(kube_api: FakeKubeApi, live_gorilla: Path,
                                                                    conn: Connection) -> None:
    del kube_api.get("deployments", BLUE)["spec"]["template"]["metadata"]["annotations"]["bgrender.io/version"]
    blue = read_live(plan_of(live_gorilla), conn).deployments["blue"]
    assert blue is not None and (blue.version, blue.version_source) == ("3f9c2e1d", "label")


def test_a_rollout_in_progress_is_reported(kube_api: FakeKubeApi, live_gorilla: Path, conn: Connection) -> None:
    set_rollout(kube_api.get("deployments", GREEN), ready=1, updated=1)
    green = read_live(plan_of(live_gorilla), conn).deployments["green"]
    assert green is not None and green.ready_replicas == 1
    assert green.rollout_pending == "1 of 2 pods updated"


S = "gorilla-sfx-demo-service"  # the example's Service; its colors' are S-blue and S-green


@pytest.mark.parametrize(("http", "note"), [
    ([{"route": [{"destination": {"host": f"{S}-blue"}, "weight": 50},
                 {"destination": {"host": f"{S}-canary"}, "weight": 50}]}],
     f"its default route splits production traffic between {S}-blue, {S}-canary"),
    ([{"route": [{"destination": {"host": S, "subset": "blue"}, "weight": 50},
                 {"destination": {"host": S, "subset": "canary"}, "weight": 50}]}],
     f"its default route splits production traffic between {S} subset blue, {S} subset canary"),
    ([{"route": [{"destination": {"host": f"{S}-canary"}}]}],
     f"its default route sends production traffic to {S}-canary, not to a color's Service"),
    ([{"route": [{"destination": {"host": S, "subset": "canary"}}]}],
     f"its default route sends production traffic to {S} subset canary, not to a color's Service"),
    ([{"route": [{"destination": {"host": "other-blue"}}]}],
     "its default route sends production traffic to other-blue, not to a color's Service"),
    ([{"route": [{"destination": {"host": "other", "subset": "blue"}}]}],
     "its default route sends production traffic to other subset blue, not to a color's Service"),
    ([{"route": [{"destination": {"host": S}}]}],
     f"its default route sends production traffic to {S}, not to a color's Service"),
    ([{"match": [{"headers": {"x-deploy": {"exact": "blue"}}}], "route": [{"destination": {"host": f"{S}-blue"}}]}],
     "it has no default route (an http route without match)"),
    ([{"route": []}], "its default route has no destination"),
])
def test_a_default_route_without_one_color_has_no_production_color(
        kube_api: FakeKubeApi, live_gorilla: Path, conn: Connection, http: list, note: str) -> None:
    kube_api.get("virtualservices", VS)["spec"]["http"] = http
    routing = read_live(plan_of(live_gorilla), conn).routing
    assert (routing.found, routing.production, routing.note) == (True, None, note)


@pytest.mark.parametrize("destination", [
    {"host": f"{S}-green"},  # routing by host, as bgrender renders it (DESIGN §16)
    {"host": f"{S}-green.default.svc.cluster.local", "port": {"number": 9090}},
    {"host": S, "subset": "green"},  # the subsets of the app's host bgrender rendered before
    {"host": f"{S}.default.svc.cluster.local", "subset": "green"},
], ids=["host", "qualified-host", "subset", "qualified-subset"])
def test_the_production_color_is_read_from_the_host_or_the_old_subset(
        kube_api: FakeKubeApi, live_gorilla: Path, conn: Connection, destination: dict) -> None:
    kube_api.get("virtualservices", VS)["spec"]["http"] = [{"route": [{"destination": destination}]}]
    assert read_live(plan_of(live_gorilla), conn).routing.production == "green"


def test_a_zero_weight_destination_takes_no_traffic(kube_api: FakeKubeApi, live_gorilla: Path,
                                                   conn: Connection) -> None:
    kube_api.get("virtualservices", VS)["spec"]["http"] = [
        {"route": [{"destination": {"host": f"{S}-blue"}, "weight": 0},
                   {"destination": {"host": f"{S}-green"}, "weight": 100}]}]
    assert read_live(plan_of(live_gorilla), conn).routing.production == "green"


def test_a_route_matching_every_uri_is_the_default_route(kube_api: FakeKubeApi, live_gorilla: Path,
                                                         conn: Connection) -> None:
    kube_api.get("virtualservices", VS)["spec"]["http"] = [
        {"match": [{"headers": {"x-deploy": {"exact": "blue"}}}], "route": [{"destination": {"host": f"{S}-blue"}}]},
        {"match": [{"uri": {"prefix": "/"}}], "route": [{"destination": {"host": f"{S}-green"}}]}]
    assert read_live(plan_of(live_gorilla), conn).routing.production == "green"


# --- check_live -------------------------------------------------------------------------------


def test_check_live_passes_when_the_live_color_is_active(kube_api: FakeKubeApi, live_gorilla: Path,
                                                         conn: Connection, capsys: pytest.CaptureFixture) -> None:
    assert check_live(plan_of(live_gorilla), conn) is None
    assert capsys.readouterr() == ("", "")


def test_check_live_refuses_naming_both_colors(kube_api: FakeKubeApi, live_gorilla: Path, conn: Connection) -> None:
    set_production(kube_api.get("virtualservices", VS), "green")
    with pytest.raises(Drift) as caught:
        check_live(plan_of(live_gorilla), conn)
    message = str(caught.value)
    assert "production traffic goes to green live" in message
    assert "says active: blue" in message
    assert caught.value.exit_code == 3


def test_check_live_passes_before_the_first_sync_and_says_so(kube_api: FakeKubeApi, live_gorilla: Path,
                                                            conn: Connection,
                                                            capsys: pytest.CaptureFixture) -> None:
    """check_live returns the note and prints nothing: the command prints it (test_cluster_providers)."""
    kube_api.delete("virtualservices", VS)
    note = check_live(plan_of(live_gorilla), conn)
    assert capsys.readouterr() == ("", "")
    assert note == f"check-live: VirtualService {VS} not found in namespace default; " \
                   "no color serves production yet, go ahead"


def test_check_live_refuses_when_the_production_color_is_unclear(kube_api: FakeKubeApi, live_gorilla: Path,
                                                                conn: Connection) -> None:
    kube_api.get("virtualservices", VS)["spec"]["http"] = [
        {"route": [{"destination": {"subset": "blue"}, "weight": 90},
                   {"destination": {"subset": "green"}, "weight": 10}]}]
    with pytest.raises(Drift, match="cannot tell which color serves production"):
        check_live(plan_of(live_gorilla), conn)


def test_check_live_reads_only_the_virtualservice(kube_api: FakeKubeApi, live_gorilla: Path,
                                                  conn: Connection) -> None:
    check_live(plan_of(live_gorilla), conn)
    assert kube_api.requests == [("GET", VIRTUALSERVICES.format("v1"))]


@pytest.mark.parametrize(("route", "share"), [
    ([{"destination": {"host": f"{S}-blue"}, "weight": 90}, {"destination": {"host": f"{S}-green"}, "weight": 10}], 10),
    ([{"destination": {"host": S, "subset": "green"}, "weight": 1},
      {"destination": {"host": f"{S}-blue.default.svc.cluster.local"}, "weight": 3}], 25),
    ([{"destination": {"host": f"{S}-green"}, "weight": 70}, {"destination": {"host": f"{S}-blue"}, "weight": 30}], 70),
    ([{"destination": {"host": f"{S}-blue"}, "weight": 100}, {"destination": {"host": f"{S}-green"}, "weight": 0}], 0),
], ids=["90-10", "relative-weights-and-old-subset", "most-to-the-idle-color", "weight-0"])
def test_a_default_route_split_between_the_colors_reads_as_a_share(
        kube_api: FakeKubeApi, live_gorilla: Path, conn: Connection, route: list, share: int) -> None:
    """A weighted step (DESIGN §18): production is Git's active color (blue), the share the other's."""
    kube_api.get("virtualservices", VS)["spec"]["http"] = [{"route": route}]
    routing = read_live(plan_of(live_gorilla), conn).routing
    assert (routing.production, routing.share, routing.note) == ("blue", share, None)
