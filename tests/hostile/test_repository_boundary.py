"""Paths may leave the app directory but never the repository (DESIGN §19, SECURITY.md 2).

The repository is the Git top level locally (else the app directory) and, in Argo CD, the
working directory less $ARGOCD_APP_SOURCE_PATH. Every escape is tried: ".." chains, symlinks
to files and directories outside, absolute paths, a variable that lies, a repository reached
through a symlink, and the edit commands' own files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bgrender.app.files import FileChange, WriteFailed, write_files
from bgrender.app.repository import repository

from ..conftest import BGRENDER, clean_env
from .conftest import MINIMAL, assert_refused, render

INTENT = (MINIMAL / "bluegreen.yaml").read_text()
BASE = (MINIMAL / "deployment.yaml").read_text() + (
    "          volumeMounts: [{name: config, mountPath: /etc/web}]\n"
    "      volumes: [{name: config, configMap: {name: web-config}}]\n")
OUTSIDE = "kind: Secret\nstringData: {token: outside-the-repository}\n"
ARGOCD = {"ARGOCD_APP_NAME": "web", "ARGOCD_APP_SOURCE_PATH": "envs/staging"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """tmp/repo (a Git checkout: .git) with base/ and envs/staging, whose intent names the base
    through "..", and tmp/outside.yaml beside the repository."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "base" / "config").mkdir(parents=True)
    (repo / "base" / "deployment.yaml").write_text(BASE)
    (repo / "base" / "config" / "app.toml").write_text("retries = 3\n")
    (repo / "envs" / "staging").mkdir(parents=True)
    (tmp_path / "outside.yaml").write_text(OUTSIDE)
    _intent(repo, "../../base/deployment.yaml")
    return repo


def _intent(repo: Path, deployment: str, config: str = "../../base/config/app.toml") -> None:
    text = INTENT.replace("deployment: deployment.yaml", f"deployment: '{deployment}'")
    text += f"  configMaps:\n    - name: web-config\n      files: ['{config}']\n"
    (repo / "envs" / "staging" / "bluegreen.yaml").write_text(text)


def _app(repo: Path) -> Path:
    return repo / "envs" / "staging"


def _renders(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stderr
    assert "retries = 3" in result.stdout and "outside-the-repository" not in result.stdout


def test_environments_share_a_base_inside_the_repository(repo):
    _renders(render(_app(repo)))


def test_a_git_worktree_marks_the_repository_too(repo):
    (repo / ".git").rmdir()
    (repo / ".git").write_text("gitdir: /elsewhere/.git/worktrees/repo\n")
    _renders(render(_app(repo)))


def test_without_a_repository_the_app_directory_is_the_boundary(repo):
    (repo / ".git").rmdir()
    assert_refused(render(_app(repo)), 'spec.deployment: ../../base/deployment.yaml: resolves (through "..") to '
                   "a path outside the app directory (no Git repository holds it)")


@pytest.mark.parametrize("deployment", [
    "../../../outside.yaml", "../../base/../../outside.yaml", "../../envs/staging/../../../outside.yaml",
    "../" * 40 + "etc/hostname",
])
def test_dotdot_chains_leaving_the_repository_are_refused(repo, deployment):
    _intent(repo, deployment)
    assert_refused(render(_app(repo)), 'resolves (through "..") to a path outside the repository')


def test_a_dotdot_chain_that_comes_back_in_is_read(repo):
    _intent(repo, "../../../repo/envs/../base/deployment.yaml")
    _renders(render(_app(repo)))


@pytest.mark.parametrize("link", ["../../../outside.yaml", "{tmp}/outside.yaml", "/etc/hostname", "/dev/zero"])
def test_symlinks_to_outside_the_repository_are_refused(repo, link):
    (_app(repo) / "deployment.yaml").symlink_to(link.format(tmp=repo.parent))
    _intent(repo, "deployment.yaml")
    assert_refused(render(_app(repo)), "deployment.yaml: resolves (through a symlink) to a path outside the repository")


def test_a_symlink_inside_the_repository_is_followed(repo):
    (_app(repo) / "deployment.yaml").symlink_to("../../base/deployment.yaml")
    _intent(repo, "deployment.yaml")
    _renders(render(_app(repo)))


def test_symlinked_directories_are_confined_like_files(repo, tmp_path):
    (_app(repo) / "shared").symlink_to("../../base")  # inside: followed
    _intent(repo, "shared/deployment.yaml", "shared/config/app.toml")
    _renders(render(_app(repo)))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "app.toml").write_text(OUTSIDE)
    (_app(repo) / "external").symlink_to(tmp_path / "elsewhere")
    _intent(repo, "shared/deployment.yaml", "external/app.toml")
    assert_refused(render(_app(repo)), "spec.configMaps[0].files[0]: external/app.toml: resolves (through a symlink)"
                   " to a path outside the repository")


def test_a_shared_base_directory_that_is_a_symlink_out_is_refused(repo, tmp_path):
    shutil.move(repo / "base", tmp_path / "base")
    (repo / "base").symlink_to(tmp_path / "base")
    assert_refused(render(_app(repo)), "../../base/deployment.yaml: resolves (through a symlink) to a path outside "
                   "the repository")


@pytest.mark.parametrize("path", ["/etc/hostname", "/work"])
def test_absolute_paths_are_refused_before_anything_is_read(repo, path):
    _intent(repo, path)
    assert_refused(render(_app(repo)), "spec.deployment: must be relative to the directory of bluegreen.yaml, "
                   "not absolute")


def test_in_argocd_the_repository_is_the_working_directory_less_the_source_path(repo):
    (repo / ".git").rmdir()  # Argo CD's copy need not hold .git: the variable says where the root is
    _renders(render(_app(repo), env=ARGOCD))
    for same in ("./envs/staging/", "envs//staging"):
        _renders(render(_app(repo), env={**ARGOCD, "ARGOCD_APP_SOURCE_PATH": same}))


def test_in_argocd_a_git_directory_above_does_not_widen_the_repository(repo):
    """Argo CD says the app is the repository's root: the .git above it is not consulted."""
    _renders(render(_app(repo)))
    assert_refused(render(_app(repo), env={**ARGOCD, "ARGOCD_APP_SOURCE_PATH": ""}),
                   'resolves (through "..") to a path outside the repository')


@pytest.mark.parametrize("lie", ["other/staging", "../envs/staging", "/envs/staging", "envs/prod",
                                 "envs/staging/..", "x\n\u202e"])
def test_a_source_path_that_lies_confines_to_the_app_directory(repo, lie):
    result = render(_app(repo), env={**ARGOCD, "ARGOCD_APP_SOURCE_PATH": lie})
    assert_refused(result, "../../base/deployment.yaml: resolves (through \"..\") to a path outside the app "
                   "directory ($ARGOCD_APP_SOURCE_PATH", "does not end the working directory, so the repository's "
                   "root is unknown")
    assert len(result.stderr.splitlines()) == 1 and "\u202e" not in result.stderr  # the value is shown escaped


def test_a_source_path_that_claims_less_than_the_truth_only_narrows(repo):
    """"staging" does end the working directory: the root is envs/, which the base is outside."""
    assert_refused(render(_app(repo), env={**ARGOCD, "ARGOCD_APP_SOURCE_PATH": "staging"}),
                   'resolves (through "..") to a path outside the repository')


def test_an_app_of_its_own_still_renders_when_the_source_path_lies(repo):
    (_app(repo) / "deployment.yaml").write_text(BASE)
    (_app(repo) / "app.toml").write_text("retries = 3\n")
    _intent(repo, "deployment.yaml", "app.toml")
    _renders(render(_app(repo), env={**ARGOCD, "ARGOCD_APP_SOURCE_PATH": "somewhere/else"}))


def test_a_repository_reached_through_a_symlink_confines_like_any_other(repo, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(repo)
    _renders(render(link / "envs" / "staging"))
    _renders(render(link / "envs" / "staging", env=ARGOCD))
    done = subprocess.run([BGRENDER, "render", "link/envs/staging"], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True, timeout=30)
    _renders(done)
    (_app(repo) / "deployment.yaml").symlink_to("../../../outside.yaml")
    _intent(repo, "deployment.yaml")
    assert_refused(render(link / "envs" / "staging"), "resolves (through a symlink) to a path outside the repository")


def test_the_boundary_is_found_without_a_subprocess(repo, monkeypatch):
    def no_process(*args, **kwargs):
        raise AssertionError("a subprocess was started")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    monkeypatch.chdir(_app(repo))
    assert repository(".", {}).root == str(repo.resolve())
    assert repository(".", ARGOCD).root == str(repo.resolve())
    assert repository(".", {**ARGOCD, "ARGOCD_APP_SOURCE_PATH": "elsewhere"}).root == str(_app(repo).resolve())


def test_an_edit_refuses_a_lock_that_leads_out_of_the_repository(repo, tmp_path):
    (_app(repo) / "bluegreen.lock.yaml").symlink_to("../../../outside.yaml")
    before = (_app(repo) / "bluegreen.yaml").read_text()
    done = subprocess.run([BGRENDER, "release", "v2.0.0", str(_app(repo))], env=clean_env(), capture_output=True,
                          text=True, timeout=30)
    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    assert "bluegreen.lock.yaml: resolves (through a symlink) to a path outside the repository" in done.stderr
    assert (tmp_path / "outside.yaml").read_text() == OUTSIDE
    assert (_app(repo) / "bluegreen.yaml").read_text() == before


def test_an_edit_inside_the_repository_writes_through_its_symlinks(repo):
    """The environments' own files may be links within the repository: written through, not over."""
    shutil.move(_app(repo) / "bluegreen.yaml", repo / "base" / "staging.yaml")
    (_app(repo) / "bluegreen.yaml").symlink_to("../../base/staging.yaml")
    done = subprocess.run([BGRENDER, "release", "v2.0.0", str(_app(repo))], env=clean_env(), capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert (_app(repo) / "bluegreen.yaml").is_symlink()
    assert "version: v2.0.0" in (repo / "base" / "staging.yaml").read_text()


def test_a_file_swapped_for_a_symlink_out_before_the_write_is_not_written(repo, tmp_path):
    """Between the read and the write, the file became a link to outside: nothing is written there,
    and what was written before it is undone."""
    lock, intent = _app(repo) / "bluegreen.lock.yaml", _app(repo) / "bluegreen.yaml"
    lock.write_text("old\n")
    within = repository(str(_app(repo)))
    old_intent = intent.read_bytes()
    intent.unlink()
    intent.symlink_to(tmp_path / "outside.yaml")
    changes = [FileChange(str(lock), b"old\n", b"new\n", within),
               FileChange(str(intent), OUTSIDE.encode(), b"overwritten\n", within)]
    with pytest.raises(WriteFailed, match="outside the repository"):
        write_files(changes)
    assert (tmp_path / "outside.yaml").read_text() == OUTSIDE
    assert lock.read_text() == "old\n"
    assert old_intent  # the intent's own bytes were never the point: only where the write would go
    assert os.path.islink(intent)
