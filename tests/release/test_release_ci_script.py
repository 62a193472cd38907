"""examples/ci/release.sh end to end: a bare Git repository plays the manifest repository's
remote, a fresh clone plays the CI checkout, and a fake `gh` records the pull requests it
would open or update. No network, no cluster.

The script keeps one branch per app, force-updated with a lease, so a job can be run again
after it failed (or succeeded); a refusal (exit 1) is told apart from a failed push (exit 4).
"""

from __future__ import annotations

import hashlib
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


def branch_of(slug: str, intent: str) -> str:
    """The app's branch: its path made safe, then "+" and 8 hex digits of the intent file's exact
    path in the repository, hashed as `git hash-object` does."""
    data = intent.encode()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return f"bgrender/release/{slug}+{blob[:8]}"


BRANCH = branch_of(APP, f"{APP}/bluegreen.yaml")
MESSAGE = "release gorilla-sfx-demo 1234abcd to green (production stays on blue)"
IDENTITY = {"GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.com",
            "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.com"}
# gh as the script calls it: every call is recorded, `pr create` opens the one pull request
# that `pr list` then finds.
FAKE_GH = """#!/bin/sh
{ echo --; printf '%s\\n' "$@"; } >> "$GH_RECORD"
case "$1 $2" in
    "pr list") cat "$GH_STATE" 2>/dev/null || true ;;
    "pr create") echo https://github.example/pr/1 | tee "$GH_STATE" ;;
esac
"""

pytestmark = pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None,
                                reason="needs git and bash")


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env={**os.environ, **IDENTITY})
    return done.stdout


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def bgrender_command(directory: Path) -> Path:
    """The installed `bgrender`, or, until cli.py registers the release commands, a stand-in."""
    from bgrender.cli.main import cli

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
    remote, seed, bin_dir = (tmp_path / n for n in ("manifests.git", "seed", "bin"))
    bin_dir.mkdir()
    git("init", "--quiet", "--bare", "--initial-branch=main", str(remote), cwd=tmp_path)
    git("clone", "--quiet", str(remote), str(seed), cwd=tmp_path)
    shutil.copytree(REPO / "examples" / "gorilla-sfx-demo", seed / APP)
    shutil.copytree(REPO / "examples" / "ci", seed / "ci")
    git("add", ".", cwd=seed)
    git("commit", "--quiet", "-m", "gorilla-sfx-demo", cwd=seed)
    git("push", "--quiet", "origin", "main", cwd=seed)
    executable(bin_dir / "gh", FAKE_GH)
    return {"remote": remote, "ci": fresh_clone({"remote": remote, "tmp": tmp_path}), "bin": bin_dir,
            "tmp": tmp_path}


def fresh_clone(world: dict[str, Path]) -> Path:
    """A new CI checkout of main, as a re-run job gets."""
    n = len(list(world["tmp"].glob("ci*")))
    ci = world["tmp"] / f"ci{n or ''}"
    git("clone", "--quiet", str(world["remote"]), str(ci), cwd=world["tmp"])
    return ci


def release_sh(world: dict[str, Path], *args: str, token: bool = True, ci: Path | None = None,
               bgrender: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "BASE_BRANCH", "REMOTE")},
        "PATH": f"{world['bin']}{os.pathsep}{os.environ['PATH']}",
        "BGRENDER": str(bgrender or bgrender_command(world["tmp"])),
        **({"GH_TOKEN": "not-a-real-token"} if token else {}),
        "GH_RECORD": str(world["tmp"] / "gh-calls"), "GH_STATE": str(world["tmp"] / "gh-state"),
        **IDENTITY,
    }
    # The script as the snippets run it: from the manifest repository's own copy.
    return subprocess.run(["bash", "ci/release.sh", *args], cwd=ci or world["ci"], env=env,
                          capture_output=True, text=True, check=False)


def branches(remote: Path) -> list[str]:
    return git("for-each-ref", "--format=%(refname:short)", "refs/heads", cwd=remote).split()


def head(remote: Path, ref: str = BRANCH) -> str:
    return git("rev-parse", ref, cwd=remote).strip()


def gh_calls(world: dict[str, Path]) -> list[list[str]]:
    record = world["tmp"] / "gh-calls"
    return [call.strip("\n").split("\n") for call in record.read_text().split("--\n")[1:]] if record.exists() else []


def green_on_branch(world: dict[str, Path]) -> str:
    return yaml.safe_load(git("show", f"{BRANCH}:{APP}/bluegreen.yaml", cwd=world["remote"]))["spec"]["green"]["version"]


def assert_checkout_clean_on_main(ci: Path) -> None:
    assert git("symbolic-ref", "--short", "HEAD", cwd=ci).strip() == "main"
    assert git("status", "--porcelain", cwd=ci) == ""


def test_release_pushes_a_one_line_commit_and_opens_a_pull_request(world):
    done = release_sh(world, "1234abcd", APP)
    assert done.returncode == 0, done.stderr
    assert done.stdout == MESSAGE + "\n"
    assert branches(world["remote"]) == [BRANCH, "main"]
    assert git("log", "-1", "--format=%s", BRANCH, cwd=world["remote"]).strip() == MESSAGE
    assert git("rev-list", "--count", f"main..{BRANCH}", cwd=world["remote"]).strip() == "1"
    diff = git("diff", "--unified=0", "main", BRANCH, "--", f"{APP}/bluegreen.yaml", cwd=world["remote"])
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-    version: 8a1b0c4e", "+    version: 1234abcd"]
    files = git("diff", "--name-only", "main", BRANCH, cwd=world["remote"]).split()
    assert files == [f"{APP}/bluegreen.lock.yaml", f"{APP}/bluegreen.yaml"]  # the lock pins what green runs
    listed, created = gh_calls(world)
    assert listed[:4] == ["pr", "list", "--head", BRANCH]
    assert created[:8] == ["pr", "create", "--base", "main", "--head", BRANCH, "--title", MESSAGE]
    body = "\n".join(created[created.index("--body") + 1:])  # the last argument: what production will run
    assert "\nproduction: blue 3f9c2e1d -> green 1234abcd: image: " in body
    assert "\n+    - image: 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/gorilla-sfx-demo:1234abcd\n" in body
    assert "bluegreen.lock.yaml" not in body  # the files' own diffs are the pull request's
    assert "https://github.example/pr/1" in done.stderr
    assert_checkout_clean_on_main(world["ci"])


def test_a_digest_is_committed_on_the_apps_branch(world):
    digest = "sha256:" + "ab" * 32
    done = release_sh(world, digest, APP)
    assert done.returncode == 0, done.stderr
    assert green_on_branch(world) == digest


def test_a_refused_release_pushes_nothing_and_exits_1(world):
    done = release_sh(world, "3f9c2e1d", APP)  # what production runs
    assert (done.returncode, done.stdout) == (1, "")
    assert "already serves production on blue" in done.stderr
    assert branches(world["remote"]) == ["main"]
    assert gh_calls(world) == []
    assert_checkout_clean_on_main(world["ci"])


def test_a_version_already_on_the_idle_color_is_nothing_to_do(world):
    done = release_sh(world, "8a1b0c4e", APP)
    assert (done.returncode, done.stdout) == (0, "")
    assert "nothing to commit" in done.stderr
    assert branches(world["remote"]) == ["main"]


def test_without_a_token_the_branch_is_pushed_and_named(world):
    done = release_sh(world, "1234abcd", APP, token=False)
    assert (done.returncode, done.stdout) == (0, MESSAGE + "\n"), done.stderr
    assert f"pushed {BRANCH}; open a pull request from it into main" in done.stderr
    assert gh_calls(world) == []
    assert BRANCH in branches(world["remote"])


def test_a_rerun_of_a_job_that_succeeded_changes_nothing(world):
    first = release_sh(world, "1234abcd", APP)
    pushed = head(world["remote"])
    again = release_sh(world, "1234abcd", APP, ci=fresh_clone(world))
    assert (again.returncode, again.stdout) == (0, MESSAGE + "\n"), again.stderr
    assert first.returncode == 0 and head(world["remote"]) == pushed  # no new commit, no force-push
    assert f"{BRANCH} already holds this release" in again.stderr
    assert [call[:2] for call in gh_calls(world)] == [["pr", "list"], ["pr", "create"], ["pr", "list"], ["pr", "edit"]]


def test_a_retry_after_a_failed_push_releases_from_the_same_checkout(world):
    executable(world["remote"] / "hooks" / "pre-receive", "#!/bin/sh\necho 'remote: refusing for now' >&2\nexit 1\n")
    failed = release_sh(world, "1234abcd", APP)
    assert (failed.returncode, failed.stdout) == (4, "")
    assert f"push of {BRANCH} to origin failed; nothing changed there; re-run the job" in failed.stderr
    assert branches(world["remote"]) == ["main"] and gh_calls(world) == []
    assert_checkout_clean_on_main(world["ci"])  # the edit is in the local branch only

    (world["remote"] / "hooks" / "pre-receive").unlink()
    retried = release_sh(world, "1234abcd", APP)
    assert (retried.returncode, retried.stdout) == (0, MESSAGE + "\n"), retried.stderr
    assert green_on_branch(world) == "1234abcd"
    assert [call[:2] for call in gh_calls(world)] == [["pr", "list"], ["pr", "create"]]


def test_a_newer_release_replaces_the_unmerged_one_in_the_same_pull_request(world):
    assert release_sh(world, "1234abcd", APP).returncode == 0
    newer = release_sh(world, "5678ef01", APP, ci=fresh_clone(world))
    assert newer.returncode == 0, newer.stderr
    assert green_on_branch(world) == "5678ef01"
    assert git("rev-list", "--count", f"main..{BRANCH}", cwd=world["remote"]).strip() == "1"
    edit = gh_calls(world)[-1]
    assert edit[:5] == ["pr", "edit", "https://github.example/pr/1", "--title",
                        "release gorilla-sfx-demo 5678ef01 to green (production stays on blue)"]


def test_a_push_that_lands_in_between_is_not_overwritten(world):
    """Another job pushes the branch after this run read it: the lease fails the push."""
    other = fresh_clone(world)
    git("commit", "--quiet", "--allow-empty", "-m", "another job", cwd=other)
    executable(world["ci"] / ".git" / "hooks" / "pre-push",
               f"#!/bin/sh\ngit -C {str(other)!r} push --quiet origin HEAD:refs/heads/{BRANCH}\n")
    raced = release_sh(world, "1234abcd", APP)
    assert (raced.returncode, raced.stdout) == (4, "")
    assert git("log", "-1", "--format=%s", BRANCH, cwd=world["remote"]).strip() == "another job"

    (world["ci"] / ".git" / "hooks" / "pre-push").unlink()
    retried = release_sh(world, "1234abcd", APP)  # the branch is the script's: the re-run replaces it
    assert retried.returncode == 0, retried.stderr
    assert git("log", "-1", "--format=%s", BRANCH, cwd=world["remote"]).strip() == MESSAGE


def test_the_lock_file_is_committed_with_the_intent_when_bgrender_writes_one(world):
    real = bgrender_command(world["tmp"])
    writes_lock = executable(world["tmp"] / "bgrender-with-lock",
                             f'#!/bin/sh\nset -e\n"{real}" "$@"\n'
                             'case "$*" in *--dry-run*) exit 0 ;; esac\n'  # a dry run writes nothing
                             f'printf "kind: BlueGreenLock\\n" > "{APP}/bluegreen.lock.yaml"\n')
    done = release_sh(world, "1234abcd", APP, bgrender=writes_lock)
    assert (done.returncode, done.stdout) == (0, MESSAGE + "\n"), done.stderr
    changed = git("diff", "--name-only", "main", BRANCH, cwd=world["remote"]).split()
    assert changed == [f"{APP}/bluegreen.lock.yaml", f"{APP}/bluegreen.yaml"]
    assert git("log", "-1", "--format=%B", BRANCH, cwd=world["remote"]).strip() == MESSAGE


def test_apps_in_directories_of_the_same_name_get_their_own_branches(world):
    seed = fresh_clone(world)
    shutil.copytree(seed / APP, seed / "staging" / "gorilla-sfx-demo")
    git("add", ".", cwd=seed)
    git("commit", "--quiet", "-m", "staging", cwd=seed)
    git("push", "--quiet", "origin", "main", cwd=seed)
    ci = fresh_clone(world)
    assert release_sh(world, "1234abcd", APP, ci=ci).returncode == 0
    assert release_sh(world, "1234abcd", "staging/gorilla-sfx-demo", ci=ci).returncode == 0
    assert branches(world["remote"]) == [
        BRANCH, branch_of("staging/gorilla-sfx-demo", "staging/gorilla-sfx-demo/bluegreen.yaml"), "main"]


def _add_apps(world: dict[str, Path], copies: dict[str, str]) -> Path:
    """Commits copies of files of the app (`copies`: new path -> path in the app) on main; a CI checkout."""
    seed = fresh_clone(world)
    for target, source in copies.items():
        (seed / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(seed / APP / source, seed / target)
    git("add", ".", cwd=seed)
    git("commit", "--quiet", "-m", "more apps", cwd=seed)
    git("push", "--quiet", "origin", "main", cwd=seed)
    return fresh_clone(world)


def test_an_app_nested_below_another_gets_its_own_branch(world):
    """apps/x and apps/x/canary: as plain paths, one branch name would be a directory of the
    other's, which git cannot hold."""
    nested = f"{APP}/canary"
    ci = _add_apps(world, {f"{nested}/{f}": f for f in ("bluegreen.yaml", "bluegreen.lock.yaml", "deployment.yaml")})
    for app in (APP, nested):
        done = release_sh(world, "1234abcd", app, ci=ci)
        assert done.returncode == 0, done.stderr
    assert branches(world["remote"]) == [BRANCH, branch_of(nested, f"{nested}/bluegreen.yaml"), "main"]


def test_paths_that_read_alike_get_their_own_branches(world):
    """"my app" and "my-app" are made the same by the path's safe form; the hash tells them apart."""
    ci = _add_apps(world, {f"apps/{d}/{f}": f for d in ("my app", "my-app")
                           for f in ("bluegreen.yaml", "bluegreen.lock.yaml", "deployment.yaml")})
    for app in ("apps/my app", "apps/my-app"):
        assert release_sh(world, "1234abcd", app, ci=ci).returncode == 0
    expected = {branch_of("apps/my-app", f"{app}/bluegreen.yaml") for app in ("apps/my app", "apps/my-app")}
    assert len(expected) == 2 and branches(world["remote"]) == sorted(expected) + ["main"]


def test_intent_files_sharing_a_directory_each_release_on_their_own_branch_with_their_own_lock(world):
    ci = _add_apps(world, {f"{APP}/canary.yaml": "bluegreen.yaml", f"{APP}/canary.lock.yaml": "bluegreen.lock.yaml"})
    done = release_sh(world, "1234abcd", f"{APP}/canary.yaml", ci=ci)
    assert done.returncode == 0, done.stderr
    branch = branch_of(f"{APP}/canary", f"{APP}/canary.yaml")
    assert branches(world["remote"]) == [branch, "main"]
    changed = git("diff", "--name-only", "main", branch, cwd=world["remote"]).split()
    assert changed == [f"{APP}/canary.lock.yaml", f"{APP}/canary.yaml"]


def test_a_version_beginning_with_a_dash_is_refused_as_a_version_not_read_as_an_option(world):
    done = release_sh(world, "-1.0", APP)
    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    assert 'must be an image tag or a "sha256:<64 hex>" digest, got "-1.0"' in done.stderr
    assert branches(world["remote"]) == ["main"]
    assert_checkout_clean_on_main(world["ci"])


@pytest.mark.parametrize("args", [(), ("1", "2", "3")])
def test_usage_errors_exit_2(world, args):
    done = release_sh(world, *args)
    assert (done.returncode, done.stdout) == (2, "")
    assert "usage: ci/release.sh VERSION [APP_PATH]" in done.stderr


@pytest.mark.parametrize("snippet", ["github-actions.yaml", "circleci.yaml"])
def test_the_ci_snippets_run_the_script_with_the_commit_sha(snippet):
    text = (REPO / "examples" / "ci" / snippet).read_text()
    yaml.safe_load(text)  # valid YAML
    sha = "$GITHUB_SHA" if "github" in snippet else "$CIRCLE_SHA1"
    assert f'ci/release.sh "{sha}" {APP}' in text
    for forbidden in ("kubectl", "kubeconfig:", "aws ", "KUBECONFIG"):
        assert forbidden not in text


def test_the_branch_is_written_to_branch_file_for_a_next_step(world):
    out = world["tmp"] / "branch"
    done = subprocess.run(["bash", "ci/release.sh", "1234abcd", APP], cwd=world["ci"], capture_output=True, text=True,
                          check=False, env={**os.environ, **IDENTITY, "BRANCH_FILE": str(out),
                                            "BGRENDER": str(bgrender_command(world["tmp"]))})
    assert done.returncode == 0, done.stderr
    assert out.read_text() == BRANCH + "\n"
