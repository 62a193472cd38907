"""Each limit refuses with a clear message; none lets a file cost unbounded time or memory."""

from __future__ import annotations

import pytest

from bgrender.app.files import MAX_FILE_BYTES
from bgrender.errors import MAX_PROBLEMS_SHOWN
from bgrender.yamlfile.document import MAX_DEPTH, MAX_EXPANDED_CHARS, MAX_NODES
from bgrender.yamlfile.dump import MAX_OUTPUT_BYTES

from .conftest import assert_refused, render

BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("target", ["bluegreen.yaml", "deployment.yaml"])
def test_file_larger_than_the_limit(app, target):
    with open(app / target, "a") as f:
        f.write("# " + "x" * MAX_FILE_BYTES + "\n")
    assert_refused(render(app), target, f"larger than {MAX_FILE_BYTES // 1024} KiB")


def test_forty_mebibyte_file_is_refused_without_reading_it(app):
    with open(app / "bluegreen.yaml", "wb") as f:
        f.truncate(40 * 1024 * 1024)
    assert_refused(render(app, timeout=10), "bluegreen.yaml", "larger than")


@pytest.mark.parametrize("target", ["bluegreen.yaml", "deployment.yaml"])
def test_alias_bomb(app, target):
    (app / target).write_text(BOMB)
    assert_refused(render(app, timeout=10), target, f"more than {MAX_NODES} values once aliases are expanded")


def test_aliases_cannot_multiply_one_long_string(app):
    text = (app / "deployment.yaml").read_text()
    long_value = "x" * 500_000
    text = text.replace("      containers:", f"      x-big: &big \"{long_value}\"\n      containers:", 1)
    text += "  x-copies: [" + ", ".join(["*big"] * 20) + "]\n"
    (app / "deployment.yaml").write_text(text)
    assert_refused(render(app), "deployment.yaml", f"{MAX_EXPANDED_CHARS // 1024 // 1024} MiB of text")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 20_000])
def test_deep_nesting(app, depth):
    (app / "bluegreen.yaml").write_text("spec: " + "[" * depth + "]" * depth + "\n")
    result = render(app, timeout=10)
    assert_refused(result, "bluegreen.yaml:1:")
    assert "nesting" in result.stderr


def test_ten_thousand_unknown_keys_give_a_short_message(app):
    with open(app / "bluegreen.yaml", "a") as f:
        f.writelines(f"  unknown{i}: {i}\n" for i in range(10_000))
    result = render(app)
    assert_refused(result, 'unknown key "unknown0"', "... and 9980 more problems")
    assert len(result.stderr.splitlines()) == MAX_PROBLEMS_SHOWN + 1


def test_long_strings_are_cut_in_messages(app):
    text = (app / "bluegreen.yaml").read_text().replace("active: blue", "active: " + "b" * 100_000)
    (app / "bluegreen.yaml").write_text(text)
    result = render(app)
    assert_refused(result, 'spec.active: must be one of "blue", "green", got "bbbb')
    assert len(result.stderr) < 300


def test_long_keys_are_cut_in_field_paths(app):
    with open(app / "bluegreen.yaml", "a") as f:
        f.write("  " + "k" * 1000 + ": 1\n")  # YAML allows simple keys up to 1024 characters
    result = render(app)
    assert_refused(result, "spec." + "k" * 64 + "...: unknown key")
    assert len(result.stderr) < 400


def test_long_field_values_are_refused_by_their_length(app):
    text = (app / "bluegreen.yaml").read_text().replace("version: v1.1.0", "version: v" + "1" * 200)
    (app / "bluegreen.yaml").write_text(text)
    assert_refused(render(app), "spec.green.version: must be an image tag")


def test_output_larger_than_the_limit_is_refused(app):
    """Within every input limit, aliases can still copy one long value into each color."""
    text = (app / "deployment.yaml").read_text()
    long_value = "x" * 1_000_000
    text = text.replace("metadata:\n  name: web\n", f"metadata:\n  name: web\n  annotations:\n"
                        f"    a: &big \"{long_value}\"\n    b: *big\n    c: *big\n", 1)
    (app / "deployment.yaml").write_text(text)
    result = render(app)
    assert_refused(result, f"more than the {MAX_OUTPUT_BYTES // 2**20} MiB limit")
    assert len(result.stderr) < 300
