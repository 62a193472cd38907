"""`bgrender status` on an app whose versioned Secrets hold a canary: what runs live is shown
beside what Git says, and no Secret value is (tests/test_secret_values.py covers every other
command)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..conftest import GOLDEN
from ..test_secret_values import _leaks, _secret_values
from .conftest import deploy, status


@pytest.mark.parametrize("output", ["table", "json"])
def test_status_shows_no_secret_value(kube_api, kubeconfig, tmp_path: Path, output: str):
    app = Path(shutil.copytree(GOLDEN / "render" / "versioned-secret-pinned-by-the-lock", tmp_path / "app"))
    deploy(kube_api, app)
    result = status(app, kubeconfig, "-o", output, "-n", "shop")
    assert result.exit_code == 0, result.stderr
    assert "web-blue" in result.stdout or "blue" in result.stdout
    assert not _leaks(result.stdout + result.stderr, _secret_values(app))
