"""The pipeline in one place: find → load → validate → resolve → render.

Callers (the CLI, the release commands, tests) use these functions and never the stages
directly, so every path applies the same checks in the same order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .base import load_base
from .env import Options, options_from_env
from .errors import InvalidInput
from .files import read_app_file
from .intent import parse_intent
from .model import Intent, Plan
from .render import render
from .resolve import resolve
from .yamldoc import Document, load_document

INTENT_FILE = "bluegreen.yaml"


def find_intent(path: str | os.PathLike[str]) -> Path:
    """An app directory → its bluegreen.yaml; a file → itself."""
    p = Path(path)
    return p / INTENT_FILE if p.is_dir() else p


def load_intent(intent_path: Path, *, text: str | None = None) -> Intent:
    return _load(intent_path, text)[0]


def plan_app(intent_path: Path, env: Mapping[str, str], *, intent_text: str | None = None) -> Plan:
    options, env_error = _options(env)
    try:
        intent, doc = _load(intent_path, intent_text)
    except InvalidInput as err:  # report the environment's problems along with the file's
        raise InvalidInput(err.problems + (env_error.problems if env_error else [])) from err
    if env_error:
        raise env_error
    assert options is not None
    base = load_base(intent, doc, intent_path.parent)
    return resolve(intent, doc, base, options)


def render_app(intent_path: Path, env: Mapping[str, str], *,
               intent_text: str | None = None) -> list[dict[str, Any]]:
    return render(plan_app(intent_path, env, intent_text=intent_text))


def _load(intent_path: Path, text: str | None) -> tuple[Intent, Document]:
    shown = os.path.normpath(intent_path)
    if text is None:
        text = read_app_file(intent_path.parent, intent_path.name, shown)
    doc = load_document(text, shown)
    return parse_intent(doc), doc


def _options(env: Mapping[str, str]) -> tuple[Options | None, InvalidInput | None]:
    try:
        return options_from_env(env), None
    except InvalidInput as err:
        return None, err
