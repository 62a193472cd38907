"""The README's status section shows real output: every block of its session is in a fresh run of demo_status."""

from __future__ import annotations

import re

from .conftest import REPO_ROOT
from .demo_status import transcript

DOC = REPO_ROOT / "README.md"


def test_the_session_in_the_docs_is_what_the_commands_print() -> None:
    session = DOC.read_text().split("### A session", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```\n(.*?)^```$", session, re.S | re.M)
    assert len(blocks) == 5
    run = transcript()
    for block in blocks:
        assert block in run, f"the README shows output no run printed; rerun demo_status:\n{block}"
