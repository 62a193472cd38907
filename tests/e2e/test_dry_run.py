"""Every example and every golden render is admitted by the real API server, in a namespace
that enforces Pod Security `restricted` (server-side apply, `--dry-run=server`: validation
against the OpenAPI and CRD schemas, defaulting, and every admission plugin run; nothing is
stored).

Each case's objects are moved to one test namespace (they name `default`, `shop` or none).
The Jobs bgrender renders (smoke tests, scale-down delay) are applied on their own, so that a
Pod Security warning (the namespace also warns at `restricted`) is known to be theirs: there
must be none. The apps' own Deployments come from their base, which bgrender copies as the
user wrote it; the examples' bases set no securityContext, so `restricted` would refuse their
pods: that is reported as a warning by the server and not failed here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ..conftest import EXAMPLES, GOLDEN
from .conftest import Cluster, render

pytestmark = pytest.mark.e2e

GOLDEN_RENDERS = sorted(p.parent for p in (GOLDEN / "render").glob("*/expected.yaml"))
NAMESPACE = "e2e-dry-run"


@pytest.fixture(scope="module")
def namespace(cluster: Cluster) -> str:
    return cluster.namespace(NAMESPACE)


def _in_namespace(cluster: Cluster, objs: list[dict]) -> list[dict]:
    out = []
    for obj in objs:
        obj = json.loads(json.dumps(obj))
        if cluster.k.resource_of(obj)[1]:
            obj["metadata"]["namespace"] = NAMESPACE
        out.append(obj)
    return out


def _dry_run(cluster: Cluster, objs: list[dict]) -> str:
    proc = cluster.kubectl("apply", "--server-side", "--field-manager", "argocd-controller", "--dry-run=server",
                           "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}),
                           check=False)
    if proc.returncode != 0:
        pytest.fail(f"the API server refused the render:\n{proc.stderr}")
    return proc.stderr


def check_admitted(cluster: Cluster, objs: list[dict]) -> None:
    """The render's objects, moved to the test namespace, pass a server-side dry run; its Jobs
    raise no Pod Security warning."""
    crds = [o for o in objs if o["kind"] == "CustomResourceDefinition"]
    if crds:
        # A dry run cannot create a kind for the objects beside it (Argo CD skips their dry run):
        # the render's CRDs are applied for real first; the cluster is the tests' own.
        cluster.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                              "items": crds}))
        for crd in crds:
            cluster.kubectl("wait", "--for", "condition=Established", "--timeout", "60s",
                            f"customresourcedefinitions/{crd['metadata']['name']}")
        cluster.k.forget_discovery()
    objs = _in_namespace(cluster, objs)
    jobs = [o for o in objs if o["kind"] == "Job"]
    _dry_run(cluster, [o for o in objs if o["kind"] != "Job"])
    for job in jobs:
        warnings = _dry_run(cluster, [job])
        assert "PodSecurity" not in warnings, f"Job {job['metadata']['name']}: {warnings}"


@pytest.mark.parametrize("app", EXAMPLES, ids=lambda p: p.name)
def test_example_is_admitted(cluster: Cluster, namespace: str, app: Path) -> None:
    check_admitted(cluster, render(app))


@pytest.mark.parametrize("case", GOLDEN_RENDERS, ids=lambda p: p.name)
def test_golden_render_is_admitted(cluster: Cluster, namespace: str, case: Path) -> None:
    objs = [d for d in yaml.safe_load_all((case / "expected.yaml").read_text()) if d]
    check_admitted(cluster, objs)
