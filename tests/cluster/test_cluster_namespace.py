"""Which namespace `status` and `release --check-live` read (issue #14): the namespace the app
renders into (bluegreen.yaml's metadata.namespace, else $ARGOCD_APP_NAMESPACE), else -n, else
the kubeconfig context's (in a pod: $POD_NAMESPACE, else the service account's namespace file),
else default. That is kubectl's rule for manifests, such as the rendered ones, that name no
namespace; and like kubectl, -n may not contradict a namespace the manifests name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.config import incluster_config

from bgrender.app.pipeline import find_intent, render_app
from bgrender.live import kubeconfig as live_config  # not `kubeconfig`: the fixture of that name

from .conftest import copy_example, run_cli
from .fake_kube_api import FakeKubeApi, TlsFiles, set_production, write_kubeconfig


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """An example whose bluegreen.yaml names no namespace."""
    return copy_example("checkout-auto", tmp_path)


def deploy_into(api: FakeKubeApi, app: Path, namespace: str) -> None:
    api.apply(render_app(find_intent(app), {}), namespace)


def namespaces_read(api: FakeKubeApi) -> set[str]:
    return {path.split("/namespaces/")[1].split("/")[0] for path in api.paths()}


def kubeconfig_for(path: Path, api: FakeKubeApi, contexts: dict[str, str | None], current: str) -> Path:
    """One server, one context per entry of `contexts` (name: its namespace, if any)."""
    write_kubeconfig(path, {name: api.url for name in contexts}, current=current)
    config = yaml.safe_load(path.read_text())
    for context in config["contexts"]:
        if contexts[context["name"]] is not None:
            context["context"]["namespace"] = contexts[context["name"]]
    path.write_text(yaml.safe_dump(config))
    return path


def status(app: Path, kubeconfig: Path, *more: str) -> tuple[int, dict[str, Any] | None, str]:
    result = run_cli("status", str(app), "--kubeconfig", str(kubeconfig), "-o", "json", *more)
    assert "Traceback" not in result.stderr
    return result.exit_code, json.loads(result.stdout) if result.stdout else None, result.stderr


def test_the_kubeconfig_context_names_the_namespace(tmp_path: Path, kube_api: FakeKubeApi, checkout: Path) -> None:
    deploy_into(kube_api, checkout, "team-a")
    kubeconfig = kubeconfig_for(tmp_path / "kc", kube_api, {"dev": "team-a"}, current="dev")
    code, report, _ = status(checkout, kubeconfig)
    assert (code, report and report["namespace"]) == (0, "team-a")
    assert namespaces_read(kube_api) == {"team-a"}


def test_the_context_given_names_the_namespace(tmp_path: Path, kube_api: FakeKubeApi, checkout: Path) -> None:
    deploy_into(kube_api, checkout, "team-b")
    kubeconfig = kubeconfig_for(tmp_path / "kc", kube_api, {"dev": "team-a", "ops": "team-b"}, current="dev")
    code, report, _ = status(checkout, kubeconfig, "--context", "ops")
    assert (code, report and report["namespace"]) == (0, "team-b")


def test_a_context_without_a_namespace_means_default(tmp_path: Path, kube_api: FakeKubeApi, checkout: Path) -> None:
    deploy_into(kube_api, checkout, "default")
    kubeconfig = kubeconfig_for(tmp_path / "kc", kube_api, {"dev": ""}, current="dev")
    code, report, _ = status(checkout, kubeconfig)
    assert (code, report and report["namespace"]) == (0, "default")


def test_dash_n_wins_over_the_context(tmp_path: Path, kube_api: FakeKubeApi, checkout: Path) -> None:
    deploy_into(kube_api, checkout, "team-b")
    kubeconfig = kubeconfig_for(tmp_path / "kc", kube_api, {"dev": "team-a"}, current="dev")
    for flag in ("-n", "--namespace"):
        code, report, _ = status(checkout, kubeconfig, flag, "team-b")
        assert (code, report and report["namespace"]) == (0, "team-b")
    assert namespaces_read(kube_api) == {"team-b"}


def test_the_intent_namespace_wins_over_the_context(tmp_path: Path, kube_api: FakeKubeApi,
                                                    live_gorilla: Path) -> None:
    kubeconfig = kubeconfig_for(tmp_path / "kc", kube_api, {"dev": "team-a"}, current="dev")
    code, report, _ = status(live_gorilla, kubeconfig)  # its bluegreen.yaml says namespace: default
    assert (code, report and report["namespace"]) == (0, "default")
    code, _, _ = status(live_gorilla, kubeconfig, "-n", "default")
    assert code == 0
    assert namespaces_read(kube_api) == {"default"}


def test_dash_n_may_not_contradict_the_intent(kube_api: FakeKubeApi, live_gorilla: Path, kubeconfig: Path) -> None:
    code, report, stderr = status(live_gorilla, kubeconfig, "-n", "team-a")
    assert (code, report) == (2, None)
    assert stderr.endswith(
        "Error: Invalid value for '-n' / '--namespace': the app's objects are in namespace default "
        f"(metadata.namespace in {live_gorilla / 'bluegreen.yaml'}), not team-a; leave -n out, "
        "or pass -n default\n")
    assert kube_api.requests == []


def test_dash_n_may_not_contradict_the_render_environment(kube_api: FakeKubeApi, checkout: Path, kubeconfig: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGOCD_APP_NAMESPACE", "team-a")
    code, _, stderr = status(checkout, kubeconfig, "-n", "team-b")
    assert code == 2
    assert "the app's objects are in namespace team-a ($ARGOCD_APP_NAMESPACE), not team-b" in stderr


def test_a_context_namespace_that_is_no_name_is_exit_4(tmp_path: Path, kube_api: FakeKubeApi,
                                                       checkout: Path) -> None:
    kubeconfig = kubeconfig_for(tmp_path / "kc", kube_api, {"dev": "../secrets\n"}, current="dev")
    code, report, stderr = status(checkout, kubeconfig)
    assert (code, report) == (4, None)
    assert stderr == ('the kubeconfig context "dev" names namespace "../secrets\\n", which is not a namespace name '
                      "(a DNS-1123 label of at most 63 characters)\n")
    assert kube_api.requests == []


def test_release_check_live_reads_the_context_namespace(tmp_path: Path, kube_api: FakeKubeApi,
                                                        checkout: Path) -> None:
    deploy_into(kube_api, checkout, "team-a")
    set_production(kube_api.get("virtualservices", "checkout", "team-a"), "blue")  # the file says green
    kubeconfig = kubeconfig_for(tmp_path / "kc", kube_api, {"dev": "team-a"}, current="dev")
    before = (checkout / "bluegreen.yaml").read_bytes()
    result = run_cli("release", "2.0.0", str(checkout), "--check-live", "--kubeconfig", str(kubeconfig))
    assert (result.exit_code, result.stdout) == (3, "")
    assert "production traffic goes to blue live" in result.stderr
    assert namespaces_read(kube_api) == {"team-a"}
    assert (checkout / "bluegreen.yaml").read_bytes() == before


# --- in a pod -----------------------------------------------------------------------------------


@pytest.fixture
def in_a_pod(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tls_files: TlsFiles) -> Path:
    """The service account's files, at paths the test chooses; returns the namespace file."""
    token = tmp_path / "token"
    token.write_text("fake-token-for-tests")
    namespace = tmp_path / "namespace"
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(tls_files.cert))
    monkeypatch.setattr(live_config, "SERVICE_ACCOUNT_NAMESPACE", str(namespace))
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    return namespace


@pytest.mark.parametrize(("file", "pod_namespace", "read"), [
    ("team-a\n", None, "team-a"),
    ("team-a", "team-b", "team-b"),  # $POD_NAMESPACE first, as kubectl
    ("  \n", None, "default"),
    (None, None, "default"),
])
def test_in_a_pod_the_service_account_names_the_namespace(
        monkeypatch: pytest.MonkeyPatch, tls_files: TlsFiles, checkout: Path, in_a_pod: Path,
        file: str | None, pod_namespace: str | None, read: str) -> None:
    if file is not None:
        in_a_pod.write_text(file)
    if pod_namespace is not None:
        monkeypatch.setenv("POD_NAMESPACE", pod_namespace)
    with FakeKubeApi(tls=tls_files) as api:
        deploy_into(api, checkout, read)
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", api.url.rsplit(":", 1)[1])
        result = run_cli("status", str(checkout), "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["namespace"] == read
    assert namespaces_read(api) == {read}
