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
from .dump import dump_json_lines, dump_yaml
from .env import log_level, under_argocd
from .errors import BgRenderError, InvalidInput, Problem, escape
from .pipeline import intent_file, render_app

DUMPERS = {"yaml": dump_yaml, "json": dump_json_lines}
# A blue/green app renders to ~5-20 KiB. Inputs are bounded (1 MiB files, 4 MiB of expanded
# text), but aliases can still make each color's copy large; 4 MiB is 200 times any real app
# and far below what Argo CD accepts (~100 MiB), so its cache never holds a runaway render.
MAX_OUTPUT_BYTES = 4 * 1024 * 1024


def run_render(path: str, output: str, env: Mapping[str, str]) -> int:
    started = time.perf_counter()
    try:
        logs.set_level(log_level(env))
        objects = render_app(intent_file(path), env)
        text = _dumped(objects, output, intent_file(path))
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


def _dumped(objects: list[dict], output: str, intent_path: str) -> str:
    text = DUMPERS[output](objects)
    size = len(text.encode("utf-8"))
    if size > MAX_OUTPUT_BYTES:
        message = (f"the rendered manifests would be {size / 2**20:.1f} MiB, more than the "
                   f"{MAX_OUTPUT_BYTES // 2**20} MiB limit; is a value repeated through YAML aliases?")
        raise InvalidInput([Problem(os.path.normpath(intent_path), 0, 0, "", message)])
    return text


def run_validate(paths: Iterable[str], env: Mapping[str, str]) -> int:
    problems = []
    for path in paths:
        intent_path = intent_file(path)
        try:  # the whole render, dumped in each format, so that validate refuses what render would
            objects = render_app(intent_path, env)
            for output in DUMPERS:
                _dumped(objects, output, intent_path)
        except InvalidInput as err:
            problems += err.problems
        else:
            sys.stderr.write(f"{escape(intent_path)}: valid\n")
    return report(InvalidInput(problems)) if problems else 0


def report(err: BgRenderError) -> int:
    for line in err.lines():
        sys.stderr.write(line + "\n")
    return err.exit_code
