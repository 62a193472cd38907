"""examples/environments/ci/release.yaml: its steps, run as written against a bare Git remote
(with examples/ci/release.sh as the manifest repository's ci/release.sh and a fake gh), release
to staging and merge, then open one pull request per production environment, each on its own
branch and touching only its own environment's files."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ..conftest import REPO
from .test_release_ci_script import FAKE_GH, IDENTITY, bgrender_command, branch_of, executable, git

WORKFLOW = yaml.safe_load((REPO / "examples" / "environments" / "ci" / "release.yaml").read_text())
ENVS = "examples/environments/envs"


def branch(environment: str) -> str:
    """The branch release.sh gives an environment."""
    return branch_of(f"{ENVS}/{environment}", f"{ENVS}/{environment}/bluegreen.yaml")

pytestmark = pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None,
                                reason="needs git and bash")


def _script(job: str) -> str:
    (step,) = [s for s in WORKFLOW["jobs"][job]["steps"] if "ci/release.sh" in s.get("run", "")]
    return step["run"]


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    remote, seed = tmp_path / "manifests.git", tmp_path / "seed"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(remote), cwd=tmp_path)
    git("clone", "--quiet", str(remote), str(seed), cwd=tmp_path)
    shutil.copytree(REPO / "examples" / "environments", seed / "examples" / "environments")
    shutil.copytree(REPO / "examples" / "ci", seed / "ci")
    git("add", ".", cwd=seed)
    git("commit", "--quiet", "-m", "payments in three environments", cwd=seed)
    git("push", "--quiet", "origin", "main", cwd=seed)
    (tmp_path / "bin").mkdir()
    executable(tmp_path / "bin" / "gh", FAKE_GH)
    return remote


def _run_step(remote: Path, job: str, name: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The step's script as the runner runs it (bash -e), in a fresh checkout of main."""
    tmp = remote.parent
    checkout = tmp / f"ci-{name}"
    git("clone", "--quiet", str(remote), str(checkout), cwd=tmp)
    environment = {
        **{k: v for k, v in os.environ.items() if k not in ("BASE_BRANCH", "REMOTE")},
        "PATH": f"{tmp / 'bin'}{os.pathsep}{os.environ['PATH']}", "BGRENDER": str(bgrender_command(tmp)),
        "GH_TOKEN": "not-a-real-token", "GH_RECORD": str(tmp / "gh-calls"), "GH_STATE": str(tmp / f"gh-{name}"),
        "VERSION": "1.6.0", **IDENTITY, **env,
    }
    return subprocess.run(["bash", "-e", "-c", _script(job)], cwd=checkout, env=environment, capture_output=True,
                          text=True, check=False)


def _touched(remote: Path, branch: str) -> list[str]:
    return git("diff", "--name-only", f"main...{branch}", cwd=remote).split()


def test_the_production_jobs_cover_every_other_environment_after_staging():
    environments = sorted(p.name for p in (REPO / ENVS).iterdir() if (p / "bluegreen.yaml").is_file())
    production = WORKFLOW["jobs"]["production"]
    assert sorted(production["strategy"]["matrix"]["environment"] + ["staging"]) == environments
    assert production["needs"] == "staging" and production["environment"] == "production"
    assert f"{ENVS}/staging" in _script("staging")
    text = (REPO / "examples" / "environments" / "ci" / "release.yaml").read_text()
    assert "${{ inputs.version }}" not in _script("staging") + _script("production")  # only through $VERSION
    for forbidden in ("kubectl", "kubeconfig:", "aws ", "KUBECONFIG"):
        assert forbidden not in text


def test_staging_is_released_and_merged_then_each_production_environment_gets_its_own_pull_request(remote):
    staging = _run_step(remote, "staging", "staging")
    assert staging.returncode == 0, staging.stderr
    assert _touched(remote, branch("staging")) == [f"{ENVS}/staging/bluegreen.lock.yaml",
                                                          f"{ENVS}/staging/bluegreen.yaml"]
    calls = (remote.parent / "gh-calls").read_text()
    assert f"merge\n{branch('staging')}\n--squash" in calls
    for environment in WORKFLOW["jobs"]["production"]["strategy"]["matrix"]["environment"]:
        done = _run_step(remote, "production", environment, ENVIRONMENT=environment)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("release payments 1.6.0 to ")
        assert _touched(remote, branch(environment)) == [f"{ENVS}/{environment}/bluegreen.lock.yaml",
                                                                f"{ENVS}/{environment}/bluegreen.yaml"]
    branches = git("for-each-ref", "--format=%(refname:short)", "refs/heads", cwd=remote).split()
    assert branches == sorted([branch(e) for e in ("prod-eu", "prod-us", "staging")] + ["main"])
    assert calls.count("pr\ncreate") == 1  # staging's; the production ones follow in the file
    assert (remote.parent / "gh-calls").read_text().count("pr\ncreate") == 3


def test_a_rerun_before_the_merge_merges_the_same_release(remote):
    """The job failed after the push (say the merge did): run again, it finds the same release
    on the branch, pushes nothing new, and merges it."""
    first = _run_step(remote, "staging", "first")
    assert first.returncode == 0, first.stderr
    pushed = git("rev-parse", branch("staging"), cwd=remote)
    again = _run_step(remote, "staging", "again")
    assert again.returncode == 0, again.stderr
    assert "already holds this release" in again.stderr
    assert git("rev-parse", branch("staging"), cwd=remote) == pushed
    assert (remote.parent / "gh-calls").read_text().count(f"merge\n{branch('staging')}\n") == 2
