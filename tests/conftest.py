"""Shared helpers: where the golden cases and ../shared live, and how a case is run."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"
SHARED = REPO.parent / "shared"
# The installed `bgrender` script of the interpreter running the tests, as users run it.
BGRENDER = shutil.which("bgrender", path=str(Path(sys.executable).parent)) or "bgrender"
# Every app under examples/, nested ones too (examples/environments/envs/*, which share a base).
EXAMPLES = sorted(p.parent for p in (REPO / "examples").rglob("bluegreen.yaml"))
# Set BGRENDER_UPDATE_GOLDEN=1 to rewrite expected files after an intended change (review the diff).
UPDATE = os.environ.get("BGRENDER_UPDATE_GOLDEN") == "1"

# Variables that change a render; tests start from none of them, then add the case's own.
RENDER_ENV = ("ARGOCD_APP_NAME", "ARGOCD_APP_NAMESPACE", "ARGOCD_APP_PARAMETERS", "ARGOCD_APP_REVISION",
              "ARGOCD_APP_SOURCE_PATH", "KUBE_API_VERSIONS", "ARGOCD_ENV_BGRENDER_LOG_LEVEL", "BGRENDER_IMAGE")
# What the sidecar's own environment gives every render (argocd-cm-patch sets it): the image of
# the hooks that run bgrender. Every case renders with it unless its env.yaml says otherwise.
SIDECAR_ENV = {"BGRENDER_IMAGE": "registry.example.com/platform/bgrender:0.1.0"}


def example_name(example: Path) -> str:
    """An example's name: its path under examples/, "/" as "-" (environments-envs-staging)."""
    return "-".join(example.relative_to(REPO / "examples").parts)


def copy_app(app: Path, destination: Path) -> Path:
    """A copy of `app` to spoil or edit, and where the app is in it: the app's directory, or, for
    an app nested in a larger example (examples/environments/envs/*, whose files name ../../base),
    that whole example, marked as a Git repository so that its paths may leave the app directory."""
    parts = app.relative_to(REPO / "examples").parts if app.is_relative_to(REPO / "examples") else (app.name,)
    if len(parts) == 1:
        return Path(shutil.copytree(app, destination / app.name, symlinks=True))
    root = Path(shutil.copytree(REPO / "examples" / parts[0], destination / parts[0], symlinks=True))
    (root / ".git").mkdir()
    return root.joinpath(*parts[1:])


def cases(kind: str) -> list[Path]:
    return sorted(p for p in (GOLDEN / kind).iterdir() if p.is_dir())


def case_env(case: Path) -> dict[str, str]:
    """The sidecar's environment, and over it the case's env.yaml (a mapping of variable to value)."""
    env_file = case / "env.yaml"
    return {**SIDECAR_ENV, **(yaml.safe_load(env_file.read_text()) if env_file.exists() else {})}


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in RENDER_ENV}
    return {**env, **(extra or {})}


def runner_env(extra: dict[str, str]) -> dict[str, Any]:
    """For click's CliRunner: None unsets a variable."""
    return {**{k: None for k in RENDER_ENV}, **extra}


def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"upstream data folder {SHARED} is absent (CI always has it beside the checkout)")
    return SHARED


def check_golden(expected: Path, actual: str) -> None:
    """Compare with the expected file; on a mismatch leave got.* beside it for a diff."""
    got = expected.with_name("got" + expected.suffix)
    if UPDATE:
        expected.write_text(actual)
    if not expected.exists() or expected.read_text() != actual:
        got.write_text(actual)
        pytest.fail(f"{expected} differs from the actual output, written to {got}")
    got.unlink(missing_ok=True)


# The docs: README.md (the front page) and the pages of docs/, in the order of mkdocs.yml's nav.
DOCS = REPO / "docs"
_INCLUDE = re.compile(r'^<!-- include: (\S+)(?: until "([^"]+)")? -->$', re.M)


class _ConfigLoader(yaml.SafeLoader):
    """mkdocs.yml as data: its Python tags (the mermaid fence, the slug function) read as None."""


_ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
_ConfigLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def mkdocs_config() -> dict[str, Any]:
    return yaml.load((REPO / "mkdocs.yml").read_text(), Loader=_ConfigLoader)


def docs_pages() -> list[str]:
    """The pages of the site, as paths under docs/, in the order of the nav."""
    def walk(items: Any) -> list[str]:
        found = []
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            found += walk(value) if isinstance(value, list) else [value]
        return found
    return walk(mkdocs_config()["nav"])


def doc(page: str) -> str:
    """A page's text as the site shows it: docs/hooks.py's `<!-- include: ... -->` lines replaced
    by the file they name (links left as they are). `README.md` is the front page itself."""
    path = REPO / page if page == "README.md" else DOCS / page

    def include(match: re.Match[str]) -> str:
        text = (path.parent / match.group(1)).read_text()
        return text.split(f"\n{match.group(2)}\n", 1)[0] + "\n" if match.group(2) else text
    return _INCLUDE.sub(include, path.read_text())


def docs_text() -> str:
    """Every page of the site, in the order of the nav (the README is the first, index.md)."""
    return "".join(doc(page) for page in docs_pages())


def schema_and_validation_say(text: str) -> tuple[bool, bool]:
    """Whether the JSON Schema, and bgrender's own validation, accept the intent `text`."""
    import jsonschema

    from bgrender.errors import InvalidInput
    from bgrender.intent.intent import parse_intent
    from bgrender.intent.schema import json_schema
    from bgrender.yamlfile.document import load_document

    schema_says = jsonschema.Draft202012Validator(json_schema()).is_valid(yaml.safe_load(text))
    try:
        parse_intent(load_document(text, "bluegreen.yaml"))
    except InvalidInput:
        return schema_says, False
    return schema_says, True
