"""Conditions and query templates (DESIGN §17): `result <op> <number>` and nothing else.

The hand-written parser and spec.py's pattern (the JSON Schema's, the validator's) accept the
same texts; a parsed condition is one of six comparisons of the result with a finite number;
no text is ever handed to eval, exec or compile. Also the counting of failed and inconclusive
measurements, on scripted answers: which samples Prometheus returns is
tests/analysis/test_prometheus.py's business, against the real server.
"""

from __future__ import annotations

import ast
import builtins
import math
import operator
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bgrender.analysis.prometheus import Sample
from bgrender.analysis.run import AnalysisFailed, AnalysisInconclusive, analyze
from bgrender.intent.analysis import (
    OPERATORS,
    parse_condition,
    query_from,
    substitute,
    template_problem,
    variables_used,
)
from bgrender.intent.spec import CONDITION, matches

from ..conftest import schema_and_validation_say

PACKAGE = Path(__file__).resolve().parents[2] / "plugin" / "bgrender"
COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
               "!=": operator.ne}

numbers = st.from_regex(r"[-+]?([0-9]{1,6}(\.[0-9]{0,4})?|\.[0-9]{1,4})([eE][-+]?[0-9]{1,2})?", fullmatch=True)
spaces = st.text(" ", max_size=3)
conditions = st.builds(lambda a, op, b, n, c, d: f"{a}result{b}{op}{c}{n}{d}", spaces, st.sampled_from(OPERATORS),
                       spaces, numbers, spaces, spaces)
# Texts near the grammar: its own words and characters, and ones that would mean code elsewhere.
near = st.lists(st.sampled_from(list("result<>=!. 0123456789eE+-_()'\"ainfoxrs[]\t\n")
                                + ["result", "__import__", " or ", "nan", "inf", "1_0", "1e999"]),
                max_size=12).map("".join)


def parses(text: str) -> bool:
    try:
        parse_condition(text)
    except ValueError:
        return False
    return True


@given(conditions)
def test_a_condition_is_a_comparison_with_its_number(text):
    condition = parse_condition(text)
    number_text = text.split(condition.op, 1)[1].strip(" ")
    assert condition.op in OPERATORS and condition.number == float(number_text)
    assert matches(CONDITION, text)


@given(st.one_of(near, st.text(max_size=30), conditions))
def test_the_parser_and_the_schema_pattern_agree(text):
    """Only a number too large to be finite is refused by the parser and not by the pattern."""
    if matches(CONDITION, text) and not parses(text):
        number = text.strip(" ")[len("result"):].strip(" ").lstrip("<>=!").strip(" ")
        assert math.isinf(float(number))
        with pytest.raises(ValueError, match="too large"):
            parse_condition(text)
    else:
        assert parses(text) == matches(CONDITION, text)


@given(st.one_of(near, st.text(max_size=30), conditions))
def test_parsing_evaluates_nothing(text):
    """Whatever the text, the parser calls none of eval, exec, compile or __import__."""
    called = []
    saved = {name: getattr(builtins, name) for name in ("eval", "exec", "compile")}

    def refuse(name):
        def call(*args, **kwargs):
            called.append(name)
            raise AssertionError(f"{name} called")
        return call

    try:
        for name in saved:
            setattr(builtins, name, refuse(name))
        parses(text)
    finally:
        for name, function in saved.items():
            setattr(builtins, name, function)
    assert called == []


@given(conditions, st.floats(allow_nan=True, allow_infinity=True))
def test_a_condition_holds_exactly_when_its_comparison_does(text, value):
    condition = parse_condition(text)
    assert condition.holds(value) is COMPARISONS[condition.op](value, condition.number)


@pytest.mark.parametrize("text", ["result < nan", "result < inf", "result < 1_0", "result < 0x10", "result<<1",
                                  "result < 1 or True", "result < (1)", "result < 1e999", "results < 1",
                                  "result < 1 # c", "result ≤ 1", "result < １", "result =< 1", "1 > result",
                                  "result\t< 1", "result < 1\n"])
def test_these_are_not_conditions(text):
    assert not parses(text)


def test_no_module_of_the_gate_calls_eval_exec_or_compile():
    for path in [PACKAGE / "intent" / "analysis.py", *sorted((PACKAGE / "analysis").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("eval", "exec", "compile", "__import__"), f"{path}:{node.lineno}"


# --- query templates --------------------------------------------------------------------------

VALUES = {"name": "web", "namespace": "shop", "color": "green", "version": "v2", "service": "web-svc"}


@pytest.mark.parametrize(("query", "expected"), [
    ('up{app="{{ name }}", ns="{{namespace}}"}', 'up{app="web", ns="shop"}'),
    ('x{c="{{  color  }}",v="{{ version }}",s="{{ service }}"}', 'x{c="green",v="v2",s="web-svc"}'),
    ("sum(rate(x[1m]))", "sum(rate(x[1m]))"),
])
def test_variables_are_replaced_as_text(query, expected):
    assert template_problem(query) is None
    assert substitute(query, VALUES) == expected


@pytest.mark.parametrize(("query", "problem"), [
    ('up{pod="{{ pod }}"}', "uses {{ pod }}, which is not a variable"),
    ('up{a="{{ name }"}', 'has a "{{" without a closing "}}"'),
    ("up{{}}", "uses {{  }}, which is not a variable"),
    ('up{a="{{ version | upper }}"}', "uses {{ version | upper }}, which is not a variable"),
])
def test_anything_else_in_braces_is_refused(query, problem):
    assert template_problem(query).startswith(problem)


@given(st.text(max_size=60))
def test_a_valid_template_leaves_no_placeholder(query):
    assume(template_problem(query) is None)
    out = substitute(query, VALUES)
    assert "{{" not in out and variables_used(out) == set()


# --- counting measurements ----------------------------------------------------------------------

def scripted(*answers):
    """A measure function giving these answers in turn: a list of sample texts each."""
    queue = list(answers)

    def measure(_address, _query, _timeout):
        return [Sample({}, text) for text in queue.pop(0)]
    return measure


def run_of(count, failure_limit=0, inconclusive_limit=0, condition="result < 1"):
    return {"color": "green", "address": "http://p:9090", "interval": 5, "count": count,
            "failureLimit": failure_limit, "inconclusiveLimit": inconclusive_limit, "timeoutSeconds": 1,
            "queries": [{"name": "q", "query": "x", "successCondition": condition}]}


def test_failures_up_to_the_limit_pass_and_one_more_fails():
    lines, slept = [], []
    assert analyze(run_of(3, failure_limit=1), lines.append, slept.append, scripted(["5"], ["0"], ["0"])) == "passed"
    assert [line["result"] for line in lines] == ["failed", "passed", "passed"] and slept == [5, 5]
    lines = []
    with pytest.raises(AnalysisFailed, match="failed 2 measurement"):
        analyze(run_of(3, failure_limit=1), lines.append, slept.append, scripted(["5"], ["0"], ["5"]))
    assert len(lines) == 3


def test_inconclusive_up_to_the_limit_pass_and_one_more_ends_it():
    lines = []
    assert analyze(run_of(3, inconclusive_limit=2), lines.append, lambda _: None,
                   scripted([], ["NaN"], ["0"])) == "passed"
    with pytest.raises(AnalysisInconclusive) as raised:
        analyze(run_of(3, inconclusive_limit=1), lines.append, lambda _: None, scripted([], ["NaN"], ["0"]))
    assert raised.value.exit_code == 3


def test_every_sample_must_pass_and_one_nan_makes_it_inconclusive():
    lines = []
    with pytest.raises(AnalysisFailed):
        analyze(run_of(1), lines.append, lambda _: None, scripted(["0", "0.5", "2"]))
    assert lines[-1]["reason"] == '1 of 3 sample(s) does not meet "result < 1"'
    with pytest.raises(AnalysisInconclusive):
        analyze(run_of(1), lines.append, lambda _: None, scripted(["0", "NaN"]))
    assert lines[-1]["reason"] == "a sample is NaN"


def test_a_failure_condition_fails_on_any_sample_meeting_it():
    query = query_from({"name": "q", "query": "x", "failureCondition": "result >= 500"})
    assert [query.passes(v) for v in (499.9, 500, math.inf)] == [True, False, False]


# --- the JSON Schema and the validator agree on the field's shape ---------------------------------

INTENT = """\
apiVersion: bgrender.io/v1alpha1
kind: BlueGreen
metadata: {name: web, namespace: shop}
spec:
  image: registry.example.com/team/web
  active: blue
  blue: {version: v1}
  deployment: deployment.yaml
  promotion:
    image: registry.example.com/platform/bgrender:0.1.0
    analysis:
"""
QUERY = "{name: errors, query: 'up{app=\"{{ name }}\"}', "


@pytest.mark.parametrize("snippet, valid", [
    ("address: http://p:9090\n      queries: [" + QUERY + "successCondition: result < 1}]", True),
    ("address: http://p:9090\n      queries: [" + QUERY + "failureCondition: 'result>=1e3'}]", True),
    ("address: http://p:9090\n      queries: [" + QUERY + "successCondition: result < 1, failureCondition: null}]",
     True),
    ("address: http://p:9090\n      queries: [" + QUERY + "successCondition: result < 1, "
     "failureCondition: result > 2}]", False),
    ("address: http://p:9090\n      queries: [" + QUERY + "}]", False),
    ("address: http://p:9090\n      queries: [" + QUERY + "successCondition: result < one}]", False),
    ("address: http://p:9090\n      queries: [" + QUERY + "successCondition: 'result < 1 or 1'}]", False),
    ("address: p:9090\n      queries: [" + QUERY + "successCondition: result < 1}]", False),
    ("address: http://user:pw@p:9090\n      queries: [" + QUERY + "successCondition: result < 1}]", False),
    ("address: http://p:9090\n      queries: []", False),
    ("address: http://p:9090\n      count: 0\n      queries: [" + QUERY + "successCondition: result < 1}]", False),
    ("address: http://p:9090\n      timeoutSeconds: 301\n      queries: [" + QUERY + "successCondition: result < 1}]",
     False),
])
def test_the_json_schema_and_validation_agree(snippet, valid):
    assert schema_and_validation_say(INTENT + "      " + snippet + "\n") == (valid, valid)
