"""`bgrender status` during a weighted step (DESIGN §18), against the fake API server: the share
read back from the live VirtualService or HTTPRoute, shown beside Git's, and drift when they differ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import deploy, gorilla_with, run_cli
from .fake_kube_api import FakeKubeApi

PROVIDERS = ["istio", "gateway-api"]
ROUTE = {"istio": "VirtualService gorilla-sfx-demo-virtualservice, networking.istio.io/v1",
         "gateway-api": "HTTPRoute gorilla-sfx-demo-route, gateway.networking.k8s.io/v1"}


def step(app: Path, percent: int) -> None:
    result = run_cli("promote", "--percent", str(percent), str(app))
    assert result.exit_code == 0, result.stderr


def status(app: Path, kubeconfig: Path, *more: str) -> tuple[int, str, str]:
    result = run_cli("status", str(app), "--kubeconfig", str(kubeconfig), *more)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_share_in_sync_is_shown_beside_git(kube_api: FakeKubeApi, tmp_path: Path, kubeconfig: Path,
                                             provider: str) -> None:
    app = gorilla_with(provider, tmp_path)
    step(app, 10)
    deploy(kube_api, app)
    code, table, stderr = status(app, kubeconfig)
    assert (code, stderr) == (0, "")
    assert table == f"""\
app         gorilla-sfx-demo
namespace   default
production  git: blue 90%, green 10%  live: blue 90%, green 10%  ({ROUTE[provider]})

COLOR  GIT VERSION  LIVE VERSION  READY  STATE
blue   3f9c2e1d     3f9c2e1d      2/2    production 90%
green  8a1b0c4e     8a1b0c4e      2/2    production 10%

in sync with Git
"""
    code, out, _ = status(app, kubeconfig, "-o", "json")
    report = json.loads(out)
    assert (code, report["inSync"], report["active"]) == (0, True, {"git": "blue", "live": "blue"})
    assert report["traffic"] == {"git": {"blue": 90, "green": 10}, "live": {"blue": 90, "green": 10}}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("live", "git", "reason"), [
    (0, 10, "production traffic goes blue 100% live, but Git says blue 90%, green 10%"),
    (10, 60, "production traffic goes blue 90%, green 10% live, but Git says blue 40%, green 60%"),
    (60, 0, "production traffic goes blue 40%, green 60% live, but Git says blue 100%"),
], ids=["step-not-synced", "next-step-not-synced", "taken-back-not-synced"])
def test_a_share_that_differs_from_git_is_drift(kube_api: FakeKubeApi, tmp_path: Path, kubeconfig: Path,
                                                provider: str, live: int, git: int, reason: str) -> None:
    app = gorilla_with(provider, tmp_path)
    if live:
        step(app, live)
    deploy(kube_api, app)  # what Argo CD synced last
    step(app, git)  # a commit not synced yet
    code, out, stderr = status(app, kubeconfig, "-o", "json")
    report = json.loads(out)
    assert (code, report["inSync"], report["drift"]) == (3, False, [reason])
    assert stderr == f"gorilla-sfx-demo is not in sync with Git: {reason}\n"
    assert report["active"] == {"git": "blue", "live": "blue"}
