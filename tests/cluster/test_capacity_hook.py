"""The capacity hook (DESIGN §16) against the fake API server: `bgrender scale-up` exactly as
the rendered Job runs it (its command read from the render), in a pod as the service account
(the server's address from KUBERNETES_SERVICE_HOST/PORT, TLS against the service account's
ca.crt, its token), with the RBAC the render gives it enforced.

examples/orders serves production from blue, which its HPA has scaled up to 5 pods within
3-12; green, idle, is held at 2. A real control plane test (the new color reaches the old
color's count before the route changes, and nothing is OutOfSync after) belongs to the e2e
harness: it runs the same command, with KUBERNETES_SERVICE_HOST/PORT pointing at its API
server and --service-account-dir at a token it requested (the seam is `run_hook` below).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from bgrender.app.pipeline import find_intent, render_app

from ..conftest import BGRENDER, SIDECAR_ENV, clean_env
from .conftest import copy_example, run_cli
from .fake_kube_api import TOKEN, FakeKubeApi, TlsFiles, set_rollout

NS = "shop"
SCALE = f"/apis/apps/v1/namespaces/{NS}/deployments/orders-{{}}/scale"


@pytest.fixture
def api(tls_files: TlsFiles) -> Any:
    with FakeKubeApi(tls=tls_files) as server:
        yield server


@pytest.fixture
def pod(tmp_path: Path, tls_files: TlsFiles, api: FakeKubeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The pod's view: where the API server is, and the service account's directory."""
    directory = tmp_path / "serviceaccount"
    directory.mkdir()
    (directory / "token").write_text(TOKEN)
    (directory / "ca.crt").write_bytes(tls_files.cert.read_bytes())
    (directory / "namespace").write_text(NS)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", api.url.rsplit(":", 1)[1])
    return directory


def render(app: Path, active: str | None = None) -> list[dict[str, Any]]:
    """The app's render; with `active`, after `bgrender promote` made it the active color (a
    hand edit of `active` would be refused: the lock's history must agree)."""
    if active is not None and f"\n  active: {active}\n" not in (app / "bluegreen.yaml").read_text():
        subprocess.run([BGRENDER, "promote", str(app)], check=True, capture_output=True, env=clean_env())
    return render_app(find_intent(app), SIDECAR_ENV)


def hook(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == "orders-capacity"]
    return found


def run_hook(objects: list[dict[str, Any]], pod: Path, *more: str) -> Result:
    """The capacity Job's command, as its container runs it (the seam for a real cluster)."""
    (container,) = hook(objects, "Job")["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    assert command[:2] == ["bgrender", "scale-up"]
    result = run_cli(*command[1:], "--service-account-dir", str(pod), *more)
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture
def orders(tmp_path: Path, api: FakeKubeApi) -> Path:
    """examples/orders live: blue serves production at 5 pods, green idle at 2."""
    app = copy_example("orders", tmp_path)
    api.apply(render(app))
    blue = api.get("deployments", "orders-blue", NS)
    blue["spec"]["replicas"] = 5
    set_rollout(blue, ready=5)
    api.role_rules = hook(render(app), "Role")["rules"]  # the server grants only what the render's Role does
    return app


def replicas(api: FakeKubeApi, color: str) -> int:
    return int(api.get("deployments", f"orders-{color}", NS)["spec"]["replicas"])


def test_a_promotion_first_scales_the_new_color_to_what_production_runs(api: FakeKubeApi, orders: Path,
                                                                        pod: Path) -> None:
    result = run_hook(render(orders, active="green"), pod)
    assert (result.exit_code, result.stdout) == (0, "orders-green scaled from 2 to 5 replicas; 5 ready\n")
    assert result.stderr == "orders-green: 2 -> 5 replicas (orders-blue runs 5, minReplicas 3)\n"
    ((path, patch),) = api.patches
    assert path == SCALE.format("green")
    assert patch == {"metadata": {"resourceVersion": "4242"}, "spec": {"replicas": 5}}
    assert (replicas(api, "green"), replicas(api, "blue")) == (5, 5)  # the old color is not touched


def test_a_sync_that_moves_no_traffic_changes_nothing(api: FakeKubeApi, orders: Path, pod: Path) -> None:
    result = run_hook(render(orders), pod)
    assert (result.exit_code, result.stdout) == (0, "orders-blue runs 5 replicas, enough for production; 5 ready\n")
    assert api.methods() == {"GET"} and api.patches == []


@pytest.mark.parametrize(("green", "blue", "wanted"), [(7, 5, 7), (2, 1, 3), (0, 0, 3), (4, 9, 9)],
                         ids=["never-lowers", "min-replicas", "from-zero", "the-other-color"])
def test_it_asks_for_the_most_of_its_own_the_minimum_and_the_other_color(
        api: FakeKubeApi, orders: Path, pod: Path, green: int, blue: int, wanted: int) -> None:
    for color, count in (("green", green), ("blue", blue)):
        deployment = api.get("deployments", f"orders-{color}", NS)
        deployment["spec"]["replicas"] = count
        set_rollout(deployment, ready=count)
    result = run_hook(render(orders, active="green"), pod)
    assert result.exit_code == 0, result.stderr
    assert replicas(api, "green") == wanted and replicas(api, "blue") == blue
    assert len(api.patches) == (wanted != green)


def test_the_other_color_not_deployed_yet_counts_as_none(api: FakeKubeApi, orders: Path, pod: Path) -> None:
    api.delete("deployments", "orders-blue", NS)
    result = run_hook(render(orders, active="green"), pod)
    assert (result.exit_code, replicas(api, "green")) == (0, 3), result.stderr


def test_a_count_the_hpa_changed_meanwhile_is_read_again_not_overwritten(api: FakeKubeApi, orders: Path,
                                                                         pod: Path) -> None:
    def hpa_scales_up(deployment: dict[str, Any]) -> None:
        if len(api.patches) == 1:  # between the hook's read and its patch
            deployment["spec"]["replicas"] = 8
            deployment["metadata"]["resourceVersion"] = "4243"
            set_rollout(deployment, ready=8)

    api.before_patch = hpa_scales_up
    result = run_hook(render(orders, active="green"), pod)
    assert result.exit_code == 0, result.stderr
    assert len(api.patches) == 1 and replicas(api, "green") == 8  # 409, read again: 8 is enough


def test_it_waits_until_the_pods_are_ready(api: FakeKubeApi, orders: Path, pod: Path) -> None:
    def slowly(deployment: dict[str, Any]) -> None:
        set_rollout(deployment, ready=2, updated=2)
        threading.Timer(1.0, lambda: set_rollout(deployment, ready=5)).start()

    api.on_scale = slowly
    result = run_hook(render(orders, active="green"), pod)
    assert (result.exit_code, result.stdout) == (0, "orders-green scaled from 2 to 5 replicas; 5 ready\n")
    assert "orders-green: 2 of 5 pods ready\n" in result.stderr


def test_pods_not_ready_in_time_fail_the_hook(api: FakeKubeApi, orders: Path, pod: Path) -> None:
    api.on_scale = lambda deployment: set_rollout(deployment, ready=3, updated=3)
    result = run_hook(render(orders, active="green"), pod, "--timeout", "2")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.endswith("orders-green did not have the pods production needs ready within --timeout 2s "
                                  "(last: orders-green: 3 of 5 pods ready)\n")


def test_the_color_taking_production_missing_fails_the_hook(api: FakeKubeApi, orders: Path, pod: Path) -> None:
    api.delete("deployments", "orders-green", NS)
    result = run_hook(render(orders, active="green"), pod)
    assert (result.exit_code, result.stdout) == (4, "")
    assert "Deployment orders-green not found in namespace shop" in result.stderr


@pytest.mark.parametrize("dropped", [0, 1], ids=["get-deployments", "patch-scale"])
def test_each_rule_of_the_role_is_needed(api: FakeKubeApi, orders: Path, pod: Path, dropped: int) -> None:
    objects = render(orders, active="green")
    api.role_rules = [rule for i, rule in enumerate(hook(objects, "Role")["rules"]) if i != dropped]
    result = run_hook(objects, pod)
    assert (result.exit_code, result.stdout) == (4, "")
    verb = ("get deployments", "patch deployments/scale")[dropped]
    assert result.stderr.startswith(f"forbidden (403): may not {verb} in API group apps in namespace shop; "
                                    f"grant {verb.split()[0]} on {verb.split()[1]} to this user (see the Role "
                                    "bgrender renders for the capacity hook")


def test_outside_a_pod_it_says_so(orders: Path, pod: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    result = run_hook(render(orders, active="green"), pod)
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.startswith("not in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT")


def test_a_bad_certificate_is_refused(api: FakeKubeApi, orders: Path, pod: Path, tmp_path: Path) -> None:
    from .fake_kube_api import make_tls

    (pod / "ca.crt").write_bytes(make_tls(tmp_path, "other").cert.read_bytes())
    result = run_hook(render(orders, active="green"), pod)
    assert (result.exit_code, result.stdout) == (4, "")
    assert "TLS with the Kubernetes API server at https://127.0.0.1:" in result.stderr
    assert api.patches == []


@pytest.mark.parametrize("args", [["web-green", "--min-replicas", "1"], ["Web", "--other", "b", "--min-replicas", "1"],
                                  ["a", "--other", "b", "--min-replicas", "0"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run_cli("scale-up", *args)
    assert (result.exit_code, result.stdout) == (2, "")


def test_the_hook_runs_from_the_lean_image_without_the_kubernetes_client(api: FakeKubeApi, orders: Path,
                                                                         pod: Path) -> None:
    """The bgrender image holds neither the kubernetes client nor urllib3: the hook's path
    imports neither (the standard library's http.client and ssl only)."""
    (container,) = hook(render(orders, active="green"), "Job")["spec"]["template"]["spec"]["containers"]
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": api.url.rsplit(":", 1)[1],
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "bgrender", *container["command"][1:],
                           "--service-account-dir", str(pod)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "orders-green scaled from 2 to 5 replicas; 5 ready\n"
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert {"bgrender.live.incluster", "http.client"} <= imported
    assert not {m for m in imported if m.split(".")[0] in ("kubernetes", "urllib3")}
