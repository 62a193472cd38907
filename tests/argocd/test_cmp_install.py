"""The operator's side: argocd-cm-patch/ built over Argo CD's own repo-server manifests,
the example install that uses it, and the example Application.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from argocd_testenv import EXAMPLES, REPO_ROOT, require_executable, shared_path
from bgrender.intent.env import LOG_LEVEL_VAR

COMPONENT = REPO_ROOT / "argocd-cm-patch"
SIDECAR = "bgrender"
CMP_SERVER = "/var/run/argocd/argocd-cmp-server"
PLUGIN_CONFIG_PATH = "/home/argocd/cmp-server/config/plugin.yaml"


def kustomize_build(directory: Path) -> list[dict]:
    kubectl = require_executable("kubectl")
    result = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def write_kustomization(directory: Path, content: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kustomization.yaml").write_text(yaml.safe_dump(content, sort_keys=False))
    return directory


def relative(target: Path, start: Path) -> str:
    """kustomize refuses absolute paths."""
    return os.path.relpath(target, start)


@pytest.fixture(scope="module")
def upstream_repo_server() -> Path:
    return shared_path("upstream", "argo-cd", "repo-server")


@pytest.fixture(scope="module")
def built(upstream_repo_server: Path, tmp_path_factory) -> list[dict]:
    """The component over the stock repo-server, as an operator's kustomization lists it."""
    install = tmp_path_factory.mktemp("install")
    return kustomize_build(write_kustomization(install, {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "argocd",
        "resources": [relative(upstream_repo_server, install)],
        "components": [relative(COMPONENT, install)],
    }))


def only(objects: list[dict], kind: str) -> dict:
    (found,) = [o for o in objects if o["kind"] == kind]
    return found


def pod_spec(objects: list[dict]) -> dict:
    return only(objects, "Deployment")["spec"]["template"]["spec"]


def container(spec: dict, name: str) -> dict:
    (found,) = [c for c in spec["containers"] if c["name"] == name]
    return found


def volume(spec: dict, name: str) -> dict:
    (found,) = [v for v in spec["volumes"] if v["name"] == name]
    return found


def mounts(c: dict) -> dict[str, dict]:
    return {m["mountPath"]: m for m in c["volumeMounts"]}


# --- plugin.yaml in the ConfigMap -------------------------------------------------------------


def test_component_copy_of_plugin_yaml_equals_the_top_level_file():
    assert (COMPONENT / "plugin.yaml").read_bytes() == (REPO_ROOT / "plugin.yaml").read_bytes()


def test_configmap_holds_plugin_yaml(built):
    configmap = only(built, "ConfigMap")
    assert configmap["data"] == {"plugin.yaml": (REPO_ROOT / "plugin.yaml").read_text()}
    assert configmap["metadata"]["namespace"] == "argocd"


# --- the sidecar ------------------------------------------------------------------------------


def test_sidecar_runs_argo_cds_cmp_server_as_999(built):
    sidecar = container(pod_spec(built), SIDECAR)
    assert sidecar["command"] == [CMP_SERVER]
    security = sidecar["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] == 999
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]


def test_sidecar_has_requests_and_limits(built):
    resources = container(pod_spec(built), SIDECAR)["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"} and set(resources["limits"]) == {"cpu", "memory"}


def test_sidecar_shares_the_binary_and_socket_volumes_of_the_stock_deployment(built):
    spec = pod_spec(built)
    sidecar = mounts(container(spec, SIDECAR))
    assert sidecar["/var/run/argocd"]["name"] == "var-files"
    assert sidecar["/home/argocd/cmp-server/plugins"]["name"] == "plugins"
    repo_server = mounts(container(spec, "argocd-repo-server"))
    assert repo_server["/home/argocd/cmp-server/plugins"]["name"] == "plugins"  # the socket's other end
    for name in ("var-files", "plugins"):
        assert volume(spec, name) == {"name": name, "emptyDir": {}}  # declared once, by upstream


def test_sidecar_reads_plugin_yaml_from_the_configmap_by_sub_path(built):
    spec = pod_spec(built)
    mount = mounts(container(spec, SIDECAR))[PLUGIN_CONFIG_PATH]
    assert mount["subPath"] == "plugin.yaml"
    # The generated name carries a content hash; the volume must point at it.
    assert volume(spec, mount["name"])["configMap"]["name"] == only(built, "ConfigMap")["metadata"]["name"]


def test_sidecar_has_its_own_tmp(built):
    spec = pod_spec(built)
    tmp = mounts(container(spec, SIDECAR))["/tmp"]["name"]
    assert "emptyDir" in volume(spec, tmp)
    assert tmp != mounts(container(spec, "argocd-repo-server"))["/tmp"]["name"]


def test_stock_repo_server_is_otherwise_untouched(built, upstream_repo_server):
    stock = yaml.safe_load((upstream_repo_server / "argocd-repo-server-deployment.yaml").read_text())
    stock_spec = stock["spec"]["template"]["spec"]
    spec = pod_spec(built)
    assert container(spec, "argocd-repo-server") == stock_spec["containers"][0]
    assert spec["initContainers"] == stock_spec["initContainers"]
    assert sorted(c["name"] for c in spec["containers"]) == ["argocd-repo-server", SIDECAR]
    annotations = only(built, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/default-container"] == "argocd-repo-server"


# --- the example install and Application -------------------------------------------------------


@pytest.fixture(scope="module")
def example_install() -> dict:
    return yaml.safe_load((EXAMPLES / "argocd" / "install" / "kustomization.yaml").read_text())


def test_example_install_lists_the_component_and_pins_argo_cd(example_install):
    install_dir = EXAMPLES / "argocd" / "install"
    assert [(install_dir / c).resolve() for c in example_install["components"]] == [COMPONENT]
    (upstream,) = example_install["resources"]
    assert upstream.startswith("https://") and "/v" in upstream  # a release tag, not stable or master
    assert example_install["namespace"] == "argocd"


def test_example_install_builds_with_the_image_set(example_install, upstream_repo_server, tmp_path: Path):
    # The same kustomization with the (remote) Argo CD install swapped for the local stock repo-server.
    local = write_kustomization(tmp_path / "install", {
        **example_install,
        "resources": [relative(upstream_repo_server, tmp_path / "install")],
        "components": [relative(COMPONENT, tmp_path / "install")],
    })
    built = kustomize_build(local)
    image = example_install["images"][0]
    sidecar = container(pod_spec(built), SIDECAR)
    assert sidecar["image"] == f"{image['newName']}:{image['newTag']}"
    # The sidecar knows its own image: hook Jobs that run bgrender run it (DESIGN §16).
    assert sidecar["env"] == [{"name": "BGRENDER_IMAGE", "value": sidecar["image"]}]
    assert {o["metadata"].get("namespace") for o in built} == {"argocd"}
    stock = container(pod_spec(built), "argocd-repo-server")  # no other env value is taken for an image
    assert stock == container(pod_spec(kustomize_build(write_kustomization(tmp_path / "stock", {
        "resources": [relative(upstream_repo_server, tmp_path / "stock")]}))), "argocd-repo-server")


def test_example_application_uses_the_plugin_by_name_without_parameters(plugin_config):
    application = yaml.safe_load((EXAMPLES / "argocd" / "application.yaml").read_text())
    assert application["kind"] == "Application"
    plugin = application["spec"]["source"]["plugin"]
    assert plugin["name"] == plugin_config.socket_name
    assert "parameters" not in plugin
    assert [f"ARGOCD_ENV_{e['name']}" for e in plugin["env"]] == [LOG_LEVEL_VAR]
    assert (REPO_ROOT / application["spec"]["source"]["path"] / "bluegreen.yaml").exists()
