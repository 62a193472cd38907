"""The capacity hook on the real control plane (DESIGN §16): production's HPA has scaled blue
up; a promotion to green must not hand production to green at the idle color's count.

kwok runs no container, so the hook's command runs here, as its pod would run it, the moment
the driver applies the hook Job: `bgrender scale-up` exactly as the rendered Job says, against
this API server's address (KUBERNETES_SERVICE_HOST/PORT), with the CA, namespace and a token
of the service account the render gives the Job, so the render's own Role is what allows it.
The routes' wave comes after the hook's, so what green runs when the routes are applied is
what production gets.
"""

from __future__ import annotations

import re
import subprocess
import urllib.parse
from typing import TYPE_CHECKING

import pytest
import yaml

from ..conftest import BGRENDER, clean_env
from .apps import copy_app
from .conftest import bgrender, render, wait_for

if TYPE_CHECKING:
    from pathlib import Path

    from .argocd_sync import Event, SyncResult
    from .conftest import Cluster

pytestmark = pytest.mark.e2e

APP = "orders"
CAPACITY = "orders-capacity"


def _pod_dir(cluster: Cluster, job: dict, directory: Path) -> Path:
    """What a pod of `job` finds in /var/run/secrets/kubernetes.io/serviceaccount."""
    namespace = job["metadata"]["namespace"]
    account = job["spec"]["template"]["spec"]["serviceAccountName"]
    directory.mkdir()
    token = cluster.kubectl("create", "token", account, "-n", namespace, "--duration", "10m").stdout.strip()
    (directory / "token").write_text(token)
    (directory / "namespace").write_text(namespace)
    (directory / "ca.crt").write_bytes((cluster.dir / "pki" / "ca.crt").read_bytes())
    return directory


def _api_address(cluster: Cluster) -> tuple[str, str]:
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    url = urllib.parse.urlsplit(config["clusters"][0]["cluster"]["server"])
    return url.hostname or "", str(url.port)


def _ready(cluster: Cluster, name: str, namespace: str) -> tuple[int, int]:
    d = cluster.get("deployments.apps", name, namespace) or {}
    return d.get("spec", {}).get("replicas", 0), d.get("status", {}).get("readyReplicas", 0)


def test_the_color_taking_production_first_runs_what_production_runs(
        cluster: Cluster, kube_env: dict[str, str], tmp_path: Path) -> None:
    namespace = cluster.namespace("e2e-capacity")
    app = copy_app(APP, tmp_path / APP, namespace, keep_versions=True)
    bgrender("lock", app)
    cluster.sync(APP, namespace, render(app))
    cluster.settle(namespace)
    # Production's load, as its HPA answered it (no metrics-server: the HPA keeps what it finds
    # within its bounds, 3-12).
    cluster.kubectl("scale", "-n", namespace, "deployment/orders-blue", "--replicas", "5")
    wait_for("blue at 5 ready pods", lambda: _ready(cluster, "orders-blue", namespace) == (5, 5))
    assert _ready(cluster, "orders-green", namespace) == (2, 2)  # idleReplicas

    bgrender("promote", app)
    manifests = render(app)
    (job,) = [m for m in manifests if m["kind"] == "Job" and m["metadata"]["name"] == CAPACITY]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"][:2] == ["bgrender", "scale-up"]
    host, port = _api_address(cluster)
    ran: list[subprocess.CompletedProcess[str]] = []
    at_switch: list[tuple[int, int, int]] = []

    def observe(event: Event, result: SyncResult) -> None:
        if event.action == "apply" and f"Job/{CAPACITY}" in event.objects:
            pod = _pod_dir(cluster, job, tmp_path / "serviceaccount")
            ran.append(subprocess.run(
                [BGRENDER, *container["command"][1:], *container.get("args", []), "--service-account-dir", str(pod)],
                env=clean_env({"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port}),
                capture_output=True, text=True, timeout=180, check=False))
        if event.action == "apply" and "VirtualService/orders" in event.objects:
            green, blue = (_ready(cluster, f"orders-{c}", namespace) for c in ("green", "blue"))
            at_switch.append((*green, blue[0]))

    cluster.sync(APP, namespace, manifests, observer=observe)
    (hook,) = ran
    # From 2 (idleReplicas), or 3 if green's HPA, given its new bounds in wave 0, acted first.
    assert hook.returncode == 0 and re.fullmatch(r"orders-green scaled from [23] to 5 replicas; 5 ready\n",
                                                 hook.stdout), (hook.stdout, hook.stderr)
    # Green runs and has ready what blue runs when the routes move; blue is scaled to idle only after.
    assert at_switch == [(5, 5, 5)], "production moved to green before green ran what production ran"
    assert _ready(cluster, "orders-blue", namespace)[0] == 2
