"""Shared helpers: where the golden cases and ../shared live, and how a case is run."""

from __future__ import annotations

import os
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
