"""Helpers for hostile-input tests: a valid app to start from, and the refusal contract."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ..conftest import BGRENDER, GOLDEN, clean_env

MINIMAL = GOLDEN / "render" / "minimal"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A fresh copy of a valid app (bluegreen.yaml + deployment.yaml) to spoil."""
    target = tmp_path / "app"
    shutil.copytree(MINIMAL, target, ignore=shutil.ignore_patterns("expected.yaml", "got.*"))
    return target


def add_to_app_container(app: Path, lines: str) -> None:
    """Adds YAML lines (indented for the container's keys) to the app container of the base."""
    base = (app / "deployment.yaml").read_text()
    anchor = "          image: registry.example.com/team/web:dev\n"
    assert anchor in base
    (app / "deployment.yaml").write_text(base.replace(anchor, anchor + lines, 1))


# The sidecar's memory limit in argocd-cm-patch/: a render must stay within it whatever the input.
SIDECAR_MEMORY = 256 * 1024 * 1024


def render(app: Path, env: dict[str, str] | None = None, timeout: float = 30, command: str = "render",
           memory: int | None = None, args: list[str] | None = None) -> subprocess.CompletedProcess:
    """`bgrender render` (or `validate`, with `args`) in `app`; with `memory`, under that much address space."""
    def cap_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run([BGRENDER, command, *(args or [])], cwd=app, env=clean_env(env), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          preexec_fn=cap_memory if memory else None)


def assert_refused(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit 1, nothing on stdout, a short message without a traceback that says what is wrong."""
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert "Traceback" not in result.stderr
    assert 0 < len(result.stderr) < 4000, len(result.stderr)
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
