"""examples/rbac/status-reader.yaml: valid, read-only, enough for `status` and `release --check-live`
of an app of any routing provider, with or without autoscaling, and no rule more than some app needs."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml

from .conftest import EXAMPLES, copy_example, deploy, gorilla_with, run_cli
from .fake_kube_api import FakeKubeApi

RBAC = EXAMPLES / "rbac" / "status-reader.yaml"
# What each rule of the Role is for: an app that needs it (its provider, or autoscaling).
NEEDED_BY = {
    ("apps", "deployments"): "istio",
    ("autoscaling", "horizontalpodautoscalers"): "orders",
    ("networking.istio.io", "virtualservices"): "istio",
    ("gateway.networking.k8s.io", "httproutes"): "gateway-api",
    ("", "services"): "service",
}
APPS = ["istio", "gateway-api", "service", "orders"]


def objects() -> dict[str, dict]:
    return {obj["kind"]: obj for obj in yaml.safe_load_all(RBAC.read_text())}


def rules() -> list[dict]:
    return objects()["Role"]["rules"]  # type: ignore[no-any-return]


def app_for(name: str, into: Path) -> Path:
    """The gorilla example routed by provider `name`, or the orders example (autoscaling)."""
    return copy_example("orders", into) if name == "orders" else gorilla_with(name, into)


def test_is_a_valid_role_and_binding() -> None:
    import kubernetes_validate

    assert sorted(objects()) == ["Role", "RoleBinding"]
    for obj in objects().values():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its own dependencies warn on import
            kubernetes_validate.validate(obj, "1.32", strict=True)
    binding = objects()["RoleBinding"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": objects()["Role"]["metadata"]["name"]}


def test_grants_only_get_and_list_on_what_the_commands_read() -> None:
    grants = {(group, resource, verb) for rule in rules() for group in rule["apiGroups"]
              for resource in rule["resources"] for verb in rule["verbs"]}
    assert grants == {(group, resource, verb) for group, resource in NEEDED_BY for verb in ("get", "list")}


@pytest.mark.parametrize("name", APPS)
def test_is_enough_for_status_and_check_live(kube_api: FakeKubeApi, tmp_path: Path, kubeconfig: Path,
                                             name: str) -> None:
    app = app_for(name, tmp_path)
    deploy(kube_api, app)
    kube_api.role_rules = rules()
    status = run_cli("status", str(app), "--kubeconfig", str(kubeconfig))
    assert status.exit_code == 0, status.stderr
    release = run_cli("release", "9b8c7d6e", str(app), "--check-live", "--kubeconfig", str(kubeconfig))
    assert release.exit_code == 0, release.stderr


@pytest.mark.parametrize(("group", "resource"), list(NEEDED_BY))
def test_each_rule_is_needed_and_its_denial_names_it(kube_api: FakeKubeApi, tmp_path: Path, kubeconfig: Path,
                                                     group: str, resource: str) -> None:
    app = app_for(NEEDED_BY[group, resource], tmp_path)
    deploy(kube_api, app)
    kube_api.role_rules = [rule for rule in rules() if resource not in rule["resources"]]
    status = run_cli("status", str(app), "--kubeconfig", str(kubeconfig))
    assert (status.exit_code, status.stdout) == (4, "")
    where = f"API group {group}" if group else 'the core API group ("")'
    assert status.stderr.startswith(f"forbidden (403): may not get {resource} in {where} in namespace ")
    assert f"grant get on {resource} to this user (see examples/rbac/status-reader.yaml)" in status.stderr
