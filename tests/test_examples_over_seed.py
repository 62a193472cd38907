"""The examples can be applied over a cluster that runs the seed post's layout: no Deployment
takes the name of one of the seed's (their selectors hold the version and cannot change: the
first sync would fail with `field is immutable`), and the example Application takes none of the
seed's Application names (Argo CD knows an Application's objects by its name; with prune, it
would delete what the old one made)."""

from __future__ import annotations

import re
import subprocess

import yaml

from .conftest import BGRENDER, EXAMPLES, REPO, SIDECAR_ENV, clean_env

SEED = REPO / "bench" / "seed-layout"
# The seed post's four Applications, as bench/seed-layout/README.md records them.
SEED_APPLICATIONS = {"gorilla-sfx-demo", "gorilla-sfx-demo-deployment-blue", "gorilla-sfx-demo-deployment-green",
                     "gorilla-sfx-demo-virtualservice"}


def seed_deployments() -> set[str]:
    found = set()
    for path in SEED.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "Deployment":
                found.add(doc["metadata"]["name"])
    return found


def test_the_seed_layout_records_its_names():
    assert seed_deployments() == {"gorilla-sfx-demo-deployment-blue", "gorilla-sfx-demo-deployment-green"}
    recorded = (SEED / "README.md").read_text()
    assert all(f"`{name}`" in recorded for name in SEED_APPLICATIONS)


def test_no_example_renders_a_deployment_under_a_seed_name():
    for example in EXAMPLES:
        result = subprocess.run([BGRENDER, "render", str(example)], env=clean_env(SIDECAR_ENV), capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        names = {d["metadata"]["name"] for d in yaml.safe_load_all(result.stdout) if d["kind"] == "Deployment"}
        assert names and not names & seed_deployments(), (example.name, names)


def test_the_seed_example_says_why_its_deployment_has_a_new_name():
    base = (REPO / "examples" / "gorilla-sfx-demo" / "deployment.yaml").read_text()
    assert "field is immutable" in base and "gorilla-sfx-demo-deployment-blue" in base


def test_the_example_application_takes_no_seed_application_name():
    text = (REPO / "examples" / "argocd" / "application.yaml").read_text()
    name = yaml.safe_load(text)["metadata"]["name"]
    assert name not in SEED_APPLICATIONS
    readme = (REPO / "README.md").read_text()
    shown = re.search(r"kind: Application\nmetadata:\n  name: (\S+)", readme).group(1)
    assert shown == name and f"argocd app create {name} " in readme
