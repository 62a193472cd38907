"""The release commands' I/O: atomic writes, failures that leave the file as it was,
usage errors, and `--check-live` (which alone may load the `kubernetes` client)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from bgrender.cli import release as release_cli
from bgrender.errors import ClusterError, Drift

from ..conftest import BGRENDER, REPO, runner_env
from .conftest import BASE_DEPLOYMENT, MANUAL, bgrender_group, make_app, run

MESSAGE = "release gorilla-sfx-demo 99aa00b to green (production stays on blue)\n"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return make_app(tmp_path / "app", MANUAL)


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_release_writes_the_file_keeping_its_mode(app, monkeypatch):
    os.chmod(app / "bluegreen.yaml", 0o640)
    result = run(["release", "99aa00b"], app, monkeypatch)
    assert (result.exit_code, result.stdout, result.stderr) == (0, MESSAGE, "")
    assert (app / "bluegreen.yaml").read_text() == MANUAL.replace("version: 8a1b0c4e", "version: 99aa00b")
    assert os.stat(app / "bluegreen.yaml").st_mode & 0o777 == 0o640
    assert listing(app) == ["bluegreen.lock.yaml", "bluegreen.yaml", "deployment.yaml"]
    assert os.stat(app / "bluegreen.lock.yaml").st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_path_to_the_intent_file_works_too(app, monkeypatch):
    result = run(["promote", str(app / "bluegreen.yaml")], app.parent, monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert "active: green" in (app / "bluegreen.yaml").read_text()


def test_a_symlinked_intent_is_written_through_the_link(app, monkeypatch):
    real = app / "real.yaml"
    (app / "bluegreen.yaml").rename(real)
    (app / "bluegreen.yaml").symlink_to("real.yaml")
    result = run(["release", "99aa00b"], app, monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert (app / "bluegreen.yaml").is_symlink()
    assert "version: 99aa00b" in real.read_text()


@pytest.mark.parametrize("failing", ["replace", "fsync", "write"])
@pytest.mark.parametrize("nth", [1, 2])
def test_a_failed_write_leaves_both_files_and_no_temporary_file(app, monkeypatch, failing, nth):
    """The lock is written first, then bluegreen.yaml; if either write fails, neither file
    has changed afterwards (the lock written first is put back)."""
    real = {"replace": os.replace, "fsync": os.fsync, "write": os.fdopen}[failing]
    calls = []

    def fail_the_nth(*args, **kwargs):
        calls.append(args)
        if len(calls) == nth:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(os, {"replace": "replace", "fsync": "fsync", "write": "fdopen"}[failing], fail_the_nth)
    if failing == "fsync":  # the directory is fsynced too, and its failure is ignored: count file fsyncs only
        monkeypatch.setattr(os, "fsync", lambda fd: real(fd) if os.path.isdir(f"/proc/self/fd/{fd}") else
                            fail_the_nth(fd))
    result = run(["release", "99aa00b"], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (1, "")
    failed = ["bluegreen.lock.yaml", "bluegreen.yaml"][nth - 1]
    assert result.stderr == f"{failed}: cannot write: No space left on device; no file was changed\n"
    assert (app / "bluegreen.yaml").read_text() == MANUAL
    assert listing(app) == ["bluegreen.yaml", "deployment.yaml"]


def test_a_file_changed_during_the_edit_is_not_overwritten(app, monkeypatch):
    """An editor (which takes no edit lock) saves bluegreen.yaml while `promote` decides: the
    write compares what is on disk with what was read, and refuses; the lock is put back."""
    decide = release_cli.use_case.promote

    def decide_then_someone_edits(source):
        outcome = decide(source)
        (app / "bluegreen.yaml").write_text(MANUAL + "# edited meanwhile\n")
        return outcome

    monkeypatch.setattr(release_cli.use_case, "promote", decide_then_someone_edits)
    result = run(["promote"], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (1, "")
    assert "bluegreen.yaml: changed on disk during the edit" in result.stderr
    assert (app / "bluegreen.yaml").read_text().endswith("# edited meanwhile\n")
    assert listing(app) == ["bluegreen.yaml", "deployment.yaml"]


def test_dry_run_writes_nothing(app, monkeypatch):
    before = os.stat(app / "bluegreen.yaml")
    result = run(["promote", "--dry-run"], app, monkeypatch)
    assert result.exit_code == 0 and result.stdout.startswith("production: blue 3f9c2e1d -> green 8a1b0c4e: image: ")
    assert "\n--- /dev/null\n+++ b/bluegreen.lock.yaml\n" in result.stdout  # after what production runs next
    assert "\n--- a/bluegreen.yaml\n+++ b/bluegreen.yaml\n" in result.stdout
    assert result.stderr.startswith("would commit: promote gorilla-sfx-demo green 8a1b0c4e to production")
    assert os.stat(app / "bluegreen.yaml").st_mtime_ns == before.st_mtime_ns
    assert (app / "bluegreen.yaml").read_text() == MANUAL
    assert listing(app) == ["bluegreen.yaml", "deployment.yaml"]


@pytest.mark.parametrize(
    "args",
    [["release", "v1", ".", "extra"], ["release", "v1", "--kubeconfig", "k"], ["promote", "a", "b"], ["rollback", "--nope"],
     ["release", "v1", "--check-live", "--timeout", "0"]],
)
def test_usage_errors_exit_2_with_nothing_on_stdout(app, monkeypatch, args):
    result = run(args, app, monkeypatch)
    assert (result.exit_code, result.stdout) == (2, "")
    assert (app / "bluegreen.yaml").read_text() == MANUAL


def test_unreadable_files_are_reported_with_their_position(tmp_path, monkeypatch):
    app = make_app(tmp_path / "app", MANUAL.encode().replace(b"8a1b0c4e", b"8a1b\xff0c4e"))
    result = run(["promote"], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "bluegreen.yaml:11:18: not valid UTF-8 (byte 0xff)\n"
    missing = run(["promote", "nowhere"], tmp_path, monkeypatch)
    assert (missing.exit_code, missing.stdout, missing.stderr) == (1, "", "nowhere: file not found\n")
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "bluegreen.yaml").write_text("#" * (2 << 20))
    big = run(["release", "v1", "big"], tmp_path, monkeypatch)
    assert (big.exit_code, big.stdout) == (1, "")
    assert big.stderr == "big/bluegreen.yaml: cannot be read: larger than 1024 KiB\n"


def test_check_live_asks_the_cluster_before_any_edit(app, monkeypatch):
    from bgrender.live import cluster  # imports kubernetes: fine here, never on the plain path

    calls = []

    def refuse(plan, conn):
        calls.append((plan.intent.active, conn))
        raise Drift("refusing to release: production traffic goes to green live")

    monkeypatch.setattr(cluster, "check_live", refuse)
    result = run(["release", "99aa00b", "--check-live", "--kubeconfig", "kc", "--context", "prod",
                  "--timeout", "2.5"], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (3, "")  # drift: the cluster disagrees with Git
    assert result.stderr == "refusing to release: production traffic goes to green live\n"
    assert calls == [("blue", cluster.Connection("kc", "prod", 2.5))]
    assert (app / "bluegreen.yaml").read_text() == MANUAL

    def unreadable(plan, conn):
        raise ClusterError("cannot reach the Kubernetes API server at https://10.0.0.1:6443: Connection refused")

    monkeypatch.setattr(cluster, "check_live", unreadable)
    result = run(["release", "99aa00b", "--check-live"], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (4, "")  # an outage, not drift
    assert (app / "bluegreen.yaml").read_text() == MANUAL

    monkeypatch.setattr(cluster, "check_live", lambda plan, conn: calls.append("ok"))
    result = run(["release", "99aa00b", "--check-live"], app, monkeypatch)
    assert (result.exit_code, result.stdout, calls[-1]) == (0, MESSAGE, "ok")


def test_without_check_live_the_kubernetes_client_is_never_imported(app):
    """A clean interpreter: release, promote and rollback, then look at sys.modules."""
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from tests.release.conftest import bgrender_group\n"
        "for args in (['release', '99aa00b'], ['promote'], ['rollback'], ['release', 'x1', '--dry-run']):\n"
        "    result = CliRunner().invoke(bgrender_group(), [*args, sys.argv[1]])\n"
        "    assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kubernetes'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(app)], cwd=REPO, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


@pytest.mark.parametrize("stdout", ["full", "closed"])
def test_an_unwritable_stdout_leaves_both_files_as_they_were(app, stdout):
    """The commit message is printed after the files are written; if it cannot be, the
    files are put back: a non-zero exit always means nothing changed."""
    redirect = ["sh", "-c", f'exec "$@" {">/dev/full" if stdout == "full" else ">&-"}', "sh"]
    done = subprocess.run([*redirect, BGRENDER, "release", "99aa00b", str(app)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "cannot print the commit message" in done.stderr and "the files are as they were" in done.stderr
    assert (app / "bluegreen.yaml").read_text() == MANUAL
    assert listing(app) == ["bluegreen.yaml", "deployment.yaml"]


def test_intent_files_sharing_a_directory_have_a_lock_each(app, monkeypatch):
    """Releasing one app in a directory never rewrites another's pins (#26, class 7)."""
    assert run(["lock"], app, monkeypatch).exit_code == 0
    (app / "canary.yaml").write_text(MANUAL.replace("name: gorilla-sfx-demo", "name: gorilla-canary"))
    main_lock = (app / "bluegreen.lock.yaml").read_bytes()
    result = run(["release", "99aa00b", "canary.yaml"], app, monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert listing(app) == ["bluegreen.lock.yaml", "bluegreen.yaml", "canary.lock.yaml", "canary.yaml",
                            "deployment.yaml"]
    assert (app / "bluegreen.lock.yaml").read_bytes() == main_lock
    assert "version: 99aa00b" in (app / "canary.lock.yaml").read_text()
    assert run(["render", "canary.yaml"], app, monkeypatch).exit_code == 0


@pytest.mark.parametrize("name", ["canary.lock.yaml", "canary.lock.yml"])
def test_an_intent_file_named_like_a_lock_is_refused(app, monkeypatch, name):
    (app / name).write_text(MANUAL)
    result = run(["release", "99aa00b", name], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (1, "")
    assert f"{name}: is named like a lock" in result.stderr
    assert listing(app) == sorted(["bluegreen.yaml", "deployment.yaml", name])


def test_edits_read_the_namespace_from_argocd_app_namespace_as_the_render_does(tmp_path, monkeypatch):
    """A base whose template names {{ namespace }} (bluegreen.yaml sets none): the release pins
    it expanded with $ARGOCD_APP_NAMESPACE, as the render would (#26, class 7)."""
    base = tmp_path / "base.yaml"
    base.write_text(BASE_DEPLOYMENT.read_text().replace(
        "          ports:\n", "          env:\n            - name: NAMESPACE\n              value: \"{{ namespace }}\"\n"
        "          ports:\n", 1))
    app = make_app(tmp_path / "app", MANUAL, base=base)
    monkeypatch.chdir(app)

    def edit(*args: str, namespace: str | None) -> Result:
        env = {"ARGOCD_APP_NAMESPACE": namespace} if namespace else {}
        return CliRunner().invoke(bgrender_group(), list(args), env=runner_env(env))

    refused = edit("release", "99aa00b", namespace=None)
    assert (refused.exit_code, refused.stdout) == (1, "")
    assert "set metadata.namespace or $ARGOCD_APP_NAMESPACE" in refused.stderr
    assert edit("lock", namespace="prod").exit_code == 0
    released = edit("release", "99aa00b", namespace="prod")
    assert released.exit_code == 0, released.stderr
    green = yaml.safe_load((app / "bluegreen.lock.yaml").read_text())["colors"]["green"]
    assert green["template"]["spec"]["containers"][0]["env"] == [{"name": "NAMESPACE", "value": "prod"}]
