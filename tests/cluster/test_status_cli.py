"""`bgrender status` end to end: the click command, the real kubernetes client, the fake API server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .conftest import copy_example, deploy, run_cli
from .fake_kube_api import FakeKubeApi, set_pod_version, set_production, set_rollout

BLUE = "gorilla-sfx-demo-deployment-bg-blue"
GREEN = "gorilla-sfx-demo-deployment-bg-green"
VS = "gorilla-sfx-demo-virtualservice"
DIGEST = "sha256:" + "4e" * 32


def status_json(app: Path, kubeconfig: Path, *more: str) -> tuple[int, dict, str]:
    result = run_cli("status", str(app), "--kubeconfig", str(kubeconfig), "--output", "json", *more)
    assert "Traceback" not in result.stderr
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_in_sync_json_has_the_documented_shape(live_gorilla: Path, kubeconfig: Path) -> None:
    code, report, stderr = status_json(live_gorilla, kubeconfig)
    assert (code, stderr) == (0, "")
    assert {k: report[k] for k in ("app", "namespace", "active", "inSync")} == {
        "app": "gorilla-sfx-demo", "namespace": "default", "active": {"git": "blue", "live": "blue"}, "inSync": True}
    assert {color: {k: row[k] for k in ("gitVersion", "liveVersion", "replicas", "readyReplicas")}
            for color, row in report["colors"].items()} == {
        "blue": {"gitVersion": "3f9c2e1d", "liveVersion": "3f9c2e1d", "replicas": 2, "readyReplicas": 2},
        "green": {"gitVersion": "8a1b0c4e", "liveVersion": "8a1b0c4e", "replicas": 2, "readyReplicas": 2}}


def test_in_sync_table(live_gorilla: Path, kubeconfig: Path) -> None:
    result = run_cli("status", str(live_gorilla), "--kubeconfig", str(kubeconfig))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == """\
app         gorilla-sfx-demo
namespace   default
production  git: blue  live: blue  (VirtualService gorilla-sfx-demo-virtualservice, networking.istio.io/v1)

COLOR  GIT VERSION  LIVE VERSION  READY  STATE
blue   3f9c2e1d     3f9c2e1d      2/2    production
green  8a1b0c4e     8a1b0c4e      2/2    idle

in sync with Git
"""


def test_drift_live_color_differs(kube_api: FakeKubeApi, live_gorilla: Path, kubeconfig: Path) -> None:
    set_production(kube_api.get("virtualservices", VS), "green")
    code, report, stderr = status_json(live_gorilla, kubeconfig)
    assert code == 3
    assert (report["active"], report["inSync"]) == ({"git": "blue", "live": "green"}, False)
    assert stderr == ("gorilla-sfx-demo is not in sync with Git: "
                      "production traffic goes to green live, but Git says active: blue\n")


def test_drift_a_color_not_ready(kube_api: FakeKubeApi, live_gorilla: Path, kubeconfig: Path) -> None:
    set_rollout(kube_api.get("deployments", GREEN), ready=1)
    result = run_cli("status", str(live_gorilla), "--kubeconfig", str(kubeconfig))
    assert result.exit_code == 3
    assert re.search(r"^green +8a1b0c4e +8a1b0c4e +1/2 +idle, rolling out$", result.stdout, re.M)
    assert "  - green: rollout not finished (1 of 2 updated pods available)" in result.stdout
    assert result.stderr == "gorilla-sfx-demo is not in sync with Git (see above)\n"


def test_drift_versions_differ(kube_api: FakeKubeApi, live_gorilla: Path, kubeconfig: Path) -> None:
    set_pod_version(kube_api.get("deployments", GREEN), "hotfix-1")
    code, report, stderr = status_json(live_gorilla, kubeconfig)
    assert code == 3
    assert report["colors"]["green"]["liveVersion"] == "hotfix-1"
    assert report["colors"]["green"]["state"] == "idle, version differs"
    assert report["drift"] == ["green: runs hotfix-1, Git has 8a1b0c4e"]


def test_a_missing_deployment_has_no_live_version_and_no_replicas(kube_api: FakeKubeApi, live_gorilla: Path,
                                                                   kubeconfig: Path) -> None:
    kube_api.delete("deployments", GREEN)
    code, report, _ = status_json(live_gorilla, kubeconfig)
    assert code == 3
    green = report["colors"]["green"]
    assert (green["liveVersion"], green["replicas"], green["readyReplicas"]) == (None, 0, 0)


def test_a_missing_virtualservice_has_no_live_color(kube_api: FakeKubeApi, live_gorilla: Path,
                                                    kubeconfig: Path) -> None:
    kube_api.delete("virtualservices", VS)
    code, report, stderr = status_json(live_gorilla, kubeconfig)
    assert code == 3
    assert report["active"] == {"git": "blue", "live": None}
    assert f"VirtualService {VS} not found in namespace default" in stderr


def test_an_unreadable_cluster_prints_nothing_on_stdout(kube_api: FakeKubeApi, live_gorilla: Path,
                                                       kubeconfig: Path) -> None:
    kube_api.forbidden = {"deployments"}
    result = run_cli("status", str(live_gorilla), "--kubeconfig", str(kubeconfig), "-o", "json")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("forbidden (403): may not get deployments in API group apps")


def test_the_version_label_stands_in_for_a_missing_annotation(kube_api: FakeKubeApi, gorilla: Path,
                                                               kubeconfig: Path) -> None:
    assert run_cli("release", DIGEST, str(gorilla)).exit_code == 0
    deploy(kube_api, gorilla)
    template = kube_api.get("deployments", GREEN)["spec"]["template"]["metadata"]
    del template["annotations"]["bgrender.io/version"]  # made by something older than bgrender
    code, report, _ = status_json(gorilla, kubeconfig)
    assert report["colors"]["green"]["liveVersion"] == "sha256-" + "4e" * 6  # the label holds a short digest
    assert (code, report["inSync"]) == (0, True)


def test_an_app_without_a_namespace_is_read_in_default(kube_api: FakeKubeApi, tmp_path: Path,
                                                       kubeconfig: Path) -> None:
    app = copy_example("checkout-auto", tmp_path)
    deploy(kube_api, app)
    code, report, _ = status_json(app, kubeconfig)
    assert (code, report["namespace"], report["active"]) == (0, "default", {"git": "green", "live": "green"})
    assert report["colors"]["blue"]["replicas"] == 1  # idleReplicas
    assert kube_api.methods() == {"GET"}


def test_an_invalid_intent_is_exit_1_before_any_request(kube_api: FakeKubeApi, gorilla: Path,
                                                        kubeconfig: Path) -> None:
    intent = gorilla / "bluegreen.yaml"
    intent.write_text(intent.read_text().replace("active: blue", "active: purple"))
    result = run_cli("status", str(gorilla), "--kubeconfig", str(kubeconfig))
    assert (result.exit_code, result.stdout) == (1, "")
    assert "spec.active" in result.stderr
    assert kube_api.requests == []


NONSENSE_TIMEOUTS = ["0", "-1", "-0", "nan", "NaN", "inf", "-inf", "infinity", "1e999", "60.5", "61", "soon", ""]


@pytest.mark.parametrize("args", [["--output", "yaml"], ["-n", "Team_A"], ["-n", "a" * 64], ["-n", "ns\n"],
                                  *(["--timeout", value] for value in NONSENSE_TIMEOUTS)])
def test_usage_errors_are_exit_2(kube_api: FakeKubeApi, live_gorilla: Path, kubeconfig: Path,
                                 args: list[str]) -> None:
    result = run_cli("status", str(live_gorilla), "--kubeconfig", str(kubeconfig), *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert kube_api.requests == []


@pytest.mark.parametrize("value", NONSENSE_TIMEOUTS)
def test_release_check_live_refuses_a_nonsense_timeout(kube_api: FakeKubeApi, live_gorilla: Path, kubeconfig: Path,
                                                       value: str) -> None:
    before = (live_gorilla / "bluegreen.yaml").read_bytes()
    result = run_cli("release", "9b8c7d6e", str(live_gorilla), "--check-live", "--kubeconfig", str(kubeconfig),
                     "--timeout", value)
    assert (result.exit_code, result.stdout) == (2, "")
    assert "--timeout" in result.stderr
    assert (live_gorilla / "bluegreen.yaml").read_bytes() == before
    assert kube_api.requests == []


@pytest.mark.parametrize("value", ["60", "0.001", "1e-3", " 5 "])
def test_a_timeout_up_to_60_seconds_is_accepted(live_gorilla: Path, kubeconfig: Path, value: str) -> None:
    result = run_cli("status", str(live_gorilla), "--kubeconfig", str(kubeconfig), "--timeout", value)
    assert result.exit_code in (0, 4), result.stderr  # 0.001 s may not be enough to read the cluster
    assert "Traceback" not in result.stderr


# --- the base holds changes no color runs yet (DESIGN §9): said, but not drift --------------------

UNRELEASED_LINE = ("note: the base or its config holds changes no color runs yet (released by the next "
                   "`bgrender release`, to production only by promotion)")


def edit_base(app: Path) -> None:
    """A change to the base's pod template besides its version: no color runs it until a release."""
    base = app / "deployment.yaml"
    base.write_text(base.read_text().replace("containers:", "terminationGracePeriodSeconds: 45\n      containers:", 1))


def test_an_edited_base_is_noted_and_still_in_sync(kube_api: FakeKubeApi, live_gorilla: Path,
                                                   kubeconfig: Path) -> None:
    edit_base(live_gorilla)
    result = run_cli("status", str(live_gorilla), "--kubeconfig", str(kubeconfig))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.endswith(f"\nin sync with Git\n{UNRELEASED_LINE}\n")
    code, report, _ = status_json(live_gorilla, kubeconfig)
    assert (code, report["inSync"], report["unreleasedBaseChanges"]) == (0, True, True)


def test_edited_config_is_noted_beside_drift(kube_api: FakeKubeApi, tmp_path: Path, kubeconfig: Path) -> None:
    app = copy_example("orders", tmp_path)
    deploy(kube_api, app)
    config = app / "config" / "application.yaml"
    config.write_text(config.read_text().replace("payment-timeout: 3s", "payment-timeout: 5s"))
    kube_api.delete("deployments", "orders-green", "shop")
    result = run_cli("status", str(app), "--kubeconfig", str(kubeconfig))
    assert result.exit_code == 3
    assert f"  - green: Deployment orders-green not found, Git has version 2.2.4\n{UNRELEASED_LINE}\n" in result.stdout


def test_once_released_there_is_nothing_to_note(kube_api: FakeKubeApi, live_gorilla: Path, kubeconfig: Path) -> None:
    edit_base(live_gorilla)
    assert run_cli("release", str(live_gorilla)).exit_code == 0  # the base's change goes to green
    code, report, _ = status_json(live_gorilla, kubeconfig)
    assert report["unreleasedBaseChanges"] is False
    assert code == 3  # green's new template is not live yet: that is drift


def test_without_a_lock_there_are_no_releases_to_compare_with(kube_api: FakeKubeApi, live_gorilla: Path,
                                                             kubeconfig: Path) -> None:
    (live_gorilla / "bluegreen.lock.yaml").unlink()
    edit_base(live_gorilla)
    code, report, _ = status_json(live_gorilla, kubeconfig)
    # Nothing pinned, so nothing unreleased; but both colors render from the edited base now, a
    # release (bgrender.io/release) the cluster does not run yet: drift, though the versions match.
    assert (code, report["unreleasedBaseChanges"]) == (3, False)
    assert [r.split(":")[0] for r in report["drift"]] == ["blue", "green"]
    assert all("bgrender.io/release" in r for r in report["drift"])
