"""The README shows real output: every `$ bgrender ...` line in its console blocks is run,
in order, on a copy of the examples, and must print exactly what the page shows; the CI
snippets on the page are the files in examples/ci."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from ..conftest import REPO
from .conftest import run

DOC = REPO / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(DOC.read_text()) if lang == language]


def bgrender_steps() -> list[tuple[list[str], str]]:
    """(arguments, expected stdout) for each `$ bgrender` line of the console blocks."""
    steps = []
    for block in blocks("console"):
        for command in re.split(r"^(?=\$ )", block, flags=re.M):
            first, _, output = command.partition("\n")
            if first.startswith("$ bgrender "):
                steps.append((shlex.split(first)[2:], output))
    return steps


def test_the_cycle_on_the_page_is_what_the_commands_print(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for example in ("gorilla-sfx-demo", "checkout-auto"):
        shutil.copytree(REPO / "examples" / example, tmp_path / "examples" / example)
    steps = bgrender_steps()
    assert [args[0] for args in (s[0] for s in steps)] == [
        "release", "release", "promote", "promote", "rollback", "rollback", "release"]
    for args, shown in steps:
        result = run(args, tmp_path, monkeypatch)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == shown, f"bgrender {' '.join(args)}"


@pytest.mark.parametrize("snippet", ["github-actions.yaml", "circleci.yaml"])
def test_the_ci_snippets_on_the_page_are_the_example_files(snippet):
    assert (REPO / "examples" / "ci" / snippet).read_text() in blocks("yaml")
