"""Fixtures for the Argo CD integration tests: the repository, plugin.yaml, and a CMP stand-in."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import cmp_harness as cmp
from argocd_testenv import EXAMPLES, REPO_ROOT


@pytest.fixture(scope="session")
def plugin_config() -> cmp.PluginConfig:
    return cmp.load_plugin_config(REPO_ROOT / "plugin.yaml")


@pytest.fixture(scope="session")
def venv_bin() -> Path:
    """The bin directory holding the `bgrender` the tests run, as PATH holds it in the image."""
    bin_dir = Path(sys.prefix) / "bin"
    if not (bin_dir / "bgrender").exists():
        pytest.skip(f"no bgrender executable in {bin_dir}: install the package into this venv")
    return bin_dir


@pytest.fixture
def sidecar_home(tmp_path: Path) -> Path:
    """HOME of the sidecar (its /tmp in the image); tests check nothing lands there."""
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def sidecar_env(venv_bin: Path, sidecar_home: Path) -> dict[str, str]:
    """The sidecar container's own environment, as the Dockerfile and argocd-cm-patch set it."""
    return {
        "BGRENDER_IMAGE": "registry.example.com/platform/bgrender:0.1.0",
        "PATH": f"{venv_bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(sidecar_home),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


Generate = Callable[..., cmp.Response]


@pytest.fixture
def generate(plugin_config: cmp.PluginConfig, sidecar_env: dict[str, str], tmp_path: Path) -> Generate:
    """One GenerateManifest request: generate(app, repository=EXAMPLES, **harness options)."""

    def run(app: cmp.Application, repository: Path = EXAMPLES, **options) -> cmp.Response:
        options.setdefault("workdir_parent", tmp_path)
        options.setdefault("sidecar_env", sidecar_env)
        return cmp.generate(plugin_config, repository, app, **options)

    return run

