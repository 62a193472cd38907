"""Where the connection comes from: --kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster; and --context."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from kubernetes.config import incluster_config

from bgrender.errors import ClusterError
from bgrender.live.cluster import read_live
from bgrender.live.kubeconfig import Connection, kubeconfig_path, load_config

from .conftest import deploy, plan_of
from .fake_kube_api import FakeKubeApi, TlsFiles, write_kubeconfig


def closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_explicit_kubeconfig_wins(tmp_path: Path, kubeconfig: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "other", {"x": closed_url()}, current="x")))
    assert kubeconfig_path(Connection(str(kubeconfig), None, 1)) == str(kubeconfig)


def test_explicit_kubeconfig_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match=r"^--kubeconfig .*/nope: no such file$"):
        kubeconfig_path(Connection(str(tmp_path / "nope"), None, 1))


def test_kubeconfig_variable_then_home(tmp_path: Path, kubeconfig: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home_config = Path.home() / ".kube" / "config"
    home_config.parent.mkdir()
    home_config.write_text(kubeconfig.read_text())
    assert kubeconfig_path(Connection(None, None, 1)) == "~/.kube/config"
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{kubeconfig}")
    assert kubeconfig_path(Connection(None, None, 1)) == f"{tmp_path / 'missing'}:{kubeconfig}"


def test_reads_through_the_kubeconfig_variable(kube_api: FakeKubeApi, live_gorilla: Path, kubeconfig: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert read_live(plan_of(live_gorilla), Connection(None, None, 2)).routing.production == "blue"


def test_no_configuration_at_all() -> None:
    with pytest.raises(ClusterError) as caught:
        kubeconfig_path(Connection(None, None, 1))
    assert str(caught.value) == ("no Kubernetes configuration found: pass --kubeconfig, set $KUBECONFIG, "
                                 "create ~/.kube/config, or run in a pod")


def test_context_picks_the_cluster(tmp_path: Path, kube_api: FakeKubeApi, live_gorilla: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"gone": closed_url(), "fake": kube_api.url}, current="gone")
    live = read_live(plan_of(live_gorilla), Connection(str(kubeconfig), "fake", 2))
    assert live.routing.production == "blue"


def test_an_unknown_context_is_one_line(kubeconfig: Path) -> None:
    with pytest.raises(ClusterError) as caught:
        load_config(Connection(str(kubeconfig), "prod", 1))
    assert str(caught.value) == (f"cannot use the kubeconfig {kubeconfig}: Invalid kube-config file. "
                                 f"Expected object with name prod in {kubeconfig}/contexts list")


def test_a_broken_kubeconfig_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "kc"
    broken.write_text("clusters: [\n")
    with pytest.raises(ClusterError) as caught:
        load_config(Connection(str(broken), None, 1))
    assert str(caught.value).startswith(f"cannot use the kubeconfig {broken}: ")
    assert "\n" not in str(caught.value)


def test_the_kubeconfig_is_never_rewritten(kube_api: FakeKubeApi, live_gorilla: Path, kubeconfig: Path) -> None:
    before = kubeconfig.read_bytes()
    read_live(plan_of(live_gorilla), Connection(str(kubeconfig), None, 2))
    assert kubeconfig.read_bytes() == before


def test_in_a_pod_without_a_service_account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(tmp_path / "no-token"))
    with pytest.raises(ClusterError) as caught:
        load_config(Connection(None, None, 1))
    assert str(caught.value) == "cannot use the in-cluster configuration: Service token file does not exist."


def test_context_needs_a_kubeconfig_in_a_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    with pytest.raises(ClusterError, match=r"^--context prod: no kubeconfig found to take it from"):
        kubeconfig_path(Connection(None, "prod", 1))


def test_in_a_pod_with_a_service_account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tls_files: TlsFiles,
                                         gorilla: Path) -> None:
    """The service account files live at fixed paths in a pod; here they point into tmp_path."""
    token = tmp_path / "token"
    token.write_text("fake-token-for-tests")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(tls_files.cert))
    with FakeKubeApi(tls=tls_files) as api:
        deploy(api, gorilla)
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", api.url.rsplit(":", 1)[1])
        live = read_live(plan_of(gorilla), Connection(None, None, 2))
    assert live.routing.production == "blue"
    assert api.methods() == {"GET"}
