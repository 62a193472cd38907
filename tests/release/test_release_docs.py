"""The docs show real output: every `$ bgrender ...` line in the console blocks of the docs
(README.md and docs/, in the order of mkdocs.yml's nav) is run, in order, on a copy of the
examples, and must print exactly what the page shows (its stdout; or, when stdout is empty, its
stderr: a note or a refusal); `$ sed ...` lines are run too, as the edits the page makes. The CI snippets on the pages are the files in examples/ci."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from ..conftest import REPO, docs_text
from .conftest import run

FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(docs_text()) if lang == language]


def steps() -> list[tuple[list[str], str]]:
    """(command line, what the page shows after it) for each `$ bgrender` and `$ sed` line."""
    found = []
    for block in blocks("console"):
        for command in re.split(r"^(?=\$ )", block, flags=re.M):
            first, _, output = command.partition("\n")
            if first.startswith(("$ bgrender ", "$ sed ")):
                found.append((shlex.split(first)[1:], output))
    return found


def test_the_cycle_on_the_page_is_what_the_commands_print(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for example in ("gorilla-sfx-demo", "checkout-auto", "orders"):
        shutil.copytree(REPO / "examples" / example, tmp_path / "examples" / example)
    page = steps()
    assert [" ".join(args[:2]) for args, _ in page] == [
        "sed -i", "bgrender validate", "bgrender release",
        "bgrender release", "bgrender release", "bgrender diff", "bgrender release", "bgrender promote",
        "bgrender promote", "bgrender rollback",
        "bgrender rollback", "sed -i", "bgrender release", "bgrender lock", "bgrender release"]
    for args, shown in page:
        if args[0] == "sed":
            subprocess.run(args, cwd=tmp_path, check=True)
            continue
        result = run(args[1:], tmp_path, monkeypatch)
        refusal = re.match(r"\S+\.yaml:\d+:\d+: ", shown) is not None  # `FILE:LINE:COL: ...` is a refusal
        assert result.exit_code == (1 if refusal else 0), result.stderr
        assert shown == (result.stdout or result.stderr), " ".join(args)


@pytest.mark.parametrize("snippet", ["github-actions.yaml", "circleci.yaml"])
def test_the_ci_snippets_on_the_page_are_the_example_files(snippet):
    assert (REPO / "examples" / "ci" / snippet).read_text() in blocks("yaml")
