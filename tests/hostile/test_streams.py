"""Where the output goes is input too: a stdout that is closed (`>&-`), full (`>/dev/full`) or
gone (`| head`: tests/test_cli.py), and a locale that cannot encode the manifests (`PYTHONIOENCODING=ascii`).
Each command either writes all of its output or fails with exit 1 and one line on stderr;
never a traceback, never the interpreter's exit code 120."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import BGRENDER, clean_env

COMMANDS = [["render"], ["render", "-o", "json"], ["schema"], ["release", "1a2b3c4d", "--dry-run"]]


def _run(app: Path, args: list[str], redirect: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    shell = ["sh", "-c", f'exec "$@" {redirect}', "sh", BGRENDER, *args]
    return subprocess.run(shell, cwd=app, env=clean_env(env), capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(("redirect", "reason"), [(">&-", "stdout is closed"), (">/dev/full", "No space left")])
def test_a_stdout_that_cannot_take_the_output_is_one_line_and_exit_1(app, args, redirect, reason):
    done = _run(app, args, redirect)
    assert done.returncode == 1
    assert done.stderr.startswith("cannot write to stdout: ") and reason in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_manifests_are_utf8_whatever_the_locale(app):
    base = yaml.safe_load((app / "deployment.yaml").read_text())
    base["metadata"]["annotations"] = {"team": "équipe café"}
    (app / "deployment.yaml").write_text(yaml.safe_dump(base, allow_unicode=True))
    done = subprocess.run([BGRENDER, "render"], cwd=app, env=clean_env({"PYTHONIOENCODING": "ascii"}),
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "team: équipe café".encode() in done.stdout
