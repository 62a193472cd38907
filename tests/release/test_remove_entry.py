"""edit.remove_entry and integer values of edit.set_scalar (spec.traffic, DESIGN §18): the
entry goes, every other byte stays; shapes that cannot lose an entry cleanly are refused."""

from __future__ import annotations

import pytest

from bgrender.errors import RefusedEdit
from bgrender.yamlfile.document import load_document
from bgrender.yamlfile.edit import remove_entry, set_scalar

TRAFFIC = ("spec", "traffic")


def remove(text: str, path=TRAFFIC) -> str:
    return remove_entry(load_document(text, "bg.yaml"), path)


@pytest.mark.parametrize(("before", "after"), [
    ("spec:\n  active: blue\n  traffic:\n    percent: 10\n  deployment: d.yaml\n",
     "spec:\n  active: blue\n  deployment: d.yaml\n"),
    # its comments go with it, the next key's stay
    ("spec:\n  active: blue\n  traffic:  # step 1\n    # ten percent\n    percent: 10  # ok\n    # mine\n"
     "  # the base\n  deployment: d.yaml\n",
     "spec:\n  active: blue\n  # the base\n  deployment: d.yaml\n"),
    ("spec:\n  active: blue\n  traffic: {percent: 10}\n  deployment: d.yaml\n",
     "spec:\n  active: blue\n  deployment: d.yaml\n"),
    # the last entry, with and without a final line break; CRLF kept
    ("spec:\n  active: blue\n  traffic:\n    percent: 10\n", "spec:\n  active: blue\n"),
    ("spec:\n  active: blue\n  traffic:\n    percent: 10", "spec:\n  active: blue\n"),
    ("spec:\r\n  active: blue\r\n  traffic:\r\n    percent: 10\r\n  x: 1\r\n", "spec:\r\n  active: blue\r\n  x: 1\r\n"),
    # nothing to remove
    ("spec:\n  active: blue\n", "spec:\n  active: blue\n"),
], ids=["block", "comments", "flow-value", "last", "last-no-newline", "crlf", "absent"])
def test_the_entry_goes_and_every_other_byte_stays(before, after):
    assert remove(before) == after


@pytest.mark.parametrize("text", [
    "spec: {active: blue, traffic: {percent: 10}}\n",  # in a flow mapping
    "spec:\n  traffic:\n    percent: 10\n",  # the mapping's only entry
    "spec:\n  active: blue\n  traffic: &t\n    percent: 10\n  other: *t\n",  # shared through an anchor
])
def test_shapes_that_cannot_lose_an_entry_cleanly_are_refused(text):
    with pytest.raises(RefusedEdit, match="bg.yaml:"):
        remove(text)


@pytest.mark.parametrize(("before", "after"), [
    ("spec:\n  green: {}\n  x: 1\n", "spec:\n  green: {}\n  traffic:\n    percent: 25\n  x: 1\n"),
    ("spec:\n  traffic:\n    percent: 10  # c\n", "spec:\n  traffic:\n    percent: 25  # c\n"),
    ("spec:\n  traffic: {percent: 10}\n", "spec:\n  traffic: {percent: 25}\n"),
    ("spec:\n  traffic:\n    percent: 25\n", "spec:\n  traffic:\n    percent: 25\n"),
])
def test_an_integer_is_written_plain(before, after):
    assert set_scalar(load_document(before, "bg.yaml"), TRAFFIC + ("percent",), 25, ("green",)) == after
