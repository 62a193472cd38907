"""examples/rbac/status-reader.yaml: valid, read-only, and enough for `status` and `release --check-live`."""

from __future__ import annotations

import warnings
from pathlib import Path

import yaml

from .conftest import EXAMPLES, run_cli
from .fake_kube_api import FakeKubeApi

RBAC = EXAMPLES / "rbac" / "status-reader.yaml"


def objects() -> dict[str, dict]:
    return {obj["kind"]: obj for obj in yaml.safe_load_all(RBAC.read_text())}


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


def test_grants_only_get_and_list_on_deployments_and_virtualservices() -> None:
    grants = {(group, resource, verb) for rule in objects()["Role"]["rules"] for group in rule["apiGroups"]
              for resource in rule["resources"] for verb in rule["verbs"]}
    assert grants == {(g, r, v) for g, r in (("apps", "deployments"), ("networking.istio.io", "virtualservices"))
                      for v in ("get", "list")}


def test_is_enough_for_status_and_check_live(kube_api: FakeKubeApi, live_gorilla: Path, kubeconfig: Path) -> None:
    kube_api.role_rules = objects()["Role"]["rules"]
    status = run_cli("status", str(live_gorilla), "--kubeconfig", str(kubeconfig))
    assert status.exit_code == 0, status.stderr
    release = run_cli("release", "9b8c7d6e", str(live_gorilla), "--check-live", "--kubeconfig", str(kubeconfig))
    assert release.exit_code == 0, release.stderr


def test_without_it_the_denial_names_what_to_grant(kube_api: FakeKubeApi, live_gorilla: Path,
                                                   kubeconfig: Path) -> None:
    kube_api.role_rules = [rule for rule in objects()["Role"]["rules"] if "apps" in rule["apiGroups"]]
    status = run_cli("status", str(live_gorilla), "--kubeconfig", str(kubeconfig))
    assert (status.exit_code, status.stdout) == (3, "")
    assert "may not get virtualservices in API group networking.istio.io in namespace default" in status.stderr
