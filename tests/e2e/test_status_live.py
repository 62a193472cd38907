"""`bgrender status` and `release --check-live` against a real API server: in sync, drifted by a
`kubectl` edit, and with objects missing; exit codes as the README's "Exit codes" table says
(0 in sync or released, 3 not in sync or refused). The faults only a fake server can produce
(hangs, malformed answers, TLS and credential failures) stay in `tests/cluster/`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .apps import copy_app
from .conftest import Cluster, bgrender, render

pytestmark = pytest.mark.e2e

APP = "gorilla-sfx-demo"
BLUE, GREEN = "gorilla-sfx-demo-deployment-bg-blue", "gorilla-sfx-demo-deployment-bg-green"
VS = "gorilla-sfx-demo-virtualservice"


def files(app: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in app.iterdir() if p.is_file()}


def status(app: Path, env: dict[str, str], expect: int) -> tuple[str, str]:
    proc = bgrender("status", app, env=env, expect=expect)
    return proc.stdout, proc.stderr


def row(stdout: str, color: str) -> list[str]:
    line = next(ln for ln in stdout.splitlines() if ln.startswith(color + " "))
    return line.split()


def test_status_and_check_live(cluster: Cluster, kube_env: dict[str, str], tmp_path: Path) -> None:
    namespace = cluster.namespace("e2e-status")
    app = copy_app(APP, tmp_path / APP, namespace, keep_versions=True)
    bgrender("lock", app)   # the base now holds a securityContext: pin the colors as they render

    def sync() -> None:
        cluster.sync(APP, namespace, render(app))
        cluster.settle(namespace)

    # Before the first sync: nothing live.
    out, err = status(app, kube_env, 3)
    assert "live: -" in out and "missing" in out, out

    sync()
    out, err = status(app, kube_env, 0)
    assert "production  git: blue  live: blue  (VirtualService gorilla-sfx-demo-virtualservice, " \
           "networking.istio.io/v1)" in out, out
    assert row(out, "blue") == ["blue", "3f9c2e1d", "3f9c2e1d", "2/2", "production"], out
    assert row(out, "green") == ["green", "8a1b0c4e", "8a1b0c4e", "2/2", "idle"], out
    assert out.rstrip().endswith("in sync with Git"), out
    report = json.loads(bgrender("status", app, "--output", "json", env=kube_env).stdout)
    assert report["inSync"] is True and report["drift"] == [] and report["routing"]["found"] is True, report

    # A release checked against the live routing, committed but not yet synced: green differs.
    released = bgrender("release", "9b8c7d6e", app, "--check-live", env=kube_env)
    assert released.stdout == "release gorilla-sfx-demo 9b8c7d6e to green (production stays on blue)\n"
    out, err = status(app, kube_env, 3)
    assert row(out, "green")[:3] == ["green", "9b8c7d6e", "8a1b0c4e"] and "version differs" in out, out
    assert "not in sync" in err, err
    sync()
    status(app, kube_env, 0)

    # Drift: someone sends production to green by hand (Istio routes by host: <service>-<color>).
    vs = cluster.get("virtualservices.networking.istio.io", VS, namespace)
    last = len(vs["spec"]["http"]) - 1
    host = vs["spec"]["http"][last]["route"][0]["destination"]["host"]
    assert host.endswith("-blue"), host
    cluster.kubectl("patch", "-n", namespace, "virtualservices.networking.istio.io", VS, "--type", "json", "-p",
                    json.dumps([{"op": "replace", "path": f"/spec/http/{last}/route/0/destination/host",
                                 "value": host.removesuffix("-blue") + "-green"}]))
    out, err = status(app, kube_env, 3)
    assert "production  git: blue  live: green" in out, out
    assert "production traffic goes to green live, but Git says active: blue" in out, out
    before = files(app)
    refused = bgrender("release", "0c1d2e3f", app, "--check-live", "--replace", env=kube_env, expect=3)
    assert refused.stdout == "" and "refusing to release" in refused.stderr, refused.stderr
    assert files(app) == before
    sync()   # Argo CD's self-heal puts it back
    status(app, kube_env, 0)

    # Drift: a Deployment edited by hand to run another version.
    cluster.kubectl("patch", "-n", namespace, "deployment", GREEN, "--type", "merge", "-p",
                    json.dumps({"spec": {"template": {"metadata": {
                        "annotations": {"bgrender.io/version": "hotfix"}}}}}))
    cluster.settle(namespace)
    out, err = status(app, kube_env, 3)
    assert row(out, "green")[:3] == ["green", "9b8c7d6e", "hotfix"] and "version differs" in out, out

    sync()

    # Missing: the idle Deployment deleted; then the routing object too.
    cluster.kubectl("delete", "-n", namespace, "deployment", GREEN, "--wait=true")
    out, err = status(app, kube_env, 3)
    green = row(out, "green")
    assert green[:3] == ["green", "9b8c7d6e", "-"] and "missing" in green, out
    cluster.kubectl("delete", "-n", namespace, "virtualservices.networking.istio.io", VS, "--wait=true")
    out, err = status(app, kube_env, 3)
    assert "live: -" in out, out
    ahead = bgrender("release", "0c1d2e3f", app, "--check-live", "--replace", env=kube_env)
    assert ahead.stdout.startswith("release gorilla-sfx-demo 0c1d2e3f to green"), ahead.stdout
    sync()
    status(app, kube_env, 0)


def test_status_sees_an_image_set_by_hand(cluster: Cluster, kube_env: dict[str, str], tmp_path: Path) -> None:
    """`kubectl set image` keeps every label and annotation bgrender set: status compares images."""
    namespace = cluster.namespace("e2e-status-image")
    app = copy_app(APP, tmp_path / APP, namespace, keep_versions=True)
    bgrender("lock", app)
    cluster.sync(APP, namespace, render(app))
    cluster.settle(namespace)
    status(app, kube_env, 0)
    container = cluster.get("deployments.apps", BLUE, namespace)["spec"]["template"]["spec"]["containers"][0]
    cluster.kubectl("set", "image", "-n", namespace, f"deployment/{BLUE}", f"{container['name']}=busybox:hotfix")
    cluster.settle(namespace)
    proc = bgrender("status", app, env=kube_env, expect=None)
    assert proc.returncode == 3, f"production runs busybox:hotfix, yet status exited {proc.returncode}:\n{proc.stdout}"
    assert f"blue: container {container['name']} runs busybox:hotfix, Git has {container['image']}" in proc.stdout
