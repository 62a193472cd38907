"""`bgrender status` for an app with spec.autoscaling (examples/orders): each color's HPA read,
shown (current/desired replicas, min-max) and compared with Git, against the fake API server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import copy_example, deploy, report, run_cli, status
from .fake_kube_api import FakeKubeApi, set_scale

NS = "shop"
HPAS = f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments/"


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    return copy_example("orders", tmp_path)


@pytest.fixture
def live_orders(kube_api: FakeKubeApi, orders: Path) -> Path:
    deploy(kube_api, orders)
    return orders


def hpa(api: FakeKubeApi, color: str) -> dict:
    return api.get("horizontalpodautoscalers", f"orders-{color}", NS)


def row(table: str, color: str) -> list[str]:
    (line,) = [line for line in table.splitlines() if line.startswith(color + " ")]
    return re.split(r"  +", line)


def test_in_sync_shows_each_colors_hpa(kube_api: FakeKubeApi, live_orders: Path, kubeconfig: Path) -> None:
    result = status(live_orders, kubeconfig)
    assert (result.exit_code, result.stderr) == (0, "")
    assert row(result.stdout, "COLOR") == ["COLOR", "GIT VERSION", "LIVE VERSION", "READY", "HPA", "STATE"]
    assert row(result.stdout, "blue") == ["blue", "2.3.0", "2.3.0", "3/3", "3/3 (3-12)", "production"]
    assert row(result.stdout, "green") == ["green", "2.2.4", "2.2.4", "2/2", "2/2 (2-2)", "idle"]
    assert kube_api.paths() == [DEPLOYMENTS + "orders-blue", HPAS + "orders-blue", DEPLOYMENTS + "orders-green",
                                HPAS + "orders-green", f"/apis/networking.istio.io/v1/namespaces/{NS}/virtualservices/"
                                                       "orders"]


def test_the_json_has_git_and_live_bounds(kube_api: FakeKubeApi, live_orders: Path, kubeconfig: Path) -> None:
    set_scale(hpa(kube_api, "blue"), current=5, desired=7)
    code, seen = report(live_orders, kubeconfig)
    assert code == 0  # scaling within its bounds is what an HPA is for
    assert seen["colors"]["blue"]["autoscaler"] == {
        "name": "orders-blue", "git": {"minReplicas": 3, "maxReplicas": 12},
        "live": {"minReplicas": 3, "maxReplicas": 12, "currentReplicas": 5, "desiredReplicas": 7}}
    assert seen["colors"]["green"]["autoscaler"]["git"] == {"minReplicas": 2, "maxReplicas": 2}


def test_an_hpa_the_controller_has_not_seen_yet(kube_api: FakeKubeApi, live_orders: Path, kubeconfig: Path) -> None:
    del hpa(kube_api, "green")["status"]
    result = status(live_orders, kubeconfig)
    assert result.exit_code == 0
    assert row(result.stdout, "green")[4] == "0/0 (2-2)"


def test_a_missing_hpa_is_drift(kube_api: FakeKubeApi, live_orders: Path, kubeconfig: Path) -> None:
    kube_api.delete("horizontalpodautoscalers", "orders-blue", NS)
    result = status(live_orders, kubeconfig)
    assert result.exit_code == 3
    assert row(result.stdout, "blue")[4] == "missing"
    assert "  - blue: HorizontalPodAutoscaler orders-blue not found, Git has one scaling 3-12\n" in result.stdout
    code, seen = report(live_orders, kubeconfig)
    assert (code, seen["inSync"], seen["colors"]["blue"]["autoscaler"]["live"]) == (3, False, None)


def test_other_bounds_live_are_drift(kube_api: FakeKubeApi, live_orders: Path, kubeconfig: Path) -> None:
    # Production still held at the idle bounds: a promotion whose sync has not reached the HPA.
    hpa(kube_api, "blue")["spec"].update(minReplicas=2, maxReplicas=2)
    code, seen = report(live_orders, kubeconfig)
    assert (code, seen["drift"]) == (3, ["blue: HorizontalPodAutoscaler orders-blue scales 2-2 live, Git has 3-12"])


def test_an_idle_color_at_0_replicas_has_no_hpa_to_read(kube_api: FakeKubeApi, orders: Path,
                                                        kubeconfig: Path) -> None:
    intent = orders / "bluegreen.yaml"
    intent.write_text(intent.read_text().replace("idleReplicas: 2", "idleReplicas: 0"))
    deploy(kube_api, orders)
    result = status(orders, kubeconfig)
    assert result.exit_code == 0, result.stdout
    assert row(result.stdout, "green")[3:5] == ["0/0", "-"]
    assert HPAS + "orders-green" not in kube_api.paths()
    assert report(orders, kubeconfig)[1]["colors"]["green"]["autoscaler"] is None


@pytest.mark.parametrize(("spoil", "detail"), [
    (lambda obj: obj["spec"].update(maxReplicas="many"), "spec.maxReplicas is str, expected int"),
    (lambda obj: obj["spec"].pop("maxReplicas"), "spec.maxReplicas is missing"),
    (lambda obj: obj["status"].update(desiredReplicas=True), "status.desiredReplicas is bool, expected int"),
    (lambda obj: obj.update(kind="Scale\x1b[0m"), 'expected a HorizontalPodAutoscaler, got kind "Scale\\x1b[0m"'),
], ids=["maxReplicas", "no maxReplicas", "desiredReplicas", "kind"])
def test_a_malformed_hpa_is_one_line(kube_api: FakeKubeApi, live_orders: Path, kubeconfig: Path, spoil,
                                     detail: str) -> None:
    spoil(hpa(kube_api, "green"))
    result = status(live_orders, kubeconfig)
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr == (f"malformed answer from the Kubernetes API server at {kube_api.url} to get "
                             f"horizontalpodautoscalers.autoscaling orders-green in namespace {NS}: {detail}\n")


def test_a_denied_hpa_names_what_to_grant(kube_api: FakeKubeApi, live_orders: Path, kubeconfig: Path) -> None:
    kube_api.forbidden = {"horizontalpodautoscalers"}
    result = status(live_orders, kubeconfig)
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.startswith("forbidden (403): may not get horizontalpodautoscalers in API group autoscaling "
                                    f"in namespace {NS}; grant get on horizontalpodautoscalers to this user")


def test_check_live_reads_no_hpa(kube_api: FakeKubeApi, live_orders: Path, kubeconfig: Path) -> None:
    result = run_cli("release", "2.4.0", str(live_orders), "--check-live", "--kubeconfig", str(kubeconfig))
    assert result.exit_code == 0, result.stderr
    assert kube_api.paths() == [f"/apis/networking.istio.io/v1/namespaces/{NS}/virtualservices/orders"]
