"""How often an edit command parses bluegreen.yaml: once as it is, and once after each edit
(the next edit needs the new positions; the last text is the one validated and rendered).
`release --check-live` compares the cluster with the app already loaded, in the command's
environment, without reading the file again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bgrender.yamlfile import document

from ..conftest import runner_env
from .conftest import BASE_DEPLOYMENT, HERE, bgrender_group

GOLDEN = HERE / "golden"


def _app(case: str, directory: Path) -> Path:
    shutil.copytree(GOLDEN / case, directory, ignore=shutil.ignore_patterns("expected.*", "got.*", "args",
                                                                             "exit_code"))
    if not (directory / "deployment.yaml").exists():
        shutil.copyfile(BASE_DEPLOYMENT, directory / "deployment.yaml")
    return directory


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the bluegreen.yaml texts parsed from now on."""
    parsed: list[str] = []
    init = document.Document.__init__

    def counting(self, file, text, root):
        if os.path.basename(file) == "bluegreen.yaml":
            parsed.append(file)
        init(self, file, text, root)

    monkeypatch.setattr(document.Document, "__init__", counting)
    return parsed


@pytest.mark.parametrize(
    ("case", "args", "count"),
    [
        ("release-manual-odd-formatting", None, 2),  # the file, then the file with the new version
        ("release-auto", None, 3),  # the file, after the version, after active
        ("release-first-no-colors", None, 2),  # the file (no version: invalid), then the released file
        ("release-noop-already-idle", None, 1),
        ("release-refused-serving-production", None, 1),
        ("promote", None, 2),
        ("rollback", None, 2),
        ("lock", None, 1),  # bluegreen.yaml unchanged: the one parse serves the validation too
        ("release-manual-odd-formatting", ["release", "--check-live", "8a1b0c4"], 2),
        ("release-first-no-colors", ["release", "--check-live", "3f9c2e1d"], 2),
    ],
)
def test_each_command_parses_bluegreen_yaml_once_and_once_per_edit(case, args, count, parses, tmp_path,
                                                                  monkeypatch):
    from bgrender.live import cluster  # imports kubernetes: fine here, never on the plain path

    monkeypatch.setattr(cluster, "check_live", lambda plan, conn: None)
    monkeypatch.chdir(_app(case, tmp_path / "app"))
    args = args or (GOLDEN / case / "args").read_text().split()
    result = CliRunner().invoke(bgrender_group(), args, env=runner_env({}))
    assert result.exit_code == (1 if "refused" in case else 0), result.stderr
    assert len(parses) == count, parses


@pytest.mark.parametrize(("case", "version"), [("release-manual-odd-formatting", "8a1b0c4"),
                                               ("release-first-no-colors", "3f9c2e1d")])
def test_check_live_plans_with_the_commands_environment(case, version, tmp_path, monkeypatch):
    """The app was checked as it renders with no build environment; the cluster is read with
    the namespace the environment gives, as `render` and `status` would read it."""
    from bgrender.live import cluster

    seen = []
    monkeypatch.setattr(cluster, "check_live", lambda plan, conn: seen.append(plan.namespace))
    monkeypatch.chdir(_app(case, tmp_path / "app"))
    result = CliRunner().invoke(bgrender_group(), ["release", "--check-live", version],
                                env=runner_env({"ARGOCD_APP_NAMESPACE": "shop-prod"}))
    assert result.exit_code == 0, result.stderr
    assert seen == ["shop-prod"]
    bad = CliRunner().invoke(bgrender_group(), ["release", "--check-live", "--replace", "v2"],
                             env=runner_env({"ARGOCD_APP_NAMESPACE": "Not_A_Namespace"}))
    assert (bad.exit_code, bad.stdout, seen) == (1, "", ["shop-prod"])
    assert "ARGOCD_APP_NAMESPACE" in bad.stderr
