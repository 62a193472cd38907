"""`bgrender analyze`: the metric gate (DESIGN §17), from a terminal or in a hook Job.

`bgrender analyze PATH --color C` measures the app's promotion.analysis for color C, with the
variables filled in as the render fills them; `bgrender analyze --rendered` measures what a
hook Job carries in $BGRENDER_ANALYSIS (the Job has no checkout of the repository). Both check
what they read as bluegreen.yaml is checked, then run the same code.

One JSON line per measurement goes to stdout as it is taken (so `kubectl logs` reads as a
report, and a failed analysis still shows what it measured), the verdict to stderr. Exit 0
passed, 1 failed (or the input is invalid), 3 inconclusive past the limit or Prometheus
unreachable, 2 usage.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from typing import Any

import click

from bgrender.analysis.run import analyze as measure_analysis
from bgrender.app.pipeline import intent_file, read_texts
from bgrender.cli.streams import write_err, write_out
from bgrender.colors import Color
from bgrender.errors import InvalidInput, Problem, escape
from bgrender.intent import spec
from bgrender.intent.analysis import analysis_run, namespace_problems, query_problems, query_values
from bgrender.intent.env import options_from_env
from bgrender.intent.intent import parse_intent
from bgrender.render.hooks import ANALYSIS_VAR
from bgrender.yamlfile.document import load_document


@click.command()
@click.argument("path", required=False)
@click.option("--color", type=click.Choice(["blue", "green"]), help="The color to measure (with PATH).")
@click.option("--address", help="Prometheus' URL instead of promotion.analysis.address (e.g. a port-forward).")
@click.option("--rendered", is_flag=True, help=f"Measure the analysis a hook Job carries in ${ANALYSIS_VAR}.")
def analyze(path: str | None, color: str | None, address: str | None, rendered: bool) -> None:
    """Measure promotion.analysis of the app at PATH (default .) for --color.

    Exit 0 passed, 1 failed, 3 inconclusive or Prometheus unreachable."""
    if rendered and (path is not None or color is not None):
        raise click.UsageError("--rendered takes neither PATH nor --color: the Job's analysis names its color")
    if not rendered and color is None:
        raise click.UsageError("--color is required: the color to measure")
    if address is not None and not spec.matches(spec.PROMETHEUS_URL, address):
        raise click.BadParameter("must be an http:// or https:// URL without credentials, query or fragment",
                                 param_hint="--address")
    run = rendered_run(os.environ) if rendered else app_run(path or ".", "blue" if color == "blue" else "green",
                                                            os.environ)
    if address is not None:
        run["address"] = address
    write_err(f"analysis of {run['color']} at {escape(run['address'])}\n")
    measure_analysis(run, _emit, time.sleep)
    write_err(f"analysis of {run['color']} passed: {len(run['queries'])} quer"
              f"{'y' if len(run['queries']) == 1 else 'ies'}, {run['count']} measurement(s) each\n")


def _emit(line: dict[str, Any]) -> None:
    # ASCII only: whatever a series' value holds is escaped, and the line stays one line.
    write_out(json.dumps(line, sort_keys=True) + "\n")


def app_run(path: str, color: Color, env: Mapping[str, str]) -> dict[str, Any]:
    """The analysis of `color` as the render writes it into the Job, from the app's files."""
    shown = os.path.normpath(intent_file(path))
    doc = load_document(read_texts(intent_file(path)).intent, shown)
    intent = parse_intent(doc)
    namespace = intent.namespace or options_from_env(env).namespace
    version = intent.versions[color]
    problems = []
    if intent.analysis is None:
        problems.append(doc.problem(("spec", "promotion"), "has no analysis to measure"))
    elif version is None:
        problems.append(doc.problem(("spec", color), f"{color} has no version: nothing runs there to measure"))
    else:
        problems += namespace_problems(doc, intent.analysis, namespace)
    if problems:
        raise InvalidInput(problems)
    assert intent.analysis is not None and version is not None
    values = query_values(intent.name, namespace, color, version, intent.service_name)
    return analysis_run(intent.analysis, color, values)


def rendered_run(env: Mapping[str, str]) -> dict[str, Any]:
    """$BGRENDER_ANALYSIS, checked against spec.ANALYSIS_RUN like any file bgrender reads."""
    text = env.get(ANALYSIS_VAR, "")
    if not text:
        raise InvalidInput([Problem("", 0, 0, ANALYSIS_VAR, "is not set: the hook Job's analysis goes there")])
    doc = load_document(text, f"${ANALYSIS_VAR}")
    problems = spec.check(spec.ANALYSIS_RUN, doc.data, (), doc)
    if not problems:
        problems = query_problems(doc, doc.data["queries"], ("queries",), rendered=True)
    if problems:
        raise InvalidInput(problems)
    run: dict[str, Any] = doc.data
    return run
