"""release.py: which scalars each command sets, what it refuses, and the line it prints."""

from __future__ import annotations

import pytest

from bgrender.errors import InvalidInput, RefusedEdit
from bgrender.release import (
    Edit,
    apply_change,
    decide_promote,
    decide_release,
    decide_rollback,
    read_state,
)


def state_of(active="blue", blue="b1", green="g1", mode=None, name="shop"):
    lines = ["metadata:", f"  name: {name}", "spec:", f"  active: {active}"]
    for color, version in (("blue", blue), ("green", green)):
        if version is not None:
            lines += [f"  {color}:", f"    version: {version}"]
    if mode:
        lines += ["  promotion:", f"    mode: {mode}"]
    return read_state("\n".join(lines) + "\n", "bg.yaml")


def test_manual_release_goes_to_the_idle_color_only():
    change = decide_release(state_of(), "v9")
    assert change.edits == (Edit(("spec", "green", "version"), "v9", ("blue", "active")),)
    assert change.summary == "release shop v9 to green (production stays on blue)"


def test_auto_release_also_makes_the_idle_color_active():
    change = decide_release(state_of(active="green", mode="auto"), "v9")
    assert change.edits == (Edit(("spec", "blue", "version"), "v9", ("active",)), Edit(("spec", "active"), "blue"))
    assert change.summary == "release shop v9 to blue and promote it (green g1 becomes idle)"


@pytest.mark.parametrize("mode", ["manual", "auto"])
def test_the_first_release_goes_to_the_active_color(mode):
    change = decide_release(state_of(active="green", blue=None, green=None, mode=mode), "v1")
    assert change.edits == (Edit(("spec", "green", "version"), "v1", ("blue", "active")),)
    assert change.summary == "release shop v1 to green (first release; green serves production)"


@pytest.mark.parametrize("mode", ["manual", "auto"])
def test_releasing_the_idle_version_again_changes_nothing(mode):
    change = decide_release(state_of(mode=mode), "g1")
    assert change.edits == ()
    assert "already on green (idle); nothing to release" in change.summary


@pytest.mark.parametrize("mode", ["manual", "auto"])
def test_releasing_the_production_version_is_refused(mode):
    with pytest.raises(RefusedEdit, match=r"^bg\.yaml:6:14: spec\.blue\.version: b1 already serves production on blue"):
        decide_release(state_of(mode=mode), "b1")


def test_promote_and_rollback_move_active_to_the_idle_color():
    state = state_of()
    assert decide_promote(state).edits == decide_rollback(state).edits == (Edit(("spec", "active"), "green"),)
    assert decide_promote(state).summary == "promote shop green g1 to production (blue b1 becomes idle)"
    assert decide_rollback(state).summary == "roll back shop to green g1 (blue b1 becomes idle)"


@pytest.mark.parametrize(("decide", "verb"), [(decide_promote, "promote"), (decide_rollback, "roll back to")])
def test_switching_to_a_color_without_version_is_refused(decide, verb):
    with pytest.raises(RefusedEdit) as refused:
        decide(state_of(green=None))
    assert str(refused.value) == (
        f"bg.yaml:4:11: spec.green.version: cannot {verb} green: it has no version "
        "(release one first: bgrender release VERSION)"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("metadata: {name: a}\nspec: {active: red}\n", "bg.yaml:2:16: spec.active: must be \"blue\" or \"green\""),
        ("metadata: {name: a}\nspec: {blue: {version: 1}, active: blue}\n", "bg.yaml:2:24: spec.blue.version: must be a string"),
        ("metadata: {name: a}\nspec: {}\n", "bg.yaml: spec.active: is required"),
    ],
)
def test_unreadable_fields_are_invalid_input(text, line):
    with pytest.raises(InvalidInput) as invalid:
        read_state(text, "bg.yaml")
    assert invalid.value.lines() == [line]


def test_an_auto_release_is_two_one_line_edits():
    text = "metadata:\n  name: shop\nspec:\n  active: green  # live\n  blue:\n    version: b1\n  green:\n    version: g1\n  promotion: {mode: auto}\n"
    state = read_state(text, "bg.yaml")
    new = apply_change(text, decide_release(state, "v2"), "bg.yaml")
    assert new == text.replace("green  # live", "blue  # live").replace("version: b1", "version: v2")
