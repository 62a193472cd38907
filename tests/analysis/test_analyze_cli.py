"""`bgrender analyze` refuses what it cannot measure before it measures anything: usage errors
exit 2, an invalid app or Job definition exits 1 with a positioned message and empty stdout."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bgrender.cli.main import cli

from ..conftest import GOLDEN, runner_env

GATED = GOLDEN / "render" / "analysis-manual-before-after-idle"
RUN = {"color": "green", "address": "http://127.0.0.1:9", "interval": 1, "count": 1, "failureLimit": 0,
       "inconclusiveLimit": 0, "timeoutSeconds": 1,
       "queries": [{"name": "errors", "query": "up", "successCondition": "result < 1"}]}


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, ["analyze", *args], env=runner_env({"BGRENDER_ANALYSIS": None, **(env or {})}))


@pytest.mark.parametrize("args", [
    ["--rendered", str(GATED)],
    ["--rendered", "--color", "blue"],
    [str(GATED)],
    [str(GATED), "--color", "purple"],
    [str(GATED), "--color", "blue", "--address", "prometheus:9090"],
    [str(GATED), "--color", "blue", "--address", "http://u:p@prometheus:9090"],
])
def test_usage_errors_exit_2(args):
    result = invoke(*args)
    assert (result.exit_code, result.stdout) == (2, ""), result.stderr


def _with(**changes) -> str:
    return json.dumps({**RUN, **changes})


QUERY = RUN["queries"][0]


@pytest.mark.parametrize(("text", "message", "at"), [
    (_with(count=0), "count: must be at least 1, got 0", "0"),
    (_with(queries=[{**QUERY, "successCondition": "os.exit()"}]),
     'queries[0].successCondition: must be "result <op> <number>", with <op> one of', '"os.exit()"'),
    (_with(queries=[{**QUERY, "query": 'up{a="{{ name }}"}'}]),
     'queries[0].query: holds "{{": the render replaces every variable', '"up{a='),
    ('{"color": "green",\n "color": "blue"}', "duplicate key", '"color": "blue"'),
])
def test_an_invalid_job_definition_is_refused_with_its_position(text, message, at):
    result = invoke("--rendered", env={"BGRENDER_ANALYSIS": text})
    assert (result.exit_code, result.stdout) == (1, ""), result.stderr
    head, _, rest = result.stderr.partition(": ")
    name, line, column = head.split(":")
    assert name == "$BGRENDER_ANALYSIS" and message in rest, result.stderr
    assert text.splitlines()[int(line) - 1][int(column) - 1:].startswith(at), result.stderr


def test_an_unset_job_definition_is_refused():
    result = invoke("--rendered")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "BGRENDER_ANALYSIS: is not set: the hook Job's analysis goes there\n"


def test_a_color_without_a_version_has_nothing_to_measure(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "deployment.yaml").write_text((GATED / "deployment.yaml").read_text())
    (app / "bluegreen.yaml").write_text((GATED / "bluegreen.yaml").read_text().replace(
        "  green:\n    version: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", ""))
    result = invoke(str(app), "--color", "green")
    assert (result.exit_code, result.stdout) == (1, "")
    assert "bluegreen.yaml:7:3: spec.green: green has no version: nothing runs there to measure" in result.stderr


def test_an_app_without_analysis_has_nothing_to_measure():
    result = invoke(str(GOLDEN / "render" / "smoke-test-manual-mode"), "--color", "blue")
    assert (result.exit_code, result.stdout) == (1, "")
    assert "spec.promotion: has no analysis to measure" in result.stderr


def test_the_terminal_form_measures_what_the_job_would(monkeypatch):
    """The run built from the app for a color is the one the render puts into that color's Job."""
    import yaml

    from bgrender.cli.analyze import app_run

    monkeypatch.chdir(GATED)
    rendered = CliRunner().invoke(cli, ["render"], env=runner_env({}))
    job = next(o for o in yaml.safe_load_all(rendered.stdout) if o["metadata"]["name"] == "web-analysis-before")
    (env,) = job["spec"]["template"]["spec"]["containers"][0]["env"]
    assert json.loads(env["value"]) == app_run(".", "blue", {})
