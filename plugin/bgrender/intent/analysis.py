"""Metric gates (DESIGN §17): the conditions a query's result must meet, and the variables a
query may use. Pure; the Prometheus client that measures is analysis/, the Jobs render/hooks.py.

A condition is `result <op> <number>` and nothing else: parsed by hand here, token by token,
into an operator and a finite number, and evaluated by a table of six comparisons. No text of
bluegreen.yaml is ever evaluated as code. A query is PromQL with `{{ var }}` placeholders for
the variables below, replaced as plain text (their values are DNS labels, colors and label
values: nothing that could close a PromQL string).
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.errors import quote
from bgrender.intent.spec import CONDITION, matches
from bgrender.labels import version_label_value
from bgrender.record import Record

if TYPE_CHECKING:
    from typing import Any

    from bgrender.colors import Color
    from bgrender.errors import Problem
    from bgrender.yamlfile.document import Document, Path

# Two-character operators first, so "<=" is not read as "<" followed by "=".
OPERATORS = ("<=", ">=", "==", "!=", "<", ">")
VARIABLES = ("name", "namespace", "color", "version", "service")
_DIGITS = "0123456789"


class Condition(Record):
    op: str  # one of OPERATORS
    number: float  # finite

    def holds(self, value: float) -> bool:
        """Whether `value` meets the condition; NaN meets none (callers treat it as inconclusive)."""
        n = self.number
        return {"<": value < n, "<=": value <= n, ">": value > n, ">=": value >= n, "==": value == n,
                "!=": value != n}[self.op]


def parse_condition(text: str) -> Condition:
    """`result <op> <number>`, spaces allowed between the parts; ValueError(reason) otherwise.
    PASS: "result < 0.01", "result>=99.5", "result != 0", "result <= 1e3"
    FAIL: "result < 0.01 or 1", "error_rate < 1", "result < nan", "result < 1e999", "result << 1" """
    rest = text.strip(" ")
    if not rest.startswith("result"):
        raise ValueError('must start with "result"')
    rest = rest[len("result"):].lstrip(" ")
    op = next((o for o in OPERATORS if rest.startswith(o)), None)
    if op is None:
        raise ValueError('"result" must be followed by one of ' + " ".join(OPERATORS))
    number_text = rest[len(op):].strip(" ")
    if not _is_decimal(number_text):
        raise ValueError(f"must end in a number after {op!r} (such as 0.01, 250 or 1e3)")
    number = float(number_text)
    if number in (float("inf"), float("-inf")):
        raise ValueError("the number is too large")
    return Condition(op, number)


def _is_decimal(text: str) -> bool:
    """[+-] digits [. digits] [e [+-] digits], with digits on at least one side of the point:
    the literals float() reads, less "nan", "inf" and underscores, which it also reads."""
    i = 1 if text[:1] in ("+", "-") else 0
    start = i
    while i < len(text) and text[i] in _DIGITS:
        i += 1
    whole = i - start
    if i < len(text) and text[i] == ".":
        i += 1
        fraction_start = i
        while i < len(text) and text[i] in _DIGITS:
            i += 1
        if whole == 0 and i == fraction_start:
            return False
    elif whole == 0:
        return False
    if i < len(text) and text[i] in "eE":
        i += 1
        i += 1 if text[i:i + 1] in ("+", "-") else 0
        exponent_start = i
        while i < len(text) and text[i] in _DIGITS:
            i += 1
        if i == exponent_start:
            return False
    return i == len(text)


# --- query variables -----------------------------------------------------------------------


def template_problem(query: str) -> str | None:
    """Why `query` is not a valid template, or None. Every "{{" opens a variable of VARIABLES
    (PromQL itself never writes "{{")."""
    for _, inner in _placeholders(query):
        if inner is None:
            return 'has a "{{" without a closing "}}"'
        if inner not in VARIABLES:
            return f"uses {{{{ {inner[:40]} }}}}, which is not a variable (use {', '.join(VARIABLES)})"
    return None


def variables_used(query: str) -> set[str]:
    return {inner for _, inner in _placeholders(query) if inner is not None}


def substitute(query: str, values: dict[str, str]) -> str:
    """`query` with each `{{ var }}` replaced by its value (a valid template: template_problem)."""
    out, last = [], 0
    for (start, end), inner in _placeholders(query):
        assert inner is not None
        out += [query[last:start], values[inner]]
        last = end
    return "".join(out) + query[last:]


def _placeholders(query: str) -> list[tuple[tuple[int, int], str | None]]:
    """Each "{{ ... }}" as its span and its stripped inside (None when it never closes)."""
    found: list[tuple[tuple[int, int], str | None]] = []
    start = query.find("{{")
    while start != -1:
        end = query.find("}}", start + 2)
        if end == -1:
            return found + [((start, len(query)), None)]
        found.append(((start, end + 2), query[start + 2:end].strip(" ")))
        start = query.find("{{", end + 2)
    return found


# --- the analysis in bluegreen.yaml ---------------------------------------------------------


class Query(Record):
    name: str
    query: str  # a template (in the intent) or the PromQL sent (in a run)
    condition: Condition
    fails_when: bool  # True: a failureCondition (a sample meeting it fails); False: a successCondition
    condition_text: str  # as written

    def passes(self, value: float) -> bool:
        return self.condition.holds(value) != self.fails_when


class Analysis(Record):
    address: str
    queries: tuple[Query, ...]
    interval: int  # seconds between measurements
    count: int  # measurements of each query
    failure_limit: int
    inconclusive_limit: int
    timeout_seconds: int  # for one query
    before: bool
    after: bool


def query_from(raw: dict[str, Any]) -> Query:
    """A query of bluegreen.yaml or of a rendered run, already checked."""
    fails_when = raw.get("failureCondition") is not None
    text = raw["failureCondition" if fails_when else "successCondition"]
    return Query(raw["name"], raw["query"], parse_condition(text), fails_when, text)


def query_to(query: Query) -> dict[str, str]:
    return {"name": query.name, "query": query.query,
            ("failureCondition" if query.fails_when else "successCondition"): query.condition_text}


def query_problems(doc: Document, queries: Any, at: Path, rendered: bool = False) -> list[Problem]:
    """Each query named once, with exactly one condition, and only variables that exist (in a
    `rendered` run, none: the render replaced them)."""
    problems: list[Problem] = []
    names: dict[str, int] = {}
    for i, query in enumerate(queries if isinstance(queries, list) else []):
        if not isinstance(query, dict):
            continue
        conditions = [k for k in ("successCondition", "failureCondition") if query.get(k) is not None]
        if len(conditions) != 1:
            problems.append(doc.problem(at + (i,), "set exactly one of successCondition and failureCondition"))
        for key in conditions:
            problems += _condition_problems(doc, query[key], at + (i, key))
        if isinstance(query.get("name"), str) and names.setdefault(query["name"], i) != i:
            problems.append(doc.problem(at + (i, "name"), f"{quote(query['name'])} is used twice (also at "
                                                          f"queries[{names[query['name']]}])"))
        reason = _query_problem(query.get("query"), rendered)
        if reason:
            problems.append(doc.problem(at + (i, "query"), reason))
    return problems


def _query_problem(query: Any, rendered: bool) -> str | None:
    if not isinstance(query, str):
        return None
    if rendered and "{{" in query:
        return 'holds "{{": the render replaces every variable'
    return template_problem(query)


def _condition_problems(doc: Document, text: Any, at: Path) -> list[Problem]:
    """spec.py's pattern admits the form (and reports a text outside it); the parser also
    refuses a number too large to be finite."""
    if not isinstance(text, str) or not matches(CONDITION, text):
        return []
    try:
        parse_condition(text)
    except ValueError as err:
        return [doc.problem(at, str(err))]
    return []


def namespace_problems(doc: Document, analysis: Analysis, namespace: str | None) -> list[Problem]:
    """A query using {{ namespace }} needs the app to have one."""
    if namespace is not None:
        return []
    return [doc.problem(("spec", "promotion", "analysis", "queries", i, "query"), "uses {{ namespace }}, but the app "
                        "has no namespace: set metadata.namespace (Argo CD sets ARGOCD_APP_NAMESPACE)")
            for i, query in enumerate(analysis.queries) if "namespace" in variables_used(query.query)]


def query_values(name: str, namespace: str | None, color: Color, version: str, service: str) -> dict[str, str]:
    """What each variable stands for in the queries measuring `color`: the app's name and
    namespace, the color, its version as its pods' version label carries it (and so Istio's
    metrics, as destination_version), the app's Service."""
    return {"name": name, "namespace": namespace or "", "color": color, "version": version_label_value(version),
            "service": service}


def analysis_run(analysis: Analysis, color: Color, values: dict[str, str]) -> dict[str, Any]:
    """What `bgrender analyze` measures for `color` (spec.ANALYSIS_RUN), every variable replaced:
    the render writes it into the Job, `bgrender analyze PATH` builds the same from the app."""
    queries = [query_to(q.replace(query=substitute(q.query, values))) for q in analysis.queries]
    return {"color": color, "address": analysis.address, "interval": analysis.interval, "count": analysis.count,
            "failureLimit": analysis.failure_limit, "inconclusiveLimit": analysis.inconclusive_limit,
            "timeoutSeconds": analysis.timeout_seconds, "queries": queries}
