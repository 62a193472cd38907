"""The I/O edge of `render` and `validate`: environment in, text out, an exit code back.

Shared by the click CLI and the fast path in __main__, so both behave byte for byte alike.
Nothing reaches stdout unless the whole render succeeded (fail closed: empty output with
exit 0 would let Argo CD prune the app).
"""

from __future__ import annotations

import os

from bgrender import TYPE_CHECKING
from bgrender.app.pipeline import (
    config_warnings,
    find_apps,
    history_notes,
    intent_file,
    load_app,
    plan_of,
    render_app,
    unreleased_base_changes,
    version_notes,
)
from bgrender.cli import logs
from bgrender.cli.streams import write_err, write_out
from bgrender.errors import BgRenderError, InvalidInput, Problem, escape
from bgrender.intent.env import as_the_sidecar, log_level, under_argocd
from bgrender.lock.lockfile import UNRELEASED
from bgrender.record import Record
from bgrender.render.render import render
from bgrender.yamlfile.dump import DUMPERS, dump_output

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

def run_render(path: str, output: str, env: Mapping[str, str]) -> int:
    try:
        logs.set_level(log_level(env))
        intent_path = intent_file(path)
        objects = render_app(intent_path, env)
        write_out(dump_output(objects, output, intent_path))
    except BgRenderError as err:
        return report(err)
    if under_argocd(env):
        logs.line("info", "rendered", app=env["ARGOCD_APP_NAME"], revision=env.get("ARGOCD_APP_REVISION", ""),
                  objects=len(objects), duration_ms=round(logs.uptime_ms(), 1))
    return 0


def run_validate(paths: Iterable[str], env: Mapping[str, str], output: str = "text") -> int:
    """Check every app PATHS stand for (a directory without bluegreen.yaml is searched), report
    every problem of every app, and end with how many apps are valid. Exit 1 when any app is
    invalid, a directory could not be searched, or a directory holds no app at all. With
    `output` "json", stderr is the same and stdout gets the summary (`validation_json`)."""
    apps, problems = _find_apps(paths)
    _write(problems)
    reported: set[Problem] = set()  # a problem of the environment is reported once, not for every app
    results: list[AppResult] = []
    for intent_path in apps:
        result = _validate_app(intent_path, env)
        results.append(result)
        if result.problems:
            _write([p for p in result.problems if p not in reported])
            reported.update(result.problems)
        else:
            _write_warnings(result.warnings)
            write_err(f"{escape(intent_path)}: valid{''.join('; ' + note for note in result.notes)}\n")
    valid = sum(not r.problems for r in results)
    write_err(f"{valid} of {len(apps)} app{'' if len(apps) == 1 else 's'} valid\n")
    if output == "json":
        write_out(validation_json(results, problems) + "\n")
    return 0 if valid == len(apps) and not problems else InvalidInput.exit_code


class AppResult(Record):
    file: str  # the intent file, as found
    problems: tuple[Problem, ...]  # none: valid
    notes: tuple[str, ...]  # for a valid app: unreleased base changes, history, versions no color runs
    warnings: tuple[Problem, ...] = ()  # for a valid app: config that bypasses blue/green


def _validate_app(intent_path: str, env: Mapping[str, str]) -> AppResult:
    try:
        # The whole render, dumped in each format, so that validate refuses what render would.
        app = load_app(intent_path, as_the_sidecar(env))
        plan = plan_of(app)
        # An object of spec.resources colliding with one bgrender generates shows only here.
        objects = render(plan)
        for output in DUMPERS:
            dump_output(objects, output, intent_path)
        notes = [UNRELEASED] if unreleased_base_changes(app, plan) else []
        notes += history_notes(app, plan) + version_notes(app, plan)
        warnings = config_warnings(app, plan)
    except InvalidInput as err:
        return AppResult(intent_path, tuple(err.problems), ())
    return AppResult(intent_path, (), tuple(notes), tuple(warnings))


def validation_json(results: list[AppResult], unsearched: list[Problem]) -> str:
    """`validate --output json`: each app valid (with its notes) or its problems, each problem
    with its file, line and column (null without a position), field path and message; then the
    PATHS that yielded no app, and the counts. Keys sorted: the same input gives the same bytes."""
    import json

    summary = {
        "apps": [{"file": r.file, "valid": not r.problems, "notes": list(r.notes),
                  "problems": [_problem_json(p) for p in r.problems],
                  "warnings": [_problem_json(p) for p in r.warnings]} for r in results],
        "problems": [_problem_json(p) for p in unsearched],
        "valid": sum(not r.problems for r in results),
        "total": len(results),
    }
    return json.dumps(summary, sort_keys=True)


def _problem_json(problem: Problem) -> dict[str, object]:
    return {"file": problem.file, "line": problem.line or None, "column": problem.column or None,
            "field": problem.path, "message": problem.message}


def _find_apps(paths: Iterable[str]) -> tuple[list[str], list[Problem]]:
    """Each app once, in the order given, and the reasons a PATH yielded none."""
    apps: dict[str, None] = {}
    problems: list[Problem] = []
    for path in paths:
        found, unsearched = find_apps(path)
        apps.update(dict.fromkeys(os.path.normpath(intent_path) for intent_path in found))
        problems += unsearched
    return list(apps), problems


def _write_warnings(warnings: Iterable[Problem]) -> None:
    """Warnings do not make an app invalid (DESIGN §19): `render`, Argo CD's path, prints none."""
    for warning in warnings:
        write_err(f"{warning}\n")


def _write(problems: list[Problem]) -> None:
    if problems:
        for line in InvalidInput(problems).lines():
            write_err(line + "\n")


def report(err: BgRenderError) -> int:
    for line in err.lines():
        write_err(line + "\n")
    return err.exit_code
