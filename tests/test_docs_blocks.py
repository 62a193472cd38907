"""Every block of the docs that shows a `bgrender` command or a manifest is held to the product.

The blocks with `$ bgrender` lines are run by other tests (RUN_BY); the first test here makes
sure no such block escapes them. The manifests that no other test reads are checked here: the
`bluegreen.yaml` reference against the JSON Schema, the fragments of an app against the
example they come from or a render, and the Argo CD manifests against the files in examples/.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bgrender.app.pipeline import render_app

from .conftest import BGRENDER, RENDER_ENV, REPO, SIDECAR_ENV, doc, docs_pages
from .release.conftest import run

FENCE = re.compile(r"^([ \t]*)```(\w*)\n(.*?)^\1```$", re.S | re.M)
# `$ bgrender` blocks (by their first line) that start from the examples as committed, not from
# where the console blocks before them leave them: each is run on a fresh copy of the examples.
FRESH = ("$ bgrender promote --percent 10 examples/gorilla-sfx-demo",)
# The blocks with `$ bgrender` lines, and the test that runs them: every console block, in the
# order of the nav; the blocks of the live-status page; the outputs below.
RUN_BY = {
    "console": "tests/release/test_release_docs.py",
    "status.md": "tests/cluster/test_status_docs.py",
    "$ bgrender import gorilla-sfx-demo/eks apps/gorilla-sfx-demo": "tests/test_import.py",
    "$ bgrender validate apps": "tests/test_validate.py",
    **{first: "tests/test_docs_blocks.py" for first in FRESH},
}


def blocks(page: str, language: str | None = None) -> list[tuple[str, str]]:
    """(language, text) of each fenced block of a page, indented ones (in lists) too, dedented."""
    found = [(lang, textwrap.dedent(body))
             for _, lang, body in FENCE.findall(doc(page))]
    return [(lang, body) for lang, body in found if language is None or lang == language]


def yaml_blocks(page: str) -> list[Any]:
    return [yaml.safe_load(textwrap.dedent(body)) for _, body in blocks(page, "yaml")]


def within(part: Any, whole: Any) -> bool:
    """Whether `part` is `whole` with some mapping keys left out (a manifest shortened for the page)."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(k in whole and within(v, whole[k]) for k, v in part.items())
    if isinstance(part, list):
        return isinstance(whole, list) and len(part) == len(whole) and all(map(within, part, whole))
    return bool(part == whole)


def test_every_block_with_a_bgrender_command_is_run_by_a_test() -> None:
    for page in docs_pages():
        for lang, body in blocks(page):
            if not re.search(r"^\$ bgrender ", body, re.M):
                continue
            runner = RUN_BY.get(lang) or RUN_BY.get(page) or RUN_BY.get(body.splitlines()[0])
            assert runner, f"{page}: no test runs this block; run it, or show it as console:\n{body}"
            assert (REPO / runner).exists()


def test_the_blocks_on_fresh_examples_print_what_they_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each FRESH block, its commands run in order on a fresh copy of the examples, as
    tests/release/test_release_docs.py runs the console blocks."""
    found = [body for page in docs_pages() for _, body in blocks(page) if body.splitlines()[0] in FRESH]
    assert len(found) == len(FRESH), "a FRESH block is gone from the docs"
    for number, body in enumerate(found):
        work = tmp_path / str(number)
        shutil.copytree(REPO / "examples", work / "examples", symlinks=True)
        for command in re.split(r"^(?=\$ )", body, flags=re.M)[1:]:  # [0]: what precedes the first `$`
            first, _, shown = command.partition("\n")
            result = run(shlex.split(first)[2:], work, monkeypatch)
            refusal = re.match(r"\S+\.yaml:\d+:\d+: ", shown) is not None
            assert result.exit_code == (1 if refusal else 0), result.stderr
            assert shown == (result.stdout or result.stderr), first


def test_the_reference_bluegreen_yaml_is_valid_for_the_json_schema() -> None:
    schema = json.loads(subprocess.run([BGRENDER, "schema"], capture_output=True, text=True, check=True).stdout)
    reference = yaml_blocks("bluegreen-yaml.md")[0]
    assert reference["kind"] == "BlueGreen"
    jsonschema.validators.validator_for(schema)(schema).validate(reference)


def test_the_companions_example_is_examples_orders() -> None:
    shown = yaml_blocks("companions.md")[0]
    orders = yaml.safe_load((REPO / "examples" / "orders" / "bluegreen.yaml").read_text())
    assert within(shown, orders)


def test_the_routing_fragment_renders(tmp_path: Path) -> None:
    """The `routing:` fragment of the Istio section, put into examples/gorilla-sfx-demo, renders
    a VirtualService on its hosts and gateways."""
    (fragment,) = yaml_blocks("routing.md")
    app = Path(shutil.copytree(REPO / "examples" / "gorilla-sfx-demo", tmp_path / "app"))
    intent = yaml.safe_load((app / "bluegreen.yaml").read_text())
    intent["spec"]["routing"].update(fragment["routing"])
    (app / "bluegreen.yaml").write_text(yaml.safe_dump(intent))
    (routes,) = [o for o in render_app(app / "bluegreen.yaml", SIDECAR_ENV) if o["kind"] == "VirtualService"]
    assert (routes["spec"]["hosts"], routes["spec"]["gateways"]) == (fragment["routing"]["hosts"],
                                                                     fragment["routing"]["gateways"])


def test_the_pre_commit_config_names_the_hook_of_this_repository() -> None:
    shown = yaml_blocks("bluegreen-yaml.md")[1]
    hooks = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert {hook["id"] for repo in shown["repos"] for hook in repo["hooks"]} <= hooks


def test_the_install_manifests_are_the_examples() -> None:
    kustomization, application = yaml_blocks("install.md")
    install = REPO / "examples" / "argocd" / "install" / "kustomization.yaml"
    # The page installs the Component from this repository by URL, as the file's comment says to.
    remote = kustomization.pop("components")
    assert all(f"- {url}" in install.read_text() for url in remote)
    assert within(kustomization, yaml.safe_load(install.read_text()))
    assert within(application, yaml.safe_load((REPO / "examples" / "argocd" / "application.yaml").read_text()))


def test_the_log_level_fragment_sets_what_the_plugin_reads() -> None:
    (fragment,) = yaml_blocks("upgrade-debug.md")
    plugin = yaml.safe_load((REPO / "plugin.yaml").read_text())
    assert fragment["plugin"]["name"] == f"{plugin['metadata']['name']}-{plugin['spec']['version']}"
    # Argo CD hands a plugin env variable NAME to the plugin as ARGOCD_ENV_NAME.
    assert {f"ARGOCD_ENV_{e['name']}" for e in fragment["plugin"]["env"]} <= set(RENDER_ENV)
