"""The `bgrender-validate` hook of .pre-commit-hooks.yaml, run the way pre-commit runs it,
without pre-commit itself (installing a hook's environment needs the package index).

pre-commit runs a hook in the repository's root as `entry` split like a shell, then `args`,
then (with pass_filenames) the staged files that match `files` and `types`. It skips the hook
when no staged file matches, unless always_run; deleted files are never listed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import GOLDEN, REPO, clean_env

MANIFEST = REPO / ".pre-commit-hooks.yaml"
# What pre-commit's manifest schema knows; an unknown key is only a warning there, so a typo
# ("pass_filename") would silently change nothing.
KNOWN_KEYS = {"id", "name", "entry", "language", "alias", "files", "exclude", "types", "types_or",
              "exclude_types", "additional_dependencies", "args", "always_run", "fail_fast", "pass_filenames",
              "description", "language_version", "log_file", "minimum_pre_commit_version", "require_serial",
              "stages", "verbose"}

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@pytest.fixture(scope="module")
def hook() -> dict:
    hooks = yaml.safe_load(MANIFEST.read_text())
    assert [h["id"] for h in hooks] == ["bgrender-validate"]
    (found,) = hooks
    assert set(found) <= KNOWN_KEYS and {"id", "name", "entry", "language"} <= set(found)
    return found


def git(repo: Path, *args: str) -> str:
    env = clean_env({"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                     "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout


def staged_files(repo: Path) -> list[str]:
    """pre-commit's list: added, copied, modified, renamed... never deleted."""
    return git(repo, "diff", "--staged", "--name-only", "-z", "--diff-filter=ACMRTUXB").split("\0")[:-1]


def run_hook(hook: dict, repo: Path) -> subprocess.CompletedProcess | None:
    """None when pre-commit would skip the hook ("no files to check")."""
    files = staged_files(repo)
    if not files and not hook.get("always_run", False):
        return None
    command = [*shlex.split(hook["entry"]), *hook.get("args", []), *(files if hook.get("pass_filenames", True) else [])]
    # The hook's environment holds the installed package; here, the venv running the tests.
    env = clean_env({"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A manifest repository with one valid app committed, and a README beside it."""
    repo = tmp_path / "manifests"
    shutil.copytree(GOLDEN / "render" / "minimal", repo / "apps" / "web")
    (repo / "README.md").write_text("manifests\n")
    git(repo, "init", "--quiet")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "web")
    return repo


def test_the_hook_is_a_python_hook_checking_the_whole_repository(hook):
    assert hook["language"] == "python"  # pre-commit installs this repository: `bgrender` is on PATH
    assert shlex.split(hook["entry"]) == ["bgrender", "validate"]
    assert hook["pass_filenames"] is False and hook["always_run"] is True


def test_a_commit_of_a_valid_app_passes(hook, repo):
    shutil.copytree(GOLDEN / "render" / "inline-template", repo / "apps" / "api")
    git(repo, "add", ".")
    result = run_hook(hook, repo)
    assert result is not None and result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "2 of 2 apps valid"


def test_a_broken_base_fails_the_commit_with_the_problem(hook, repo):
    base = repo / "apps" / "web" / "deployment.yaml"
    base.write_text(base.read_text().replace("apiVersion: apps/v1", "apiVersion: apps/v2"))
    git(repo, "add", ".")
    assert staged_files(repo) == ["apps/web/deployment.yaml"]  # a file pre-commit would not call an intent
    result = run_hook(hook, repo)
    assert result is not None and result.returncode == 1
    assert result.stderr.startswith("apps/web/deployment.yaml:1:1: must be an apps/v1 Deployment")
    assert result.stderr.splitlines()[-1] == "0 of 1 app valid"


def test_a_commit_that_only_deletes_a_named_file_still_runs_and_fails(hook, repo):
    git(repo, "rm", "--quiet", "apps/web/deployment.yaml")
    assert staged_files(repo) == []
    result = run_hook(hook, repo)
    assert result is not None and result.returncode == 1
    assert "apps/web/deployment.yaml: file not found" in result.stderr


def test_args_narrow_the_search(hook, repo):
    shutil.copytree(GOLDEN / "errors" / "bad-enum", repo / "drafts" / "bad")
    assert run_hook(hook, repo).returncode == 1
    narrowed = {**hook, "args": ["apps"]}  # what `args: [apps]` in .pre-commit-config.yaml does
    assert run_hook(narrowed, repo).returncode == 0


def test_an_app_below_a_root_app_is_checked_too(hook, repo):
    """A repository whose root is an app itself, with another app below it: both are checked."""
    for name in ("bluegreen.yaml", "deployment.yaml"):
        shutil.copy(GOLDEN / "render" / "minimal" / name, repo / name)
    shutil.copytree(GOLDEN / "errors" / "bad-enum", repo / "apps" / "broken")
    git(repo, "add", ".")
    result = run_hook(hook, repo)
    assert result is not None and result.returncode == 1
    assert "apps/broken/bluegreen.yaml:" in result.stderr
    assert result.stderr.splitlines()[-1] == "2 of 3 apps valid"
