"""examples/environments/applicationset.yaml: valid against Argo CD's ApplicationSet CRD (vendored
in tests/data/argocd/, strictly: an unknown field fails), and doing what its comments say: one
Application per directory of envs/, each rendered by the plugin as Argo CD would run it, and a
rolling sync that takes staging first and every production environment after it.
"""

from __future__ import annotations

import copy
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from .conftest import BGRENDER, REPO, clean_env

CRD = REPO / "tests" / "data" / "argocd" / "applicationset-crd-v3.5.1.yaml"
EXAMPLE = REPO / "examples" / "environments"
APPLICATIONSET = yaml.safe_load((EXAMPLE / "applicationset.yaml").read_text())


@cache
def _schema() -> dict[str, Any]:
    crd = yaml.load(CRD.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # 1.4 MB
    assert crd["spec"]["names"]["kind"] == "ApplicationSet"
    (version,) = [v for v in crd["spec"]["versions"] if v["served"] and v["storage"]]
    assert f"{crd['spec']['group']}/{version['name']}" == APPLICATIONSET["apiVersion"]
    return strict(version["schema"]["openAPIV3Schema"])


def strict(schema: Any) -> Any:
    """The schema with unknown fields refused wherever it lists the fields an object may have, as
    the API server's strict field validation does (a CRD schema itself only prunes them)."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node \
                    and not node.get("x-kubernetes-preserve-unknown-fields"):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def test_the_applicationset_matches_the_crd_schema():
    jsonschema.validate(APPLICATIONSET, _schema(), cls=jsonschema.Draft7Validator)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda a: a["spec"]["strategy"].update(rollingSteps=[]), "rollingSteps"),
    (lambda a: a["spec"]["generators"][0]["git"].pop("repoURL"), "repoURL"),
    (lambda a: a["spec"]["template"]["spec"]["source"]["plugin"].update(name=1), "1 is not of type 'string'"),
])
def test_the_schema_check_can_fail(edit, message):
    spoiled = copy.deepcopy(APPLICATIONSET)
    edit(spoiled)
    with pytest.raises(jsonschema.ValidationError, match=message):
        jsonschema.validate(spoiled, _schema(), cls=jsonschema.Draft7Validator)


# --- what the generator and the rolling sync do with the example's directories ----------------


def _fill(text: str, path: str) -> str:
    """The example's Go templates, for one directory: `{{.path.path}}`, `{{.path.basename}}` and
    `{{ if eq .path.basename "X" }}A{{ else }}B{{ end }}`; anything else fails the test."""
    basename = path.rsplit("/", 1)[-1]
    text = re.sub(r'\{\{ if eq \.path\.basename "([^"]*)" \}\}([^{]*)\{\{ else \}\}([^{]*)\{\{ end \}\}',
                  lambda m: m[2] if basename == m[1] else m[3], text)
    text = text.replace("{{.path.path}}", path).replace("{{.path.basename}}", basename)
    assert "{{" not in text, text
    return text


def _applications() -> list[dict[str, Any]]:
    (generator,) = APPLICATIONSET["spec"]["generators"]
    (directories,) = generator["git"]["directories"]
    paths = sorted(str(p.relative_to(REPO)) for p in REPO.glob(directories["path"]) if p.is_dir())
    template = yaml.safe_dump(APPLICATIONSET["spec"]["template"])
    return [yaml.safe_load(_fill(template, path)) for path in paths]


def _step(application: dict[str, Any]) -> list[int]:
    """The rolling sync's steps that select the Application (In: one of the values)."""
    labels = application["metadata"]["labels"]
    steps = APPLICATIONSET["spec"]["strategy"]["rollingSync"]["steps"]
    return [i for i, step in enumerate(steps)
            if all((labels.get(e["key"]) in e["values"]) == (e["operator"] == "In") for e in step["matchExpressions"])]


def test_one_application_per_environment_staging_first():
    applications = _applications()
    names = {a["metadata"]["labels"]["environment"]: a for a in applications}
    assert sorted(names) == ["prod-eu", "prod-us", "staging"]
    assert len({a["metadata"]["name"] for a in applications}) == 3
    steps = {env: _step(a) for env, a in names.items()}
    assert steps == {"staging": [0], "prod-eu": [1], "prod-us": [1]}  # each in exactly one step, staging's first
    assert APPLICATIONSET["spec"]["strategy"]["type"] == "RollingSync"


def test_each_application_names_the_plugin_and_an_app_directory():
    plugin = yaml.safe_load((REPO / "plugin.yaml").read_text())
    socket = f"{plugin['metadata']['name']}-{plugin['spec']['version']}"
    for application in _applications():
        source = application["spec"]["source"]
        assert source["plugin"]["name"] == socket
        assert (REPO / source["path"] / plugin["spec"]["discover"]["fileName"]).is_file()
        assert (REPO / source["path"] / "bluegreen.lock.yaml").is_file()
        assert "automated" not in application["spec"].get("syncPolicy", {})  # the rolling sync syncs


@pytest.mark.parametrize("application", _applications(), ids=lambda a: a["metadata"]["name"])
def test_each_application_renders_as_argo_cd_runs_the_plugin(application):
    """In the app's directory, with the variables Argo CD sets: the repository's root is the
    working directory less the source path, which holds ../../base."""
    source = application["spec"]["source"]
    env = {"ARGOCD_APP_NAME": application["metadata"]["name"], "ARGOCD_APP_SOURCE_PATH": source["path"],
           "ARGOCD_APP_NAMESPACE": application["spec"]["destination"]["namespace"],
           "BGRENDER_IMAGE": "registry.example.com/platform/bgrender:0.1.0"}
    done = subprocess.run([BGRENDER, "render"], cwd=REPO / source["path"], env=clean_env(env), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    environment = Path(source["path"]).name
    assert f"ENVIRONMENT: {environment}" in done.stdout
    assert "ledger:" in done.stdout  # the shared config, from ../../base/config
