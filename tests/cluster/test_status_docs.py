"""docs/status.md shows real output: every block of its session is in a fresh run of demo_status."""

from __future__ import annotations

import re

from ..conftest import doc
from .demo_status import transcript


def test_the_session_in_the_docs_is_what_the_commands_print() -> None:
    session = doc("status.md").split("\n## A session\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```\n(.*?)^```$", session, re.S | re.M)
    assert len(blocks) == 5
    run = transcript()
    for block in blocks:
        assert block in run, f"docs/status.md shows output no run printed; rerun demo_status:\n{block}"
