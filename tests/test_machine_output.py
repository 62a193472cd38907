"""`--output json` of `validate` and of the edits (`release`, `promote`, `rollback`, `lock`): a
summary on stdout for scripts, the same lines on stderr and the same exit codes as without it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import BGRENDER, EXAMPLES, GOLDEN, clean_env

TREE = GOLDEN / "validate" / "tree"
GORILLA = next(p for p in EXAMPLES if p.name == "gorilla-sfx-demo")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([BGRENDER, *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    shutil.copytree(GORILLA, tmp_path / "app")
    return tmp_path / "app"


def test_validate_json_gives_each_app_and_each_problem_with_its_position():
    text = run("validate", "apps", cwd=TREE)
    result = run("validate", "apps", "--output", "json", cwd=TREE)
    assert (result.returncode, result.stderr) == (text.returncode, text.stderr) == (1, text.stderr)
    summary = json.loads(result.stdout)
    assert (summary["valid"], summary["total"], summary["problems"]) == (4, 6, [])
    apps = {a["file"]: a for a in summary["apps"]}
    assert [a["file"] for a in summary["apps"]] == sorted(apps)
    assert apps["apps/shop/web/bluegreen.yaml"] == {"file": "apps/shop/web/bluegreen.yaml", "valid": True,
                                                    "notes": [], "problems": [], "warnings": []}
    worker = apps["apps/team/worker/bluegreen.yaml"]
    assert worker["valid"] is False
    assert worker["problems"][0] == {"file": "apps/team/worker/bluegreen.yaml", "line": 8, "column": 11,
                                     "field": "spec.active",
                                     "message": 'must be one of "blue", "green", got "grean"'}
    # Every problem on stderr is in the summary, at the same position.
    shown = {f"{p['file']}:{p['line']}:{p['column']}: {p['field']}: {p['message']}"
             for a in summary["apps"] for p in a["problems"]}
    assert shown == {line for line in result.stderr.splitlines() if not line.endswith(" valid")}
    assert run("validate", "apps", "-o", "json", cwd=TREE).stdout == result.stdout  # deterministic


def test_validate_json_of_a_path_without_apps_lists_the_problem_without_position(tmp_path: Path):
    result = run("validate", "-o", "json", ".", cwd=tmp_path)
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert (summary["apps"], summary["valid"], summary["total"]) == ([], 0, 0)
    (problem,) = summary["problems"]
    assert (problem["line"], problem["column"]) == (None, None)


def test_validate_json_of_a_valid_app_is_exit_0(app: Path):
    result = run("validate", "-o", "json", cwd=app)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"apps": [{"file": "bluegreen.yaml", "valid": True, "notes": [],
                                                   "problems": [], "warnings": []}],
                                         "problems": [], "valid": 1, "total": 1}


def test_validate_json_carries_the_warnings_stderr_shows(tmp_path: Path):
    """A warning (config bgrender does not version) is in the summary as on stderr, and the app valid."""
    warned = GOLDEN / "warnings" / "every-reference-form"
    app = Path(shutil.copytree(warned, tmp_path / "app"))
    result = run("validate", "-o", "json", cwd=app)
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(result.stdout)["apps"]
    assert entry["valid"] and entry["warnings"]
    for warning in entry["warnings"]:
        assert f"{warning['file']}:{warning['line']}:{warning['column']}: {warning['field']}: " in result.stderr


def test_release_json_says_the_commit_message_and_the_files_written(app: Path):
    result = run("release", "9b8c7d6e", "--output", "json", cwd=app)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "changed": True, "dryRun": False, "files": ["bluegreen.lock.yaml", "bluegreen.yaml"], "notes": [],
        "commitMessage": "release gorilla-sfx-demo 9b8c7d6e to green (production stays on blue)", "reason": None}
    assert "version: 9b8c7d6e" in (app / "bluegreen.yaml").read_text()

    again = run("release", "9b8c7d6e", "-o", "json", cwd=app)  # nothing to do: exit 0, changed false
    summary = json.loads(again.stdout)
    assert (again.returncode, summary["changed"], summary["commitMessage"], summary["files"]) == (0, False, None, [])
    assert summary["reason"] + "\n" == again.stderr


def test_edit_json_with_dry_run_holds_the_diff_and_writes_nothing(app: Path):
    before = (app / "bluegreen.yaml").read_bytes()
    plain = run("promote", "--dry-run", cwd=app)
    result = run("promote", "--dry-run", "-o", "json", cwd=app)
    summary = json.loads(result.stdout)
    assert (result.returncode, result.stderr) == (0, plain.stderr)
    assert (summary["dryRun"], summary["changed"], summary["diff"]) == (True, True, plain.stdout)
    assert summary["files"] == ["bluegreen.lock.yaml", "bluegreen.yaml"]  # the lock records the history
    assert (app / "bluegreen.yaml").read_bytes() == before


@pytest.mark.parametrize("command", ["rollback", "lock"])
def test_other_edits_print_json_too(app: Path, command: str):
    plain = run(command, "--dry-run", cwd=app)
    result = run(command, "--dry-run", "-o", "json", cwd=app)
    assert (result.returncode, result.stderr) == (plain.returncode, plain.stderr)
    if result.returncode == 0:
        assert json.loads(result.stdout)["dryRun"] is True


def test_a_refused_edit_prints_no_json(app: Path):
    result = run("release", "not a version", "-o", "json", cwd=app)
    assert (result.returncode, result.stdout) == (1, "")


def test_a_json_summary_stdout_cannot_take_puts_the_files_back(app: Path):
    before = {p.name: p.read_bytes() for p in app.iterdir()}
    with open("/dev/full", "w") as full:
        result = subprocess.run([BGRENDER, "release", "9b8c7d6e", "-o", "json"], cwd=app, env=clean_env(),
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert "the files are as they were" in result.stderr
    assert {p.name: p.read_bytes() for p in app.iterdir()} == before
