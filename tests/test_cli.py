"""The command line as users and Argo CD run it: the installed `bgrender` script in a fresh process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bgrender.cli import main as cli_module

from .conftest import BGRENDER, EXAMPLES, GOLDEN, case_env, cases, clean_env, runner_env

GORILLA = next(p for p in EXAMPLES if p.name == "gorilla-sfx-demo")


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([BGRENDER, *args], cwd=cwd, env=clean_env(env), capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("case", cases("render") + cases("errors"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_path_and_click_path_agree(case):
    """`bgrender render` (what Argo CD runs, without click) behaves exactly like the click command."""
    env = {"ARGOCD_ENV_BGRENDER_LOG_LEVEL": "warning", **case_env(case)}  # log lines carry timestamps
    fast = run("render", cwd=case, env=env)
    full = run("render", "--output", "yaml", ".", cwd=case, env=env)
    assert (fast.returncode, fast.stdout, fast.stderr) == (full.returncode, full.stdout, full.stderr)


def test_json_output_is_a_kubernetes_list_of_the_yaml_objects():
    """As `kubectl get -o json` prints several objects: one `List`, which Argo CD reads (its
    decoder sees a JSON object, and the repo-server flattens a List's items)."""
    as_yaml = run("render", str(GORILLA))
    as_json = run("render", "--output", "json", str(GORILLA))
    click_path = run("--debug", "render", "--output", "json", str(GORILLA))  # --debug: not the fast path
    assert as_json.returncode == 0, as_json.stderr
    assert as_json.stdout == click_path.stdout == run("render", "-ojson", str(GORILLA)).stdout  # deterministic
    assert as_json.stdout.startswith("{") and as_json.stdout.count("\n") == 1
    listed = json.loads(as_json.stdout)
    assert listed == {"apiVersion": "v1", "kind": "List", "items": list(yaml.safe_load_all(as_yaml.stdout))}
    assert len(listed["items"]) == 6  # Service, two color Services, VirtualService, two Deployments


def test_intent_file_path_and_directory_path_render_the_same():
    assert run("render", str(GORILLA / "bluegreen.yaml")).stdout == run("render", str(GORILLA)).stdout


def test_missing_app_is_exit_1_with_empty_stdout(tmp_path):
    result = run("render", str(tmp_path / "nowhere"))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"{tmp_path / 'nowhere'}: file not found\n"


def test_usage_error_is_exit_2_with_empty_stdout():
    result = run("render", "--output", "xml", str(GORILLA))
    assert (result.returncode, result.stdout) == (2, "")
    assert "Invalid value for '--output'" in result.stderr


def test_validate_reports_every_file_and_every_problem():
    bad = [GOLDEN / "errors" / "bad-enum", GOLDEN / "errors" / "wrong-types"]
    result = run("validate", str(GORILLA), *map(str, bad))
    assert (result.returncode, result.stdout) == (1, "")
    expected = [f"{GORILLA / 'bluegreen.yaml'}: valid"]
    for case in bad:
        expected += [f"{case}/{line}" for line in (case / "expected.err").read_text().splitlines()]
    assert sorted(result.stderr.splitlines()) == sorted(expected + ["1 of 3 apps valid"])
    assert result.stderr.splitlines()[-1] == "1 of 3 apps valid"


def test_validate_accepts_the_examples():
    result = run("validate", *map(str, EXAMPLES))
    assert (result.returncode, result.stdout) == (0, "")


def test_schema_prints_json():
    result = run("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout)["properties"]["kind"]["enum"] == ["BlueGreen"]


def test_plain_render_imports_neither_click_nor_jinja2_nor_kubernetes():
    probe = ("import sys\nfrom bgrender.__main__ import main\n"
             "try:\n    main(['render', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
             "print(sorted({'click', 'jinja2', 'kubernetes', 'structlog'} & set(sys.modules)), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", probe, str(GORILLA)], capture_output=True, text=True,
                            env=clean_env(), timeout=60)
    assert result.stderr.strip() == "[]"
    assert result.stdout.startswith("---\n")


def test_silent_on_success_locally_one_json_log_line_under_argocd():
    local = run("render", str(GORILLA))
    assert (local.returncode, local.stderr) == (0, "")
    argocd = run("render", str(GORILLA), env={"ARGOCD_APP_NAME": "gorilla", "ARGOCD_APP_REVISION": "abc123"})
    assert argocd.stdout == local.stdout
    (line,) = argocd.stderr.splitlines()
    log = json.loads(line)
    assert {k: log[k] for k in ("event", "app", "revision", "objects", "level")} == {
        "event": "rendered", "app": "gorilla", "revision": "abc123", "objects": 6, "level": "info"}
    quiet = run("render", str(GORILLA), env={"ARGOCD_APP_NAME": "gorilla", "ARGOCD_ENV_BGRENDER_LOG_LEVEL": "error"})
    assert quiet.stderr == ""


def test_an_internal_error_is_one_line_without_traceback_and_debug_shows_it(monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_module, "run_render", broken)
    result = CliRunner().invoke(cli_module.cli, ["render", str(GORILLA)], env=runner_env({}))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "bgrender: internal error: RuntimeError: boom (rerun with --debug)\n"
    debug = CliRunner().invoke(cli_module.cli, ["--debug", "render", str(GORILLA)], env=runner_env({}))
    assert isinstance(debug.exception, RuntimeError)


def test_render_writes_nothing(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(GORILLA, app)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    assert run("render", str(app)).returncode == 0
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before
    assert not os.path.exists(app / "__pycache__")


def test_a_reader_that_leaves_early_gets_no_traceback():
    """`bgrender render | head -0`: the pipe is closed before the render writes."""
    proc = subprocess.Popen([BGRENDER, "render", str(GORILLA)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env())
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 1
    assert stderr == ""
