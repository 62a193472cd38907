"""The pipeline in one place: find → load → validate → resolve → render.

Callers (the CLI, the release commands, tests) use these functions and never the stages
directly, so every path applies the same checks in the same order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .base import load_base
from .env import Options, options_from_env
from .errors import InvalidInput, Problem
from .files import read_app_file
from .intent import Intent, parse_intent
from .plan import Plan, resolve
from .render import render
from .yamldoc import Document, load_document

TYPE_CHECKING = False  # the typing module costs ~3 ms at startup; only type checkers need it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    PathLike = str | os.PathLike[str]

INTENT_FILE = "bluegreen.yaml"


def intent_file(path: PathLike) -> str:
    """An app directory → its bluegreen.yaml; a file → itself."""
    path = os.fspath(path) or "."
    return os.path.join(path, INTENT_FILE) if os.path.isdir(path) else path


def find_intent(path: PathLike) -> Path:
    """intent_file as a Path, for callers that want one (pathlib is not on the render path)."""
    from pathlib import Path

    return Path(intent_file(path))


def find_apps(path: PathLike) -> tuple[list[str], list[Problem]]:
    """The intent files PATH stands for, and a problem for each directory that could not be
    searched (an app there would go unchecked) or holds no app at all.

    A file, or a directory holding bluegreen.yaml: that app (a missing path is left for the
    reader to report). Any other directory: every bluegreen.yaml below it, in sorted order.
    Hidden directories (.git, .github, ...) are skipped, and so are symlinked directories: a link
    can lead out of the tree, back up into it (a walk without end), or to an app already found
    under its own name. Apps are checked where they live, once.
    """
    path = os.fspath(path) or "."
    if not os.path.isdir(path) or os.path.lexists(os.path.join(path, INTENT_FILE)):
        return [intent_file(path)], []
    found: list[str] = []
    unreadable: list[OSError] = []
    for directory, subdirectories, files in os.walk(path, onerror=unreadable.append):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        if INTENT_FILE in files:
            found.append(os.path.join(directory, INTENT_FILE))
    problems = [Problem(os.path.normpath(err.filename or path), 0, 0, "",
                        f"cannot be searched for apps: {err.strerror or err}") for err in unreadable]
    if not found:
        problems.append(Problem(os.path.normpath(path), 0, 0, "", f"no {INTENT_FILE} in this directory or below it "
                                "(hidden and symlinked directories are not searched)"))
    return found, problems


def load_intent(intent_path: PathLike, *, text: str | None = None) -> Intent:
    return _load(os.fspath(intent_path), text)[0]


def plan_app(intent_path: PathLike, env: Mapping[str, str], *, intent_text: str | None = None) -> Plan:
    intent_path = os.fspath(intent_path)
    options, env_error = _options(env)
    try:
        intent, doc = _load(intent_path, intent_text)
    except InvalidInput as err:  # report the environment's problems along with the file's
        raise InvalidInput(err.problems + (env_error.problems if env_error else [])) from err
    if env_error:
        raise env_error
    assert options is not None
    base = load_base(intent, doc, os.path.dirname(intent_path) or ".")
    return resolve(intent, doc, base, options)


def render_app(intent_path: PathLike, env: Mapping[str, str], *,
               intent_text: str | None = None) -> list[dict[str, Any]]:
    return render(plan_app(intent_path, env, intent_text=intent_text))


def _load(intent_path: str, text: str | None) -> tuple[Intent, Document]:
    shown = os.path.normpath(intent_path)
    if text is None:
        text = read_app_file(os.path.dirname(intent_path) or ".", os.path.basename(intent_path), shown)
    doc = load_document(text, shown)
    return parse_intent(doc), doc


def _options(env: Mapping[str, str]) -> tuple[Options | None, InvalidInput | None]:
    try:
        return options_from_env(env), None
    except InvalidInput as err:
        return None, err
