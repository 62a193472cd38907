"""The real control plane for the end-to-end tests: built (cached) and started once per session.

`e2e/control-plane.sh` builds kube-apiserver, kube-controller-manager, kube-scheduler and etcd
from Go modules and starts them on loopback with a simulated node (kwok) and a simulated Gateway
API controller (`e2e/cmd/gatewaysim`). The tests reach bgrender only through its command line,
as users do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from ..conftest import BGRENDER, REPO, SIDECAR_ENV, clean_env
from .argocd_sync import Kubectl, Sync, SyncResult, deployment_health, hpa_health

SCRIPT = REPO / "e2e" / "control-plane.sh"
RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted",
              "pod-security.kubernetes.io/warn": "restricted"}


def wait_for(what: str, check: Callable[[], Any], timeout: float = 120, interval: float = 0.25) -> Any:
    """Poll `check` until it returns something true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


class Cluster:
    def __init__(self, directory: Path):
        self.dir = directory
        self.kubeconfig = directory / "kubeconfig"
        self.k = Kubectl(str(self.kubeconfig))

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.k.run(*args, stdin=stdin, check=check)

    def get(self, resource: str, name: str, namespace: str) -> dict | None:
        out = self.kubectl("get", "-n", namespace, resource, name, "--ignore-not-found", "-o", "json").stdout
        return json.loads(out) if out.strip() else None

    def list(self, resource: str, namespace: str, selector: str | None = None) -> list[dict]:
        args = ["get", "-n", namespace, resource, "-o", "json"] + (["-l", selector] if selector else [])
        return json.loads(self.kubectl(*args).stdout)["items"]

    def namespace(self, name: str, labels: dict[str, str] | None = None) -> str:
        """A fresh namespace (Pod Security `restricted` unless told otherwise), once its default
        ServiceAccount exists (pods are refused before)."""
        labels = RESTRICTED if labels is None else labels
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
        self.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(ns))
        wait_for(f"ServiceAccount default in {name}", lambda: self.get("serviceaccount", "default", name))
        return name

    def sync(self, app: str, namespace: str, manifests: list[dict], **kwargs: Any) -> SyncResult:
        return Sync(self.k, app, namespace, **kwargs).run(manifests)

    def settle(self, namespace: str, timeout: float = 120) -> None:
        """Wait until every Deployment of the namespace rolled out (Argo CD's Healthy) and every
        HPA holds its Deployment within its bounds: what a sync's last wave does not wait for."""

        def settled() -> bool:
            deployments = {d["metadata"]["name"]: d for d in self.list("deployments.apps", namespace)}
            if any(deployment_health(d)[0] != "Healthy" for d in deployments.values()):
                return False
            for hpa in self.list("horizontalpodautoscalers.autoscaling", namespace):
                target = deployments.get(hpa["spec"]["scaleTargetRef"]["name"])
                if target is None or hpa_health(hpa)[0] == "Progressing":
                    return False
                replicas = target["spec"].get("replicas", 1)
                if not hpa["spec"].get("minReplicas", 1) <= replicas <= hpa["spec"]["maxReplicas"]:
                    return False
            pods = self.list("pods", namespace)
            return all(p["status"].get("phase") in ("Running", "Succeeded") for p in pods
                       if not p["metadata"].get("deletionTimestamp"))

        wait_for(f"the Deployments of {namespace} to settle", settled, timeout=timeout)


def bgrender(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
             expect: int | None = 0) -> subprocess.CompletedProcess[str]:
    # As the sidecar runs it: BGRENDER_IMAGE names the image of the hooks that run bgrender.
    proc = subprocess.run([BGRENDER, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=clean_env({**SIDECAR_ENV, **(env or {})}), timeout=120)
    if expect is not None and proc.returncode != expect:
        pytest.fail(f"bgrender {' '.join(map(str, args))} exited {proc.returncode}, expected {expect}\n"
                    f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def render(app: Path, env: dict[str, str] | None = None) -> list[dict]:
    return [d for d in yaml.safe_load_all(bgrender("render", app, env=env).stdout) if d]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    for tool, why in (("go", "the control plane is built from Go modules"),
                      ("kubectl", "the tests drive the API server with kubectl"),
                      ("openssl", "the control plane's certificates are made with openssl")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not on PATH ({why}; CI has it)")
    build = subprocess.run([str(SCRIPT), "build"], capture_output=True, text=True, timeout=45 * 60)
    if build.returncode != 0:
        pytest.fail(f"e2e/control-plane.sh build failed:\n{build.stderr[-5000:]}")
    directory = tmp_path_factory.mktemp("control-plane")
    start = subprocess.run([str(SCRIPT), "start", str(directory)], capture_output=True, text=True, timeout=600)
    if start.returncode != 0:
        subprocess.run([str(SCRIPT), "stop", str(directory)], timeout=120)
        pytest.fail(f"e2e/control-plane.sh start failed:\n{start.stderr[-5000:]}")
    try:
        yield Cluster(directory)
    finally:
        subprocess.run([str(SCRIPT), "stop", str(directory)], timeout=300)


@pytest.fixture
def kube_env(cluster: Cluster) -> dict[str, str]:
    """The environment for bgrender's cluster commands: this cluster's kubeconfig only."""
    return {"KUBECONFIG": str(cluster.kubeconfig), "HOME": os.environ.get("HOME", "/root")}
