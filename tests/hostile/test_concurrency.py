"""Argo CD runs many renders at once in one sidecar: they must agree, and leave no trace."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .conftest import BGRENDER


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_sixteen_parallel_renders_agree_and_write_nothing(app: Path, tmp_path: Path):
    home, scratch = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    scratch.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("ARGOCD_", "KUBE_"))},
           "HOME": str(home), "TMPDIR": str(scratch), "ARGOCD_APP_NAMESPACE": "shop"}
    before = _snapshot(app)

    def render(_: int) -> subprocess.CompletedProcess:
        return subprocess.run([BGRENDER, "render"], cwd=app, env=env, capture_output=True, text=True, timeout=120)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(render, range(16)))
    assert {r.returncode for r in results} == {0}
    assert len({r.stdout for r in results}) == 1
    alone = render(0)  # the same render with the machine to itself
    assert results[0].stdout == alone.stdout
    assert results[0].stdout.count("  namespace: shop\n") == results[0].stdout.count("\n---\n") + 1  # every object
    assert _snapshot(app) == before
    assert list(home.iterdir()) == [] and list(scratch.iterdir()) == []
