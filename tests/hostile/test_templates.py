"""Templates in base values are written by whoever can push: they may read our five variables
and nothing else, and what they produce is bounded."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bgrender.errors import Problem
from bgrender.plan.templating import (
    MAX_TEMPLATE_CHARS,
    VARIABLES,
    _compiled,
    expand,
    may_hold_templates,
    substituted,
    template_paths,
)

from .conftest import add_to_app_container, assert_refused, render

CONTEXT = {"name": "web", "color": "blue", "version": "v1.2.3", "image": "r.example.com/web:v1.2.3"}


def _expand(source: str) -> tuple[str, list[str]]:
    out, problems = expand({"value": source}, CONTEXT, lambda path, message: Problem("f", 1, 1, "value", message))
    return out["value"], [p.message for p in problems]


@pytest.mark.parametrize(("source", "refusal"), [
    ("{{ name.__class__.__mro__ }}", "getattr expressions are not allowed"),
    ("{{ name['__class__'] }}", "subscripts may only be integers or slices of integers"),
    ("{{ name['upper'] }}", "subscripts may only be integers or slices of integers"),
    ("{{ version[name] }}", "subscripts may only be integers or slices of integers"),
    ("{{ version[:name] }}", "subscripts may only be integers or slices of integers"),
    ("{{ version[1.5] }}", "subscripts may only be integers or slices of integers"),
    ("{{ version[-name] }}", "subscripts may only be integers or slices of integers"),
    ("{{ -version }}", "neg expressions are not allowed"),
    ("{{ version|truncate(1) }}", "template error: AssertionError"),
    ("{{ version[99] }}", "template error: str object has no element 99"),
    ("{{ " + "(" * 1000 + "version" + ")" * 1000 + " }}", "template error"),
    ("{{ cycler.__init__.__globals__.os.environ }}", "not allowed"),
    ("{{ lipsum.__globals__ }}", "not allowed"),
    ("{{ self._TemplateReference__context }}", "not allowed"),
    ("{% include '/etc/passwd' %}", "include expressions are not allowed"),
    ("{% import 'os' as os %}", "import expressions are not allowed"),
    ("{% extends 'base' %}", "extends expressions are not allowed"),
    ("{{ range(10**9) | list }}", "not allowed"),
    ("{% for i in version %}{% for j in version %}x{% endfor %}{% endfor %}", "for expressions are not allowed"),
    ("{{ 'x' * 10**10 }}", "mul expressions are not allowed"),
    ("{{ version ** 99 }}", "pow expressions are not allowed"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "macro expressions are not allowed"),
    ("{% set x = name %}{{ x }}", "assign expressions are not allowed"),
    ("{{ version | replace('1', version * 9) }}", "not allowed"),
    ("{{ version | format('%999999999s') }}", 'filter "format" is not allowed'),
    ("{{ environ }}", 'unknown name "environ"'),
    ("{{ namespace }}", "'namespace' is undefined: set metadata.namespace or $ARGOCD_APP_NAMESPACE"),
    ("{{ version", "template syntax error"),
    ("{" * 3000, f"template is longer than {MAX_TEMPLATE_CHARS} characters"),
])
def test_refused_templates(source, refusal):
    _, problems = _expand(source)
    assert len(problems) == 1 and refusal in problems[0], problems


@pytest.mark.parametrize(("source", "value"), [
    ("{{ version[:4] | upper ~ '-' ~ color }}", "V1.2-blue"),
    ("{% if color == 'blue' %}primary{% else %}secondary{% endif %}", "primary"),
    ("{{ namespace | default('none') }}", "none"),
    ("{% raw %}{{ literal }}{% endraw %}", "{{ literal }}"),
    ("{{ image }}", "r.example.com/web:v1.2.3"),
    ("{{ version[0] }}{{ version[-1] }}{{ version[-3:] }}{{ version[::-1] }}", "v32.33.2.1v"),
    ("{{ version.1 }}", "1"),
])
def test_allowed_templates(source, value):
    assert _expand(source) == (value, [])


def test_output_is_bounded_by_the_template_length():
    """The biggest output a template of the maximum length can give: every character a variable."""
    source = "{{image~image~image~image}}" * (MAX_TEMPLATE_CHARS // 27)
    value, problems = _expand(source)
    assert problems == [] and len(value) < MAX_TEMPLATE_CHARS * len(CONTEXT["image"])


def test_refused_template_through_the_cli_names_the_field(app):
    add_to_app_container(app, '          env:\n            - name: LEAK\n'
                              '              value: "{{ cycler.__init__.__globals__ }}"\n')
    assert_refused(render(app), "deployment.yaml:22:22: spec.template.spec.containers[0].env[0].value: template error")


def test_a_subscript_cannot_reach_a_method_and_make_output_vary(app):
    """`name['upper']` printed a bound method's repr, with a memory address: every render differed."""
    add_to_app_container(app, "          env:\n            - name: M\n              value: \"{{ name['upper'] }}\"\n")
    assert_refused(render(app), "spec.template.spec.containers[0].env[0].value: template error: subscripts")


# --- plain `{{ name }}` templates, substituted without Jinja ----------------------------------

_PIECES = ["{{", "}}", "{", "}", " ", "  ", "\t", "\n", "\r", "\r\n", "-", "~", "|", "{%", "%}", "{#", "#}",
           "x", "é", "'", "[0]", "upper", "environ", "raw", *VARIABLES]


def jinja(source: str, context: dict[str, str]) -> str | None:
    template, refusal = _compiled(source)
    try:
        return None if refusal else template.render(context)
    except Exception:
        return None


@given(pieces=st.lists(st.sampled_from(_PIECES), max_size=30), namespace=st.booleans())
@example(pieces=["{{", " ", "version", " ", "}}", "}"], namespace=True)
@example(pieces=["x", "\r\n", "{{", "name", "}}"], namespace=True)
@example(pieces=["{{", "namespace", "}}"], namespace=False)
def test_plain_substitution_is_what_jinja_renders(pieces, namespace):
    context = {**CONTEXT, "namespace": "shop"} if namespace else CONTEXT
    source = "".join(pieces)
    plain = substituted(source, context)
    if plain is not None:
        assert plain == jinja(source, context)


@given(texts=st.lists(st.text(st.characters(exclude_characters="{}\r%#")), min_size=1, max_size=5),
       names=st.lists(st.sampled_from(sorted(CONTEXT)), min_size=1, max_size=4),
       spaces=st.sampled_from(["", " ", "  "]))
def test_plain_templates_skip_jinja_and_agree_with_it(texts, names, spaces):
    after = [*texts[1:], *[""] * len(names)]
    source = texts[0] + "".join(f"{{{{{spaces}{n}{spaces}}}}}{t}" for n, t in zip(names, after))
    if len(source) <= MAX_TEMPLATE_CHARS:
        assert substituted(source, CONTEXT) == jinja(source, CONTEXT) is not None


_YAML_PIECES = ["k: ", "- ", "{", "}", "{{", "%", "#", " ", "\n", "\n  ", '"', "'", "\\", "x7b", "u007B", "|\n  ",
                ">\n  ", "a", ",", "[", "]", ": "]


@settings(max_examples=1500, deadline=None)
@given(pieces=st.lists(st.sampled_from(_YAML_PIECES), max_size=14))
@example(pieces=["k: ", '"', "{", "\\", "\n  ", "{", '"'])  # an escaped line break between two braces
@example(pieces=["k: ", '"', "\\", "x7b", "{", '"'])
def test_a_text_without_markers_or_escapes_holds_no_template(pieces):
    text = "".join(pieces)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return
    if not may_hold_templates(text):
        assert template_paths(data) == []
