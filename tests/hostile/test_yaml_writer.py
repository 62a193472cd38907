"""dump_yaml writes the YAML stream itself for the shapes a render emits: byte for byte what
PyYAML (the same dumper, through libyaml) writes, for random streams, every golden and every
example; whatever it does not know goes to PyYAML whole."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bgrender.app.pipeline import find_intent, render_app
from bgrender.yamlfile import dump
from bgrender.yamlfile.dump import dump_yaml, pyyaml_stream

from ..conftest import EXAMPLES, case_env, cases
from .test_yaml_readers import scalar_like

# What libyaml's emitter looks at: indicators at the start, in the middle and at the end, spaces
# and line breaks where they change the style, quotes, document markers, keywords and numbers;
# rarely, what the writer leaves to PyYAML (tabs, control characters, non-ASCII text, floats).
_USUAL = ["a", "Z", "0", "1", " ", "  ", "\n", "\n\n", "-", "--", "---", "...", "?", ":", ": ", " #", "#", ",", "[",
          "]", "{", "}", "&", "*", "!", "|", ">", "'", '"', "%", "@", "`", "=", "<<", "~", "on", "true", "null",
          "12345e6", "0x1f", "1:30", "2024-01-02", "x" * 70]
_ODD = ["\t", "\r", "é", "\x85", "\u2028", "\x00", "\ufeff"]
usual_texts = st.lists(st.sampled_from(_USUAL), max_size=8).map("".join)
texts = st.one_of(usual_texts, usual_texts, usual_texts, scalar_like,
                  st.lists(st.sampled_from(_USUAL + _ODD), max_size=8).map("".join))
scalars = st.one_of(texts, texts, texts, st.integers(min_value=-2**70, max_value=2**70), st.booleans(), st.none())
keys = st.one_of(texts, st.sampled_from(["apiVersion", "kind", "metadata", "name", "app.kubernetes.io/name"]))
values = st.recursive(st.one_of(scalars, scalars, scalars, scalars, st.floats()),
                      lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
                      max_leaves=25)
streams = st.lists(st.dictionaries(keys, values, max_size=5), max_size=3)


def direct(objects: list) -> str | None:
    try:
        return "".join(dump._stream(objects))
    except dump._Unusual:
        return None


@settings(max_examples=400, deadline=None)
@given(objects=streams)
@example(objects=[{"k": "x" * 200 + " " + "y" * 70000}])  # folded by libyaml: PyYAML writes it
@example(objects=[{"k" * 129: 1}, {"s": "a\n\n"}, {"s": " a\nb"}, {"s": "a \nb"}])
@example(objects=[{"a": [[1, []], {}], "b": {"c": [{"d": "l1\n\nl3\n"}]}, "e": ["p\nq", ["r\n"]]}])
def test_the_stream_is_pyyamls_byte_for_byte(objects):
    expected = pyyaml_stream(objects)
    assert dump_yaml(objects) == expected
    assert direct(objects) in (None, expected)


@settings(max_examples=600, deadline=None)
@given(objects=st.lists(st.dictionaries(keys, st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=6), min_size=1, max_size=3), max_size=2))
def test_small_streams_too(objects):
    """Few values, so that most streams hold nothing unusual and the writer writes them."""
    assert direct(objects) in (None, pyyaml_stream(objects))


@pytest.mark.parametrize("app", [*cases("render"), *EXAMPLES], ids=lambda p: p.name)
def test_every_render_is_written_as_pyyaml_writes_it(app):
    objects = render_app(find_intent(app), case_env(app))
    assert dump_yaml(objects) == pyyaml_stream(objects)


@pytest.mark.parametrize("app", EXAMPLES, ids=lambda p: p.name)
def test_the_examples_are_written_directly(app):
    objects = render_app(find_intent(app), case_env(app))
    assert "".join(dump._stream(objects)) == pyyaml_stream(objects)  # no _Unusual: PyYAML was not needed


@settings(max_examples=1500, deadline=None)
@given(digits=st.one_of(st.text("0123456789.", max_size=12), st.text("0123456789.:eE+-xob٣", max_size=10),
                        st.from_regex(dump._NUMBER + r"\Z")))
@example(digits="+-1")
@example(digits="1.4.2")
def test_numbers_are_decided_as_the_pattern_decides(digits):
    """dump.is_number takes the everyday shapes without re: the same answer as the pattern."""
    import re

    assert dump.is_number(digits) == (re.fullmatch(dump._NUMBER, digits) is not None)
