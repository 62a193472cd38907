"""The seed post's kustomize layout (`bench/seed-layout/`) on a real API server: its second
release fails with `spec.selector: ... field is immutable`, as the post's did; `bgrender
import` and the migration guide's (docs/migration.md, "From four Applications to one, without downtime") move it
to one Application without that error and without a moment where the Service has no ready pod.

The layout is copied with two changes a cluster needs and the bug does not care about: its
namespace (`default` there) is the test's, and its Deployments get the securityContext Pod
Security `restricted` asks of their pods.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ..conftest import REPO
from .apps import deployments, restricted
from .argocd_sync import Event, SyncFailed, SyncResult
from .conftest import Cluster, bgrender, render

pytestmark = pytest.mark.e2e

SEED = REPO / "bench" / "seed-layout" / "gorilla-sfx-demo"
# The seed's four Applications: name -> the kustomization it syncs
OLD_APPS = {"gorilla-sfx-demo": "eks", "gorilla-sfx-demo-blue": "eks/deployment/blue",
            "gorilla-sfx-demo-green": "eks/deployment/green", "gorilla-sfx-demo-virtualservice": "eks/virtualservice"}
OLD_DEPLOYMENTS = ("gorilla-sfx-demo-deployment-blue", "gorilla-sfx-demo-deployment-green")
SERVICE = "gorilla-sfx-demo-service"


def kustomize(path: Path) -> list[dict]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH")
    out = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def copy_layout(dest: Path, namespace: str) -> Path:
    shutil.copytree(SEED, dest / "gorilla-sfx-demo")
    for f in (dest / "gorilla-sfx-demo").rglob("*.yaml"):
        text = f.read_text().replace("namespace: default", f"namespace: {namespace}")
        if f.name.startswith("gorilla-sfx-demo-deployment-"):
            text = yaml.safe_dump(restricted(yaml.safe_load(text)), sort_keys=False)
        f.write_text(text)
    return dest / "gorilla-sfx-demo" / "eks"


def ready_endpoints(cluster: Cluster, namespace: str) -> set[str]:
    slices = cluster.list("endpointslices.discovery.k8s.io", namespace, f"kubernetes.io/service-name={SERVICE}")
    return {e["targetRef"]["name"] for s in slices for e in s.get("endpoints") or []
            if (e.get("conditions") or {}).get("ready")}


def test_seed_layout_fails_and_import_migrates(cluster: Cluster, kube_env: dict[str, str], tmp_path: Path) -> None:
    namespace = cluster.namespace("e2e-seed")
    eks = copy_layout(tmp_path, namespace)

    # The four Applications, synced.
    for app, path in OLD_APPS.items():
        cluster.sync(app, namespace, kustomize(eks.parent / path))
    cluster.settle(namespace)
    assert set(deployments(cluster, namespace)) == set(OLD_DEPLOYMENTS)

    # A release the seed's way: CI sets the image tag and the version label of the idle color.
    green = eks / "deployment" / "green" / "kustomization.yaml"
    released = green.read_text()
    green.write_text(released.replace("8a1b0c4e", "9b8c7d6e").replace("version: 8a1b0c4", "version: 9b8c7d6"))
    with pytest.raises(SyncFailed) as failed:
        cluster.sync("gorilla-sfx-demo-green", namespace, kustomize(green.parent))
    assert "spec.selector" in str(failed.value) and "field is immutable" in str(failed.value), str(failed.value)
    green.write_text(released)

    # Step 1: import.
    out = tmp_path / "apps" / "gorilla-sfx-demo"
    out.parent.mkdir()
    imported = bgrender("import", eks, out)
    written = [str(out / f) for f in ("deployment.yaml", "bluegreen.lock.yaml", "bluegreen.yaml")]
    assert imported.stdout.split() == written
    assert "gorilla-sfx-demo-deployment-bg-blue" in imported.stderr

    # Step 2: the old Applications are deleted without cascading: nothing changes in the cluster.
    # Step 3: one Application for the imported app, synced. The old pods keep serving meanwhile.
    old_pods = {name: d.pods for name, d in deployments(cluster, namespace).items()}
    serving = ready_endpoints(cluster, namespace)
    assert serving, "nothing serves before the migration"
    seen: list[tuple[str, int, list[str], int]] = []

    def observe(event: Event, result: SyncResult) -> None:
        ready = ready_endpoints(cluster, namespace)
        seen.append((event.action, event.wave, event.objects, len(ready)))
        assert ready, f"no ready endpoint behind {SERVICE} after {event}"
        live = deployments(cluster, namespace)
        for name, pods in old_pods.items():
            assert live[name].pods == pods, f"{name}'s pods changed during the migration: {event}"

    result = cluster.sync("gorilla-sfx-demo-bgrender", namespace, render(out), observer=observe)
    assert not [e for e in result.events if e.action == "prune"], "the new Application pruned an old object"
    cluster.settle(namespace)
    live = deployments(cluster, namespace)
    assert set(live) == {*OLD_DEPLOYMENTS, "gorilla-sfx-demo-deployment-bg-blue",
                         "gorilla-sfx-demo-deployment-bg-green"}
    for name in OLD_DEPLOYMENTS:
        assert live[name].pods == old_pods[name], f"{name} was touched"
    vs = cluster.get("virtualservices.networking.istio.io", "gorilla-sfx-demo-virtualservice", namespace)
    assert vs["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"].startswith("gorilla-sfx-demo-bgrender:")

    # Step 4: both new Deployments ready and in sync, then the old ones go.
    status = bgrender("status", out, "--output", "json", env=kube_env)
    assert json.loads(status.stdout)["inSync"] is True, status.stdout
    cluster.kubectl("delete", "-n", namespace, "deployment", *OLD_DEPLOYMENTS, "--wait=true", "--timeout=120s")
    cluster.settle(namespace)
    assert ready_endpoints(cluster, namespace), "nothing serves after the old Deployments went"
    again = cluster.sync("gorilla-sfx-demo-bgrender", namespace, render(out))
    assert not [e for e in again.events if e.action == "prune"]
    assert set(deployments(cluster, namespace)) == {"gorilla-sfx-demo-deployment-bg-blue",
                                                    "gorilla-sfx-demo-deployment-bg-green"}
    bgrender("status", out, env=kube_env)

    # And a release through bgrender now rolls the idle color, no `field is immutable`.
    bgrender("release", "9b8c7d6e", out)
    cluster.sync("gorilla-sfx-demo-bgrender", namespace, render(out))
    cluster.settle(namespace)
    assert deployments(cluster, namespace)["gorilla-sfx-demo-deployment-bg-green"].version == "9b8c7d6e"
