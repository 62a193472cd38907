"""Print the transcript shown in the README's status section: real runs of the examples against the fake API server.

    .venv/bin/python -m tests.cluster.demo_status > /tmp/transcript.txt

It deploys the rendered examples into a FakeKubeApi (as a finished Argo CD sync would leave
them), then runs `bgrender status` and `bgrender release --check-live` through the real click
group and the real kubernetes client, changing the fake cluster between runs. Nothing is
made up: paste the output into the docs when the commands' output changes.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from pathlib import Path

from click.testing import CliRunner

from bgrender.app.pipeline import find_intent, render_app

from .conftest import EXAMPLES, bgrender_cli, deploy
from .fake_kube_api import FakeKubeApi, set_production, set_rollout, set_scale, write_kubeconfig

GORILLA = "examples/gorilla-sfx-demo"
ORDERS = "examples/orders"


def run(*args: str) -> str:
    """The command, its stdout then its stderr, and its exit code, as a terminal shows them."""
    result = CliRunner().invoke(bgrender_cli(), list(args))
    return f"$ bgrender {shlex.join(args)}\n{result.stdout}{result.stderr}$ echo $?\n{result.exit_code}\n\n"


def transcript() -> str:
    workdir = Path(tempfile.mkdtemp(prefix="bgrender-demo-"))
    for name in ("gorilla-sfx-demo", "checkout-auto", "orders"):
        shutil.copytree(EXAMPLES / name, workdir / "examples" / name)
    old_cwd, old_kubeconfig = os.getcwd(), os.environ.get("KUBECONFIG")
    os.chdir(workdir)  # so that the paths shown are the repository's
    try:
        with FakeKubeApi() as api:
            os.environ["KUBECONFIG"] = str(write_kubeconfig(workdir / "kubeconfig", {"demo": api.url},
                                                            current="demo"))
            return _session(api)
    finally:
        os.chdir(old_cwd)
        if old_kubeconfig is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = old_kubeconfig
        shutil.rmtree(workdir)


def _rendered(app: str, name: str) -> dict:
    """The object `name` as Git renders it now (what Argo CD is applying)."""
    return next(o for o in render_app(find_intent(app), {}) if o["metadata"]["name"] == name)


def _session(api: FakeKubeApi) -> str:
    for app in ("gorilla-sfx-demo", "checkout-auto", "orders"):
        deploy(api, Path("examples", app))
    out = "# 1. Both examples synced: in sync.\n\n"
    out += run("status", GORILLA)
    out += run("status", "examples/checkout-auto", "--output", "json")

    out += "# 2. A release is committed; Argo CD is rolling it out to green.\n\n"
    out += run("release", "9b8c7d6e", GORILLA, "--check-live")
    green = api.get("deployments", "gorilla-sfx-demo-deployment-bg-green")
    green["spec"]["template"] = _rendered(GORILLA, "gorilla-sfx-demo-deployment-bg-green")["spec"]["template"]
    green["metadata"]["generation"] = 2
    set_rollout(green, ready=1, updated=1)
    out += run("status", GORILLA)

    out += "# 3. Someone switched production to green by hand: the next release is refused.\n\n"
    set_rollout(green, ready=2)
    set_production(api.get("virtualservices", "gorilla-sfx-demo-virtualservice"), "green")
    out += run("status", GORILLA)
    out += run("release", "0c1d2e3f", GORILLA, "--check-live", "--replace")

    out += "# 4. An app with autoscaling; production scaled up; its config edited in Git, not released yet.\n\n"
    set_scale(api.get("horizontalpodautoscalers", "orders-blue", "shop"), current=5)
    blue = api.get("deployments", "orders-blue", "shop")
    blue["spec"]["replicas"] = 5  # set by the HPA: a new generation of the Deployment, rolled out
    blue["metadata"]["generation"] = 2
    set_rollout(blue, ready=5)
    config = Path(ORDERS, "config", "application.yaml")
    config.write_text(config.read_text().replace("payment-timeout: 3s", "payment-timeout: 5s"))
    out += run("status", ORDERS)

    out += "# 5. A CI service account without the Role of examples/rbac/status-reader.yaml.\n\n"
    api.forbidden = {"virtualservices"}
    out += run("status", GORILLA)
    return out


if __name__ == "__main__":
    print(transcript(), end="")
