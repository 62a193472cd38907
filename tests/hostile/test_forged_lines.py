"""A key, path or value holding a newline, an ANSI escape, a bidi control or a confusable
letter cannot forge a line in Argo CD's UI or reach the terminal: every problem is one line of
printable ASCII, with input shown escaped (`errors.quote`, `errors.escape`)."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgrender.errors import InvalidInput, Problem

from .conftest import add_to_app_container, assert_refused, render

HOSTILE = ["a\nb", "x\r\ny", "\x1b[31mred", "\u202egnp.exe", "blu\u0435", "tab\there", "nul\x00", "bell\x07",
           "\u2028ls", "\\n", "\ud800"]


def _printable_lines(text: str) -> list[str]:
    lines = text.split("\n")
    assert lines[-1] == "", repr(text)
    for line in lines[:-1]:
        assert line.isascii() and line.isprintable(), repr(line)
    return lines[:-1]


@settings(max_examples=1000, derandomize=True)
@given(file=st.text(), line=st.integers(0, 10**6), column=st.integers(0, 10**3), path=st.text(), message=st.text())
def test_a_problem_is_one_line_of_printable_ascii(file, line, column, path, message):
    assert len(_printable_lines(str(Problem(file, line, column, path, message)) + "\n")) == 1


@settings(max_examples=300, derandomize=True)
@given(problems=st.lists(st.builds(Problem, st.text(), st.integers(0, 99), st.integers(0, 99), st.text(), st.text()),
                         min_size=1, max_size=30))
def test_every_line_of_a_refusal_is_printable_ascii(problems):
    error = InvalidInput(problems)
    assert len(_printable_lines(str(error) + "\n")) == len(error.lines()) == min(len(set(problems)), 21)


def _yaml_string(text: str) -> str:
    """`text` as a double-quoted YAML scalar, every character outside printable ASCII escaped."""
    return '"' + "".join(c if " " <= c <= "~" and c not in '"\\' else f"\\u{ord(c):04x}" if ord(c) < 0x10000
                         else f"\\U{ord(c):08x}" for c in text) + '"'


@pytest.mark.parametrize("hostile", [h for h in HOSTILE if h != "\ud800"], ids=repr)
@pytest.mark.parametrize("where", ["unknown key in bluegreen.yaml", "duplicate key in the base", "deployment path",
                                   "label key the base uses", "container name", "template syntax"])
def test_hostile_text_in_input_stays_on_its_line(app, where, hostile):
    quoted = _yaml_string(hostile)
    intent, base = (app / "bluegreen.yaml").read_text(), (app / "deployment.yaml").read_text()
    if where == "unknown key in bluegreen.yaml":
        intent = intent.replace("  active: blue\n", f"  active: blue\n  {quoted}: 1\n")
    elif where == "duplicate key in the base":
        base = base.replace("    app: web\n", f"    app: web\n    {quoted}: x\n    {quoted}: y\n", 1)
    elif where == "deployment path":
        intent = intent.replace("deployment: deployment.yaml", f"deployment: {quoted}")
    elif where == "label key the base uses":
        intent += f"  labels:\n    version: {quoted}\n"
    elif where == "container name":
        intent += f"  container: {quoted}\n"
    (app / "bluegreen.yaml").write_text(intent)
    (app / "deployment.yaml").write_text(base)
    if where == "template syntax":
        add_to_app_container(app, "          env:\n            - name: T\n"
                                  f"              value: {_yaml_string('{{ ' + hostile + ' }}')}\n")
    for command in ("render", "validate"):
        result = render(app, command=command)
        assert_refused(result)
        problems = [line for line in _printable_lines(result.stderr) if not line.endswith(" valid")]  # the count
        assert len(problems) == 1, result.stderr


@pytest.mark.parametrize(("hostile", "shown"), [("a\nb", "a\\nb"), ("\x1b[2J", "\\x1b[2J"),
                                               ("blu\u0435", "blu\\u0435")], ids=repr)
def test_a_file_name_is_escaped(app, tmp_path, hostile, shown):
    """validate names the file it was given; a directory name cannot forge a line either."""
    odd = tmp_path / hostile
    shutil.copytree(app, odd)
    (odd / "bluegreen.yaml").write_text((odd / "bluegreen.yaml").read_text().replace("active: blue", "active: x"))
    result = render(tmp_path, command="validate", args=[hostile])
    line, count = _printable_lines(result.stderr)
    assert count == "0 of 1 app valid"
    assert line.startswith(f"{shown}/bluegreen.yaml:7:11: spec.active: must be one of"), line
