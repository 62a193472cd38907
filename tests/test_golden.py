"""Golden directories: tests/golden/render/<case> must render to expected.yaml;
tests/golden/errors/<case> must fail with exit 1, empty stdout and exactly expected.err.

Each case is run as Argo CD runs the plugin: from the app directory, `bgrender render`
with the case's env.yaml as the environment.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bgrender.cli.main import cli

from .conftest import EXAMPLES, GOLDEN, case_env, cases, check_golden, example_name, runner_env


def _render(case, monkeypatch, *args):
    monkeypatch.chdir(case)
    return CliRunner().invoke(cli, ["render", *args], env=runner_env(case_env(case)))


@pytest.mark.parametrize("case", cases("render"), ids=lambda p: p.name)
def test_render_case(case, monkeypatch):
    result = _render(case, monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("---\napiVersion: ")
    check_golden(case / "expected.yaml", result.stdout)


@pytest.mark.parametrize("case", cases("errors"), ids=lambda p: p.name)
def test_error_case(case, monkeypatch):
    result = _render(case, monkeypatch)
    assert (result.exit_code, result.stdout) == (1, ""), result.stderr
    assert "Traceback" not in result.stderr
    check_golden(case / "expected.err", result.stderr)


@pytest.mark.parametrize("example", EXAMPLES, ids=example_name)
def test_example_renders_as_recorded(example, monkeypatch):
    result = _render(example, monkeypatch)
    assert result.exit_code == 0, result.stderr
    check_golden(GOLDEN / "examples" / f"{example_name(example)}.yaml", result.stdout)


def test_every_error_line_names_file_line_column_and_field():
    """DESIGN §3: `FILE:LINE:COL: FIELD.PATH: message`, or the variable for environment problems."""
    for case in cases("errors"):
        for line in (case / "expected.err").read_text().splitlines():
            head = line.split(": ", 1)[0]
            in_file = head.count(":") == 2 and all(p.isdigit() for p in head.split(":")[1:])
            whole_file = head.endswith(".yaml")  # e.g. "deployment.yaml: file not found"
            env_var = head.isupper() and "_" in head
            more = line.startswith("... and ") and line.endswith(" more problems")
            assert in_file or whole_file or env_var or more, f"{case.name}: {line}"
