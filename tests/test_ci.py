"""CI runs the README's test command, word for word, so a green CI proves the README."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)
    tests = [b for b in blocks if "pip install -q -e '.[test]'" in b]
    assert len(tests) == 1, "the README shows one test command"
    run = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert run[-1] == tests[0]
    assert "set -euo pipefail" in run


def test_ci_installs_prometheus_for_the_metric_gate_tests_before_running_them() -> None:
    """tests/analysis skip without `prometheus`; on CI they must run, so .ci/run installs it
    (Debian's package) when it is missing, before the README's command."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    install = next(i for i, line in enumerate(lines) if "apt-get install" in line and "prometheus" in line)
    check = next(i for i, line in enumerate(lines) if "command -v prometheus" in line)
    assert check < install < len(lines) - 1
    assert "prometheus" in (ROOT / "README.md").read_text().split("```sh\npython3 -m venv .venv && .venv/bin/pip "
                                                                   "install -q -e '.[test]'", 1)[1][:1500]
