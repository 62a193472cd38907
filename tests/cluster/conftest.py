"""Fixtures for the cluster commands: a fake API server, a kubeconfig for it, an example app.

Every test runs with a clean environment: no proxy (the kubernetes client honours
HTTPS_PROXY), no $KUBECONFIG, no in-cluster variables, and HOME in a temporary directory so
that the developer's own ~/.kube/config is never read.
"""

from __future__ import annotations

import json
import os
import select
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from bgrender.app.pipeline import find_intent, plan_app, render_app
from bgrender.live.kubeconfig import Connection
from bgrender.plan.plan import Plan

from ..conftest import SIDECAR_ENV
from .fake_kube_api import FakeKubeApi, TlsFiles, make_tls, write_kubeconfig

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"
CLEARED_ENV = ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "ARGOCD_APP_NAMESPACE",
               "KUBE_API_VERSIONS", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
               "all_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture
def kube_api() -> Iterator[FakeKubeApi]:
    with FakeKubeApi() as api:
        yield api


@pytest.fixture
def kubeconfig(tmp_path: Path, kube_api: FakeKubeApi) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", {"fake": kube_api.url}, current="fake")


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    return make_tls(tmp_path_factory.mktemp("tls"))


def copy_example(name: str, into: Path) -> Path:
    """A copy of an example app, so that release tests may edit it."""
    target = into / name
    shutil.copytree(EXAMPLES / name, target)
    return target


@pytest.fixture
def gorilla(tmp_path: Path) -> Path:
    return copy_example("gorilla-sfx-demo", tmp_path)


# The gorilla example's `routing:` block for each provider: the example's own is istio's.
ROUTING = {
    "istio": None,
    "gateway-api": "  routing:\n    provider: gateway-api\n    header: x-deploy\n"
                   "    httpRoute: gorilla-sfx-demo-route\n    gateways: [infra/public]\n",
    "service": "  routing:\n    provider: service\n",
}


def gorilla_with(provider: str, into: Path) -> Path:
    """A copy of the gorilla example routed by `provider` (its lock pins no routing, so it still holds)."""
    app = copy_example("gorilla-sfx-demo", into)
    block = ROUTING[provider]
    if block is not None:
        intent = app / "bluegreen.yaml"
        intent.write_text(intent.read_text().split("  routing:\n")[0] + block)
    return app


def plan_of(app: Path) -> Plan:
    return plan_app(find_intent(app), {})


def deploy(api: FakeKubeApi, app: Path) -> list[dict[str, Any]]:
    """Put the app's rendered manifests into the fake cluster, rolled out and serving."""
    manifests = render_app(find_intent(app), SIDECAR_ENV)
    api.apply(manifests)
    return manifests


def run_cli(*args: str) -> Result:
    """The real `bgrender` click group, stdout and stderr kept apart."""
    return CliRunner().invoke(bgrender_cli(), list(args))


def status(app: Path, kubeconfig: Path, *more: str) -> Result:
    """`bgrender status APP` against the cluster of `kubeconfig`; never a traceback."""
    result = run_cli("status", str(app), "--kubeconfig", str(kubeconfig), *more)
    assert "Traceback" not in result.stderr
    return result


def report(app: Path, kubeconfig: Path) -> tuple[int, dict[str, Any]]:
    """The exit code and JSON report of `bgrender status APP -o json`."""
    result = status(app, kubeconfig, "-o", "json")
    return result.exit_code, json.loads(result.stdout)


def bgrender_cli() -> click.Group:
    from bgrender.cli.main import cli

    return cli


@pytest.fixture
def live_gorilla(kube_api: FakeKubeApi, gorilla: Path) -> Path:
    """The gorilla example, deployed to the fake cluster and in sync with Git."""
    deploy(kube_api, gorilla)
    return gorilla


@pytest.fixture
def conn(kubeconfig: Path) -> Connection:
    return Connection(str(kubeconfig), None, 2.0)


def exited(pid: int, within: float = 5.0) -> bool:
    """Whether the process has ended (a zombie has), waiting for it on a pidfd: an event, not a sleep."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], within)[0])
    finally:
        os.close(fd)
