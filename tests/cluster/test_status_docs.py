"""docs/status.md shows real output: every block of its session, and every other block of the
page with a `$ bgrender` line, is in a fresh run of demo_status."""

from __future__ import annotations

import re

from ..conftest import doc
from .demo_status import transcript


def test_the_session_in_the_docs_is_what_the_commands_print() -> None:
    page = doc("status.md")
    session = page.split("\n## A session\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```\n(.*?)^```$", session, re.S | re.M)
    assert len(blocks) == 5
    shown = [b for b in re.findall(r"^```\w*\n(.*?)^```$", page, re.S | re.M) if re.search(r"^\$ bgrender ", b, re.M)]
    assert set(blocks) <= set(shown) and len(shown) == len(blocks) + 1  # "Reading the output" shows one too
    run = transcript()
    for block in shown:
        assert block in run, f"docs/status.md shows output no run printed; rerun demo_status:\n{block}"
