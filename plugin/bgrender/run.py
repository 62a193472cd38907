"""The I/O edge of `render` and `validate`: environment in, text out, an exit code back.

Shared by the click CLI and the fast path in __main__, so both behave byte for byte alike.
Nothing reaches stdout unless the whole render succeeded (fail closed: empty output with
exit 0 would let Argo CD prune the app).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Mapping

from . import logs
from .app import intent_file, plan_app, render_app
from .dump import dump_json_lines, dump_yaml
from .env import log_level, under_argocd
from .errors import BgRenderError, InvalidInput

DUMPERS = {"yaml": dump_yaml, "json": dump_json_lines}


def run_render(path: str, output: str, env: Mapping[str, str]) -> int:
    started = time.perf_counter()
    try:
        logs.set_level(log_level(env))
        objects = render_app(intent_file(path), env)
        text = DUMPERS[output](objects)
    except BgRenderError as err:
        return report(err)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `bgrender render | head`: the reader left; no traceback for that
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    if under_argocd(env):
        logs.log("info", "rendered", app=env.get("ARGOCD_APP_NAME"), revision=env.get("ARGOCD_APP_REVISION", ""),
                 objects=len(objects), duration_ms=round((time.perf_counter() - started) * 1000, 1))
    return 0


def run_validate(paths: Iterable[str], env: Mapping[str, str]) -> int:
    problems = []
    for path in paths:
        intent_path = intent_file(path)
        try:
            plan_app(intent_path, env)
        except InvalidInput as err:
            problems += err.problems
        else:
            sys.stderr.write(f"{intent_path}: valid\n")
    return report(InvalidInput(problems)) if problems else 0


def report(err: BgRenderError) -> int:
    for line in err.lines():
        sys.stderr.write(line + "\n")
    return err.exit_code
