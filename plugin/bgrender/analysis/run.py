"""An analysis (DESIGN §17), measured: `count` rounds, `interval` seconds apart, each query once
a round; one report line per measurement, as it happens.

A measurement of a query is
- passed: every sample meets the successCondition (or none meets the failureCondition);
- failed: a sample does not (or does);
- inconclusive: no sample, a NaN sample, or no usable answer from Prometheus.
The analysis fails as soon as a query has failed more than `failureLimit` times (exit 1), ends
inconclusive as soon as a query has been inconclusive more than `inconclusiveLimit` times
(exit 3: a gate that cannot see must not pass), and passes after the last round (exit 0).
"""

from __future__ import annotations

import math

from bgrender import TYPE_CHECKING
from bgrender.analysis.prometheus import Unanswered, instant_query
from bgrender.errors import BgRenderError, quote
from bgrender.intent.analysis import query_from
from bgrender.record import Record

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from bgrender.analysis.prometheus import Sample
    from bgrender.intent.analysis import Query

    Measure = Callable[[str, str, float], list[Sample]]  # address, PromQL, timeout -> samples

PASSED, FAILED, INCONCLUSIVE = "passed", "failed", "inconclusive"
MAX_VALUES_SHOWN = 10  # per line: a gate's vector is a few series; the line stays readable
MAX_VALUE_CHARS = 40  # Prometheus writes a value in ~20; a server that is not Prometheus may not


class AnalysisFailed(BgRenderError):
    """A query failed more measurements than failureLimit allows."""


class AnalysisInconclusive(BgRenderError):
    """A query could not be judged more often than inconclusiveLimit allows."""

    exit_code = 3


class Outcome(Record):
    result: str  # PASSED, FAILED or INCONCLUSIVE
    values: tuple[str, ...]  # the samples' values, as Prometheus wrote them
    reason: str


def judge(query: Query, samples: list[Sample]) -> Outcome:
    """One measurement of `query` from its samples: every sample must pass."""
    values = tuple(s.text for s in samples)
    if not samples:
        return Outcome(INCONCLUSIVE, values, "no sample: the query matched no series")
    numbers = []
    for sample in samples:
        try:
            numbers.append(sample.value)
        except ValueError:
            return Outcome(INCONCLUSIVE, values, f"a sample is not a number: {quote(sample.text, 40)}")
    if any(math.isnan(n) for n in numbers):
        return Outcome(INCONCLUSIVE, values, "a sample is NaN")
    failing = [s.text for s, n in zip(samples, numbers) if not query.passes(n)]
    if failing:
        meets = "meets" if query.fails_when else "does not meet"
        reason = f"{len(failing)} of {len(samples)} sample(s) {meets} {quote(query.condition_text)}"
        return Outcome(FAILED, values, reason)
    return Outcome(PASSED, values, "")


def analyze(run: dict[str, Any], emit: Callable[[dict[str, Any]], None], sleep: Callable[[float], None],
            measure: Measure = instant_query) -> str:
    """Measure `run` (spec.ANALYSIS_RUN, checked), emitting one line per measurement; PASSED,
    or AnalysisFailed / AnalysisInconclusive naming the query."""
    queries = [query_from(q) for q in run["queries"]]
    failures = dict.fromkeys((q.name for q in queries), 0)
    unknown = dict(failures)
    for round_ in range(1, run["count"] + 1):
        if round_ > 1:
            sleep(run["interval"])
        for query in queries:
            outcome = _measure(run, query, measure)
            emit(_line(run, query, round_, outcome))
            failures[query.name] += outcome.result == FAILED
            unknown[query.name] += outcome.result == INCONCLUSIVE
            _stop_past_the_limits(run, query, failures[query.name], unknown[query.name], outcome)
    return PASSED


def _measure(run: dict[str, Any], query: Query, measure: Measure) -> Outcome:
    try:
        samples = measure(run["address"], query.query, run["timeoutSeconds"])
    except Unanswered as err:
        return Outcome(INCONCLUSIVE, (), str(err))
    return judge(query, samples)


def _stop_past_the_limits(run: dict[str, Any], query: Query, failures: int, unknown: int, last: Outcome) -> None:
    where = f"analysis of {run['color']}: query {quote(query.name)}"
    if failures > run["failureLimit"]:
        raise AnalysisFailed(f"{where} failed {failures} measurement(s), more than failureLimit "
                             f"{run['failureLimit']}; last: {last.reason}")
    if unknown > run["inconclusiveLimit"]:
        raise AnalysisInconclusive(f"{where} was inconclusive {unknown} time(s), more than inconclusiveLimit "
                                   f"{run['inconclusiveLimit']}; last: {last.reason}")


def _line(run: dict[str, Any], query: Query, round_: int, outcome: Outcome) -> dict[str, Any]:
    line: dict[str, Any] = {"color": run["color"], "query": query.name, "measurement": round_, "of": run["count"],
                            "result": outcome.result, "condition": query.condition_text,
                            "values": [v[:MAX_VALUE_CHARS] for v in outcome.values[:MAX_VALUES_SHOWN]]}
    if len(outcome.values) > MAX_VALUES_SHOWN:
        line["samples"] = len(outcome.values)
    if outcome.reason:
        line["reason"] = outcome.reason
    return line
