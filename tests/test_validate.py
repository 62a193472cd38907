"""`bgrender validate [PATH ...]` over trees of apps: a directory without bluegreen.yaml is
searched for every bluegreen.yaml below it, hidden and symlinked directories skipped; every
problem of every app is reported, and the output ends with how many apps are valid.

tests/golden/validate/tree is a repository of apps (two broken, one in a hidden directory,
one behind a symlinked directory, one nested in another); expected.err is what validating it
prints.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bgrender.app import pipeline

from .conftest import BGRENDER, EXAMPLES, GOLDEN, check_golden, clean_env, doc

TREE = GOLDEN / "validate" / "tree"
MINIMAL = GOLDEN / "render" / "minimal"


def validate(*args: str, cwd: Path = TREE, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([BGRENDER, "validate", *args], cwd=cwd, env=clean_env(env), capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args", [(), (".",), ("apps",), ("apps/",)], ids=["default", "dot", "apps", "apps-slash"])
def test_a_tree_reports_every_problem_of_every_app_and_the_count(args):
    result = validate(*args)
    assert (result.returncode, result.stdout) == (1, "")
    check_golden(TREE.parent / "expected.err", result.stderr)


def test_the_tree_holds_what_the_golden_case_says():
    """The walk is only tested if the tree has its traps: a hidden app that is invalid, and a
    symlinked directory that leads to apps found under their own names."""
    assert (TREE / "apps" / "shop-link").is_symlink() and (TREE / "apps" / "shop-link").resolve().is_dir()
    hidden = validate("apps/.drafts/half-done")
    assert hidden.returncode == 1 and "apps/.drafts/half-done/bluegreen.yaml:" in hidden.stderr
    through_link = validate("apps/shop-link")  # named explicitly, a link is followed like any path
    assert (through_link.returncode, through_link.stderr.splitlines()[-1]) == (0, "2 of 2 apps valid")


def test_only_valid_apps_exit_0_and_still_end_with_the_count():
    # apps/team/api holds a bluegreen.yaml and an app below it: both are checked (a pre-commit
    # hook run at a root app's directory must not skip the apps nested below it).
    result = validate("apps/shop", "apps/team/api")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.splitlines() == [
        "apps/shop/checkout/bluegreen.yaml: valid",
        "apps/shop/web/bluegreen.yaml: valid",
        "apps/team/api/bluegreen.yaml: valid",
        "apps/team/api/canary/bluegreen.yaml: valid",
        "4 of 4 apps valid",
    ]


def test_an_app_named_twice_is_checked_once():
    result = validate("apps/shop/web", "apps/shop", "apps/shop/web/bluegreen.yaml", "./apps/shop/web")
    assert result.returncode == 0
    assert result.stderr.splitlines() == ["apps/shop/web/bluegreen.yaml: valid",
                                          "apps/shop/checkout/bluegreen.yaml: valid", "2 of 2 apps valid"]


def test_a_directory_with_no_app_is_an_error_not_a_silent_pass(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / ".hidden-app").mkdir()
    shutil.copytree(MINIMAL, tmp_path / ".hidden-app" / "web")
    result = validate(str(tmp_path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"{tmp_path}: no bluegreen.yaml in this directory or below it (hidden and symlinked directories are "
        "not searched)",
        "0 of 0 apps valid",
    ]


def test_a_missing_path_is_reported_like_a_missing_app_and_the_others_still_checked(tmp_path):
    result = validate(str(tmp_path / "nowhere"), str(EXAMPLES[0]))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{tmp_path / 'nowhere'}: file not found",
                                          f"{EXAMPLES[0] / 'bluegreen.yaml'}: valid", "1 of 2 apps valid"]


def test_one_app_counts_in_the_singular():
    assert validate("apps/team/worker").stderr.splitlines()[-1] == "0 of 1 app valid"


def test_a_problem_of_the_environment_is_reported_once_not_per_app():
    result = validate(*map(str, EXAMPLES), env={"ARGOCD_APP_PARAMETERS": "not json"})
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len([line for line in lines if line.startswith("ARGOCD_APP_PARAMETERS")]) == 1
    assert lines[-1] == f"0 of {len(EXAMPLES)} apps valid"


def test_a_symlink_loop_ends_and_each_app_is_found_once(tmp_path):
    shutil.copytree(MINIMAL, tmp_path / "apps" / "web")
    (tmp_path / "apps" / "web" / "up").symlink_to("..")  # a walk that followed links would never end
    (tmp_path / "apps" / "again").symlink_to("web")
    found, problems = pipeline.find_apps(tmp_path)
    assert (found, problems) == ([str(tmp_path / "apps" / "web" / "bluegreen.yaml")], [])


def test_paths_from_the_tree_are_shown_escaped_on_one_line(tmp_path):
    shutil.copytree(MINIMAL, tmp_path / "bad\nname")
    shutil.copytree(GOLDEN / "errors" / "bad-enum", tmp_path / "caf\u00e9\u202e")
    result = validate(".", cwd=tmp_path)
    assert result.stderr.splitlines()[0].startswith('bad\\nname/bluegreen.yaml: valid')
    assert result.stderr.splitlines()[1].startswith("caf\\xe9\\u202e/bluegreen.yaml:")
    assert result.stderr.isascii() and result.stderr.splitlines()[-1] == "1 of 2 apps valid"


def test_a_directory_that_cannot_be_searched_is_a_problem(tmp_path, monkeypatch):
    """Root reads any directory, so the refusal is simulated where the walk lists one."""
    shutil.copytree(MINIMAL, tmp_path / "apps" / "web")
    (tmp_path / "apps" / "locked").mkdir()
    scandir = os.scandir

    def refusing(path):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    found, problems = pipeline.find_apps(tmp_path / "apps")
    assert found == [str(tmp_path / "apps" / "web" / "bluegreen.yaml")]
    assert [str(p) for p in problems] == [f"{tmp_path / 'apps' / 'locked'}: cannot be searched for apps: "
                                          "Permission denied"]


def test_the_docs_show_what_validating_the_tree_prints():
    readme = doc("bluegreen-yaml.md")
    assert "```text\n$ bgrender validate apps\n" + (TREE.parent / "expected.err").read_text() + "```\n" in readme
