"""edit.set_scalar: the value changes, every other byte stays; unsafe shapes are refused."""

from __future__ import annotations

import difflib

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bgrender.errors import InvalidInput, RefusedEdit
from bgrender.yamlfile.document import load_document
from bgrender.yamlfile.edit import format_scalar, set_scalar

GREEN = ("spec", "green", "version")
AFTER_BLUE = ("blue", "active")


def edit(text: str, path=GREEN, value="v2", after=AFTER_BLUE) -> str:
    return set_scalar(load_document(text, "bg.yaml"), path, value, after)


def changed_lines(old: str, new: str) -> list[str]:
    return [line for line in difflib.ndiff(old.splitlines(True), new.splitlines(True)) if line[:1] in "+-"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # plain, single and double quotes keep their style; comments stay
        ("spec:\n  green:\n    version: v1  # c\n", "spec:\n  green:\n    version: v2  # c\n"),
        ("spec:\n  green:\n    version: 'v1'\n", "spec:\n  green:\n    version: 'v2'\n"),
        ('spec:\n  green:\n    version: "v1"\n', 'spec:\n  green:\n    version: "v2"\n'),
        # flow mappings: replaced inside the braces, `{}` filled
        ("spec:\n  green: {version: v1}\n", "spec:\n  green: {version: v2}\n"),
        ("spec:\n  green: {}  # none\n", "spec:\n  green: {version: v2}  # none\n"),
        ("spec: {green: {version: v1}}\n", "spec: {green: {version: v2}}\n"),
        # null values become the mapping, keeping the comment
        ("spec:\n  green:\n", "spec:\n  green:\n    version: v2\n"),
        ("spec:\n  green: null # x\n", "spec:\n  green: # x\n    version: v2\n"),
        ("spec:\n  green:\n    version: ~\n", "spec:\n  green:\n    version: v2\n"),
        ("spec:\n  green:\n    version:\n", "spec:\n  green:\n    version: v2\n"),
        ("spec: {green: ~}\n", "spec: {green: {version: v2}}\n"),
        # a missing key goes after the first `after` key that exists, indented like siblings
        ("spec:\n  active: blue\n  blue:\n    version: v1\n  x: 1\n",
         "spec:\n  active: blue\n  blue:\n    version: v1\n  green:\n    version: v2\n  x: 1\n"),
        ("spec:\n  active: blue\n  x: 1\n", "spec:\n  active: blue\n  green:\n    version: v2\n  x: 1\n"),
        ("spec:\n  x: 1\n  y: 2\n", "spec:\n  x: 1\n  y: 2\n  green:\n    version: v2\n"),
        ("a: 1\n", "a: 1\nspec:\n  green:\n    version: v2\n"),
        # the nested indent follows a sibling block, else the file
        ("spec:\n    active: blue\n    blue:\n          version: v1\n",
         "spec:\n    active: blue\n    blue:\n          version: v1\n    green:\n          version: v2\n"),
        ("m:\n   x: 1\nspec:\n  active: blue\n", "m:\n   x: 1\nspec:\n  active: blue\n  green:\n     version: v2\n"),
        # comments indented under the entry stay with it; a comment at the sibling indent does not
        ("spec:\n  blue:\n    version: v1\n    # old\n  # next\n  x: 1\n",
         "spec:\n  blue:\n    version: v1\n    # old\n  green:\n    version: v2\n  # next\n  x: 1\n"),
        # a block scalar before the insertion point
        ("spec:\n  blue: {version: v1}\n  note: |\n    hi\n\n  x: 1\n",
         "spec:\n  blue: {version: v1}\n  green:\n    version: v2\n  note: |\n    hi\n\n  x: 1\n"),
        # line endings: CRLF kept, no final line break kept
        ("spec:\r\n  blue:\r\n    version: v1\r\n", "spec:\r\n  blue:\r\n    version: v1\r\n  green:\r\n    version: v2\r\n"),
        ("spec:\n  blue:\n    version: v1", "spec:\n  blue:\n    version: v1\n  green:\n    version: v2"),
        # characters outside ASCII before the edit: positions count characters, not bytes
        ("# 日本語 😀\nspec:\n  green:\n    version: v1  # é\n", "# 日本語 😀\nspec:\n  green:\n    version: v2  # é\n"),
    ],
)
def test_edit_keeps_everything_else(before, after):
    assert edit(before) == after
    assert load_document(after, "bg.yaml").node(GREEN).value == "v2"


def test_setting_the_same_value_changes_nothing():
    text = "spec:\n  green:\n    version: v1   # same\n"
    assert edit(text, value="v1") == text


@pytest.mark.parametrize(
    ("value", "written"),
    [("20240101", '"20240101"'), ("1.0", '"1.0"'), ("true", '"true"'), ("null", '"null"'),
     ("2024-06-01", '"2024-06-01"'), ("0x1f", '"0x1f"'), ("1e3", '"1e3"'), ("4e12345", '"4e12345"'), ("0o17", '"0o17"'), (".inf", '".inf"'), ("a #b", '"a #b"'),
     ("sha256:" + "a" * 64, "sha256:" + "a" * 64), ("v1.2.3-rc.1_x", "v1.2.3-rc.1_x"),
     ("it's", "it's"), ("'q", '"\'q"'), ("", '""')],
)
def test_values_yaml_would_not_read_as_strings_are_quoted(value, written):
    assert format_scalar(value, None, flow=False) == written
    assert yaml.safe_load(f"k: {written}") == {"k": value}


def test_single_quotes_are_kept_and_escaped():
    assert format_scalar("it's", "'", flow=False) == "'it''s'"


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("x: &a {version: v1}\nspec:\n  green: *a\n", "bg.yaml:3:3: spec.green:", "anchor at line 1, column 4"),
        ("spec:\n  green:\n    version: &v v1\n", "bg.yaml:3:5: spec.green.version:", "anchor"),
        ("spec: &s\n  active: blue\n", "bg.yaml:1:1: spec:", "anchor"),
        ("spec:\n  green:\n    version: !!str 1\n", "bg.yaml:3:14: spec.green.version:", "explicit YAML tag"),
        ("spec:\n  green: !!null\n", "bg.yaml:2:10: spec.green:", "explicit YAML tag"),
        ("spec:\n  green:\n    version: |\n      v1\n", "bg.yaml:3:14: spec.green.version:", "block scalars"),
        ("spec:\n  green:\n    version: [v1]\n", "bg.yaml:3:14: spec.green.version:", "mapping or list"),
        ("spec:\n  green: v1\n", "bg.yaml:2:10: spec.green:", "expected a mapping"),
        ("spec: {active: blue}\n", "bg.yaml:1:7: spec:", "flow mapping"),
        ("spec:\n  green: {x: 1}\n", "bg.yaml:2:10: spec.green:", "flow mapping"),
        ("spec: {green: }\n", "bg.yaml:1:8: spec.green:", "empty value in a flow mapping"),
        ("spec:\n  green:\n    ~\n", "bg.yaml:3:5: spec.green:", "own line"),
    ],
)
def test_unsafe_shapes_are_refused_with_their_position(text, where, says):
    with pytest.raises(RefusedEdit) as refused:
        edit(text)
    message = str(refused.value)
    assert message.startswith(where) and says in message, message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("spec:\n  green:\n    version: v1\n  green:\n    version: v2\n", "bg.yaml:4:3: spec.green: duplicate key \"green\""),
        ("spec: [\n", "bg.yaml:2:1: invalid YAML:"),
        ("- a\n", "bg.yaml:1:1: the file must hold one YAML mapping"),
        ("", "bg.yaml:1:1: the file holds no YAML document"),
        ("a: 1\n---\nb: 2\n", "bg.yaml:2:1: invalid YAML: holds more than one YAML document"),
        ("a: 1\nb: \x00\n", "bg.yaml:2:4: invalid YAML:"),
        ("a: " + "[" * 3000 + "]" * 3000 + "\n", "bg.yaml:1:"),
        ("d: &d {version: v1}\nspec:\n  <<: {a: 1}\n", "bg.yaml:3:3: spec: merge keys (<<) are not supported"),
    ],
)
def test_unreadable_files_are_invalid_input(text, line):
    with pytest.raises(InvalidInput) as invalid:
        edit(text)
    assert invalid.value.lines()[0].startswith(line), invalid.value.lines()


VERSIONS = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}\Z") | st.from_regex(r"\Asha256:[0-9a-f]{64}\Z")
STYLES = st.sampled_from(["v0", "'v0'", '"v0"', "{version: v0}", "{}", "", "~"])


@settings(max_examples=300, derandomize=True, deadline=None)
@given(version=VERSIONS, style=STYLES, crlf=st.booleans(), comment=st.booleans())
def test_any_version_reads_back_and_only_its_line_changes(version, style, crlf, comment):
    line = f"  green: {style}" if style.startswith("{") or style in ("", "~") else f"  green:\n    version: {style}"
    text = "apiVersion: x  # keep\nspec:\n  active: blue\n" + line + ("  # note" if comment else "") + "\n  z: 1\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    new = edit(text, value=version)
    assert yaml.safe_load(new)["spec"]["green"] == {"version": version}
    assert yaml.safe_load(new)["spec"]["z"] == 1
    removed = [c for c in changed_lines(text, new) if c.startswith("-")]
    assert len(removed) <= 1 and all("green" in r or "version" in r for r in removed)
    assert ("\r\n" in new) == crlf and new.count("\n") - text.count("\n") <= 1
    assert new.endswith("  z: 1" + ("\r\n" if crlf else "\n"))
