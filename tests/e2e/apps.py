"""Example apps copied into a test directory and made ready for the real control plane, and what
the tests read back from the server about them."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..conftest import REPO
from .conftest import Cluster

POD_SECURITY = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def restricted(deployment: dict) -> dict:
    """The base Deployment with what Pod Security `restricted` asks of its pods (the examples'
    bases set none; an app in such a namespace must)."""
    pod = deployment["spec"]["template"]["spec"]
    pod["securityContext"] = {**POD_SECURITY, **(pod.get("securityContext") or {})}
    for c in [*pod.get("containers", []), *pod.get("initContainers", [])]:
        c["securityContext"] = {**CONTAINER_SECURITY, **(c.get("securityContext") or {})}
    return deployment


def copy_app(example: str, dest: Path, namespace: str, *, keep_versions: bool = False) -> Path:
    """examples/<example> in `dest`, in `namespace`, its base made `restricted`, without its lock;
    without versions either (an app before its first release) unless `keep_versions`."""
    shutil.copytree(REPO / "examples" / example, dest)
    intent = dest / "bluegreen.yaml"
    text = intent.read_text()
    text = set_namespace(text, namespace)
    if not keep_versions:
        text = re.sub(r"^  (blue|green):\n    version: .*\n", "", text, flags=re.M)
    # The lock pins the example's pod templates; the copy's base differs (securityContext).
    (dest / "bluegreen.lock.yaml").unlink(missing_ok=True)
    intent.write_text(text)
    base = dest / "deployment.yaml"
    base.write_text(yaml.safe_dump(restricted(yaml.safe_load(base.read_text())), sort_keys=False))
    return dest


def set_namespace(text: str, namespace: str) -> str:
    """bluegreen.yaml's text with `metadata.namespace` set to `namespace`."""
    lines, out, in_metadata = text.splitlines(keepends=True), [], False
    for line in lines:
        if in_metadata and line.startswith("  namespace:"):
            continue
        out.append(line)
        if line.rstrip() == "metadata:":
            out.append(f"  namespace: {namespace}\n")
        in_metadata = line.rstrip() == "metadata:" or (in_metadata and line.startswith("  "))
    return "".join(out)


def add_env(app: Path, name: str, value: str) -> None:
    """Edit the base Deployment: an env var on its first container."""
    base = app / "deployment.yaml"
    doc = yaml.safe_load(base.read_text())
    container = doc["spec"]["template"]["spec"]["containers"][0]
    container.setdefault("env", []).append({"name": name, "value": value})
    base.write_text(yaml.safe_dump(doc, sort_keys=False))


def intent(app: Path) -> dict:
    return yaml.safe_load((app / "bluegreen.yaml").read_text())


def lock_entries(app: Path) -> dict[str, dict]:
    lock = app / "bluegreen.lock.yaml"
    return (yaml.safe_load(lock.read_text()) or {}).get("colors") or {} if lock.exists() else {}


@dataclass
class LiveDeployment:
    name: str
    generation: int
    selector: dict
    replicas: int | None
    version: str | None
    annotations: dict[str, str]                 # the Deployment's own (a change bumps its generation)
    replicasets: set[str]                       # ReplicaSets it owns that have replicas
    pods: set[str] = field(default_factory=set)  # UIDs of its pods (not being deleted)


def deployments(cluster: Cluster, namespace: str) -> dict[str, LiveDeployment]:
    """Each Deployment of the namespace with the ReplicaSets and pods it owns."""
    live = {}
    rs_owner: dict[str, str] = {}
    for d in cluster.list("deployments.apps", namespace):
        template = d["spec"]["template"]["metadata"]
        live[d["metadata"]["name"]] = LiveDeployment(
            d["metadata"]["name"], d["metadata"]["generation"], d["spec"]["selector"], d["spec"].get("replicas"),
            (template.get("annotations") or {}).get("bgrender.io/version"),
            d["metadata"].get("annotations") or {}, set())
    for rs in cluster.list("replicasets.apps", namespace):
        owner = next((o["name"] for o in rs["metadata"].get("ownerReferences", []) if o["kind"] == "Deployment"), None)
        if owner in live:
            rs_owner[rs["metadata"]["name"]] = owner
            if rs["spec"].get("replicas", 0) > 0:
                live[owner].replicasets.add(rs["metadata"]["name"])
    for pod in cluster.list("pods", namespace):
        owner = next((o["name"] for o in pod["metadata"].get("ownerReferences", []) if o["kind"] == "ReplicaSet"), None)
        if owner in rs_owner and not pod["metadata"].get("deletionTimestamp"):
            live[rs_owner[owner]].pods.add(pod["metadata"]["uid"])
    return live
