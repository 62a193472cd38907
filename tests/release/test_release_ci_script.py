"""examples/ci/release.sh end to end: a bare Git repository plays the manifest repository's
remote, a fresh clone plays the CI checkout, and a fake `gh` records the pull request it
would open. No network, no cluster."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..conftest import REPO
from .conftest import RELEASE_COMMANDS

SCRIPT = REPO / "examples" / "ci" / "release.sh"
APP = "apps/gorilla-sfx-demo"
MESSAGE = "release gorilla-sfx-demo 1234abcd to green (production stays on blue)"

pytestmark = pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None,
                                reason="needs git and bash")


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def bgrender_command(directory: Path) -> Path:
    """The installed `bgrender`, or, until cli.py registers the release commands, a stand-in."""
    from bgrender.cli import cli

    installed = Path(sys.executable).with_name("bgrender")
    if installed.exists() and all(c.name in cli.commands for c in RELEASE_COMMANDS):
        return installed
    return executable(directory / "bgrender", f"#!{sys.executable}\n"
                      "import sys\n"
                      f"sys.path.insert(0, {str(REPO)!r})\n"
                      "from tests.release.conftest import bgrender_group\n"
                      "bgrender_group().main(prog_name='bgrender')\n")


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """A remote holding one app on main, a CI clone of it, and a bin directory with fake gh."""
    remote, seed, ci, bin_dir = (tmp_path / n for n in ("manifests.git", "seed", "ci", "bin"))
    bin_dir.mkdir()
    git("init", "--quiet", "--bare", "--initial-branch=main", str(remote), cwd=tmp_path)
    git("clone", "--quiet", str(remote), str(seed), cwd=tmp_path)
    shutil.copytree(REPO / "examples" / "gorilla-sfx-demo", seed / APP)
    shutil.copytree(REPO / "examples" / "ci", seed / "ci")
    git("add", ".", cwd=seed)
    git("commit", "--quiet", "-m", "gorilla-sfx-demo", cwd=seed)
    git("push", "--quiet", "origin", "main", cwd=seed)
    git("clone", "--quiet", str(remote), str(ci), cwd=tmp_path)
    executable(bin_dir / "gh", '#!/bin/sh\nprintf "%s\\n" "$@" > "$GH_RECORD"\necho https://github.example/pr/1\n')
    return {"remote": remote, "ci": ci, "bin": bin_dir, "tmp": tmp_path}


def release_sh(world: dict[str, Path], *args: str, token: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "BASE_BRANCH", "REMOTE")},
        "PATH": f"{world['bin']}{os.pathsep}{os.environ['PATH']}",
        "BGRENDER": str(bgrender_command(world["tmp"])),
        **({"GH_TOKEN": "not-a-real-token"} if token else {}),
        "GH_RECORD": str(world["tmp"] / "gh-args"),
        "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.com",
        "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.com",
    }
    # The script as the snippets run it: from the manifest repository's own copy.
    return subprocess.run(["bash", "ci/release.sh", *args], cwd=world["ci"], env=env,
                          capture_output=True, text=True, check=False)


def branches(remote: Path) -> list[str]:
    return git("for-each-ref", "--format=%(refname:short)", "refs/heads", cwd=remote).split()


def test_release_pushes_a_one_line_commit_and_opens_a_pull_request(world):
    done = release_sh(world, "1234abcd", APP)
    assert done.returncode == 0, done.stderr
    assert done.stdout == MESSAGE + "\n"
    branch = "release/gorilla-sfx-demo/1234abcd"
    assert branches(world["remote"]) == ["main", branch]
    assert git("log", "-1", "--format=%s", branch, cwd=world["remote"]).strip() == MESSAGE
    diff = git("diff", "--unified=0", "main", branch, cwd=world["remote"])
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-    version: 8a1b0c4e", "+    version: 1234abcd"]
    assert (world["tmp"] / "gh-args").read_text().splitlines()[:8] == [
        "pr", "create", "--base", "main", "--head", branch, "--title", MESSAGE]


def test_a_digest_makes_a_valid_branch_name(world):
    digest = "sha256:" + "ab" * 32
    done = release_sh(world, digest, APP)
    assert done.returncode == 0, done.stderr
    assert f"release/gorilla-sfx-demo/sha256-{'ab' * 32}" in branches(world["remote"])
    committed = git("show", f"release/gorilla-sfx-demo/sha256-{'ab' * 32}:{APP}/bluegreen.yaml", cwd=world["remote"])
    assert yaml.safe_load(committed)["spec"]["green"]["version"] == digest


def test_a_refused_release_pushes_nothing(world):
    done = release_sh(world, "3f9c2e1d", APP)  # what production runs
    assert (done.returncode, done.stdout) == (1, "")
    assert "already serves production on blue" in done.stderr
    assert branches(world["remote"]) == ["main"]
    assert git("status", "--porcelain", cwd=world["ci"]) == ""


def test_a_version_already_on_the_idle_color_is_nothing_to_do(world):
    done = release_sh(world, "8a1b0c4e", APP)
    assert (done.returncode, done.stdout) == (0, "")
    assert "nothing to commit" in done.stderr
    assert branches(world["remote"]) == ["main"]


def test_without_a_token_the_branch_is_pushed_and_named(world):
    done = release_sh(world, "1234abcd", APP, token=False)
    assert (done.returncode, done.stdout) == (0, MESSAGE + "\n"), done.stderr
    assert "pushed release/gorilla-sfx-demo/1234abcd; open a pull request from it into main" in done.stderr
    assert not (world["tmp"] / "gh-args").exists()
    assert "release/gorilla-sfx-demo/1234abcd" in branches(world["remote"])


@pytest.mark.parametrize("snippet", ["github-actions.yaml", "circleci.yaml"])
def test_the_ci_snippets_run_the_script_with_the_commit_sha(snippet):
    text = (REPO / "examples" / "ci" / snippet).read_text()
    yaml.safe_load(text)  # valid YAML
    sha = "$GITHUB_SHA" if "github" in snippet else "$CIRCLE_SHA1"
    assert f'ci/release.sh "{sha}" {APP}' in text
    for forbidden in ("kubectl", "kubeconfig:", "aws ", "KUBECONFIG"):
        assert forbidden not in text
