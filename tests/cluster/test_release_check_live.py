"""`bgrender release VERSION --check-live` end to end: refuse, or write, by what the cluster serves."""

from __future__ import annotations

import socket
from pathlib import Path

from .conftest import run_cli
from .fake_kube_api import FakeKubeApi, set_production, write_kubeconfig

VS = "gorilla-sfx-demo-virtualservice"


def release(app: Path, kubeconfig: Path, *more: str):
    return run_cli("release", "9b8c7d6e", str(app), "--check-live", "--kubeconfig", str(kubeconfig), *more)


def test_releases_when_the_cluster_serves_the_active_color(kube_api: FakeKubeApi, live_gorilla: Path,
                                                           kubeconfig: Path) -> None:
    result = release(live_gorilla, kubeconfig)
    assert result.exit_code == 0, result.stderr
    assert "version: 9b8c7d6e" in (live_gorilla / "bluegreen.yaml").read_text()
    assert kube_api.methods() == {"GET"}


def test_refuses_when_the_cluster_serves_the_other_color(kube_api: FakeKubeApi, live_gorilla: Path,
                                                         kubeconfig: Path) -> None:
    set_production(kube_api.get("virtualservices", VS), "green")
    before = (live_gorilla / "bluegreen.yaml").read_bytes()
    result = release(live_gorilla, kubeconfig)
    assert (result.exit_code, result.stdout) == (3, "")
    assert "production traffic goes to green live" in result.stderr
    assert "says active: blue" in result.stderr
    assert (live_gorilla / "bluegreen.yaml").read_bytes() == before


def test_refuses_with_dry_run_too(kube_api: FakeKubeApi, live_gorilla: Path, kubeconfig: Path) -> None:
    set_production(kube_api.get("virtualservices", VS), "green")
    result = release(live_gorilla, kubeconfig, "--dry-run")
    assert (result.exit_code, result.stdout) == (3, "")


def test_an_unreadable_cluster_changes_nothing(tmp_path: Path, gorilla: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"gone": url}, current="gone")
    before = (gorilla / "bluegreen.yaml").read_bytes()
    result = release(gorilla, kubeconfig)
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr == f"cannot reach the Kubernetes API server at {url}: Connection refused\n"
    assert (gorilla / "bluegreen.yaml").read_bytes() == before


def test_before_the_first_sync_the_release_goes_ahead_and_says_why(kube_api: FakeKubeApi, gorilla: Path,
                                                                   kubeconfig: Path) -> None:
    result = release(gorilla, kubeconfig)  # nothing deployed: no VirtualService yet
    assert result.exit_code == 0, result.stderr
    assert f"check-live: VirtualService {VS} not found in namespace default" in result.stderr
    assert "version: 9b8c7d6e" in (gorilla / "bluegreen.yaml").read_text()
