"""examples/environments: three environments sharing ../../base, each with its own bluegreen.yaml
and lock, render, validate and release independently (DESIGN §19). The example is copied whole
(marked as a Git repository, as a checkout is) and edited with the real commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import REPO, copy_app
from .conftest import run

ENVIRONMENTS = ("staging", "prod-eu", "prod-us")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The copied examples/environments (its root)."""
    return copy_app(REPO / "examples" / "environments" / "envs" / "staging", tmp_path).parents[1]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _changed(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def _renders(example: Path, monkeypatch) -> dict[str, str]:
    results = {env: run(["render", f"envs/{env}"], example, monkeypatch) for env in ENVIRONMENTS}
    assert all(r.exit_code == 0 for r in results.values()), {e: r.stderr for e, r in results.items()}
    return {env: r.stdout for env, r in results.items()}


def test_every_environment_validates(example, monkeypatch):
    result = run(["validate", "."], example, monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "3 of 3 apps valid"


def test_releasing_staging_changes_no_file_of_production(example, monkeypatch):
    before, renders = _files(example), _renders(example, monkeypatch)
    result = run(["release", "1.6.0", "envs/staging"], example, monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "release payments 1.6.0 to blue and promote it (green 1.5.0 becomes idle)\n"
    assert _changed(before, _files(example)) == {"envs/staging/bluegreen.yaml", "envs/staging/bluegreen.lock.yaml"}
    after = _renders(example, monkeypatch)
    assert after["staging"] != renders["staging"]
    assert {e: after[e] for e in ("prod-eu", "prod-us")} == {e: renders[e] for e in ("prod-eu", "prod-us")}


def test_a_shared_config_edit_reaches_each_environment_only_by_its_own_release(example, monkeypatch):
    renders = _renders(example, monkeypatch)
    config = example / "base" / "config" / "application.yaml"
    config.write_text(config.read_text().replace("batchSize: 200", "batchSize: 500"))
    assert _renders(example, monkeypatch) == renders  # every lock pins the config each color runs
    before = _files(example)
    result = run(["release", "envs/prod-us"], example, monkeypatch)  # config only: the same version again
    assert result.exit_code == 0, result.stderr
    assert _changed(before, _files(example)) == {"envs/prod-us/bluegreen.yaml", "envs/prod-us/bluegreen.lock.yaml"}
    after = _renders(example, monkeypatch)
    assert "batchSize: 500" in after["prod-us"]
    assert {e: after[e] for e in ("staging", "prod-eu")} == {e: renders[e] for e in ("staging", "prod-eu")}


def test_each_lock_in_the_repository_is_what_bgrender_writes(example, monkeypatch):
    """The committed locks are the commands' own output: `lock` again changes nothing."""
    for env in ENVIRONMENTS:
        result = run(["lock", f"envs/{env}"], example, monkeypatch)
        assert result.exit_code == 0, result.stderr
    assert _changed(_files(REPO / "examples" / "environments"), _files(example)) == set()
