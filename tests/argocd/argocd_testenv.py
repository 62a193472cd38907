"""Where the Argo CD tests find things: the checkout, ../shared, the examples, tools."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
EXAMPLES = REPO_ROOT / "examples"
TEST_APPS = Path(__file__).resolve().parent / "apps"  # a repository of apps made for these tests


def shared_path(*parts: str) -> Path:
    """A file in ../shared beside the checkout; skip the test when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared must sit beside the checkout)")
    return path


def require_executable(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not on PATH")
    return path
