"""A Secret's values never enter the lock, a log line, a diff or a message (DESIGN §19,
SECURITY.md): every Secret of these apps holds a canary (`s3cr3t-CANARY-...`, as written and
base64-encoded), and every command is run on them, with debug logs and as Argo CD runs the
plugin. The canary may appear in one place only: the data of a Secret in `render`'s stdout.
`status` is checked the same way in tests/cluster/test_secret_values_status.py.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bgrender.cli.main import cli

from .conftest import GOLDEN, case_env, runner_env

RELEASE_GOLDEN = GOLDEN.parents[1] / "tests" / "release" / "golden"

CANARY = "CANARY"
APPS = [GOLDEN / "render" / "versioned-secrets-first-render", GOLDEN / "render" / "versioned-secret-pinned-by-the-lock",
        RELEASE_GOLDEN / "release-versioned-secret", GOLDEN / "warnings" / "every-reference-form"]
FAILING = [GOLDEN / "errors" / name for name in (
    "versioned-resources-refused", "versioned-secret-key-missing-or-unused", "secret-keys-and-values-the-api-rejects",
    "versioned-version-no-longer-in-resources", "lock-versioned-edited-by-hand")]
DEBUG_UNDER_ARGOCD = {"ARGOCD_ENV_BGRENDER_LOG_LEVEL": "debug", "ARGOCD_APP_NAME": "shop-web",
                      "ARGOCD_APP_REVISION": "0123abc"}


def _secret_values(app: Path) -> set[str]:
    """Every value of every Secret the app's files hold, as written (data is base64), and decoded."""
    values: set[str] = set()
    for file in app.glob("*.yaml"):
        for doc in yaml.safe_load_all(file.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "Secret":
                values |= {str(v) for v in (doc.get("stringData") or {}).values()}
                for value in (doc.get("data") or {}).values():
                    values |= {str(value), _decoded(str(value))}
    return values


def _leaks(text: str, values: set[str]) -> list[str]:
    """What of the canaries `text` holds: the marker, a value, or a value base64-encoded."""
    secret = {v for v in values if CANARY in v} | {v for v in values if CANARY in _decoded(v)}
    needles = {CANARY, *secret, *(base64.b64encode(v.encode()).decode() for v in secret)}
    return sorted(n for n in needles if n in text)


def _decoded(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode()
    except ValueError:
        return ""


def _run(app: Path, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=runner_env({**case_env(app), **(env or {})}))


@pytest.fixture(params=APPS + FAILING, ids=lambda p: p.name)
def app(request, tmp_path, monkeypatch):
    copy = Path(shutil.copytree(request.param, tmp_path / request.param.name, symlinks=True))
    for expected in copy.glob("expected*"):
        expected.unlink()
    monkeypatch.chdir(copy)
    assert _secret_values(copy) and any(CANARY in v for v in _secret_values(copy)), "the case holds a canary"
    return copy


def test_render_shows_a_secret_value_only_in_the_secret_itself(app):
    values = _secret_values(app)
    result = _run(app, "render", env=DEBUG_UNDER_ARGOCD)
    assert not _leaks(result.stderr, values), result.stderr
    for doc in yaml.safe_load_all(result.stdout):
        if doc and doc["kind"] == "Secret":
            doc = {k: v for k, v in doc.items() if k not in ("data", "stringData")}
        assert not _leaks(yaml.safe_dump(doc), values), doc


@pytest.mark.parametrize("command", [("validate", "."), ("diff", "."), ("release", "--dry-run", "."),
                                     ("promote", "--dry-run", "."), ("lock", "."), ("release", "."),
                                     ("promote", "."), ("rollback", ".")], ids=" ".join)
def test_no_command_prints_or_writes_a_secret_value(app, command):
    values = _secret_values(app)
    result = _run(app, *command, env={"ARGOCD_ENV_BGRENDER_LOG_LEVEL": "debug"})
    assert "Traceback" not in result.stderr
    assert not _leaks(result.stdout + result.stderr, values), (result.stdout, result.stderr)
    lock = app / "bluegreen.lock.yaml"
    assert not lock.exists() or not _leaks(lock.read_text(), values)


def test_a_release_then_a_promotion_keep_every_value_out_of_the_lock(tmp_path, monkeypatch):
    """The release golden's rotation carried through: release, diff, promote, rollback."""
    app = Path(shutil.copytree(RELEASE_GOLDEN / "release-versioned-secret", tmp_path / "app"))
    monkeypatch.chdir(app)
    values = _secret_values(app)
    for command in (("release", "."), ("diff", "."), ("promote", "."), ("rollback", ".")):
        result = _run(app, *command, env={"ARGOCD_ENV_BGRENDER_LOG_LEVEL": "debug"})
        assert result.exit_code == 0, result.stderr
        assert not _leaks(result.stdout + result.stderr + (app / "bluegreen.lock.yaml").read_text(), values)
    lock = yaml.safe_load((app / "bluegreen.lock.yaml").read_text())
    assert {name.rpartition("-")[0] for c in lock["colors"].values() for name in c["versioned"]} >= {"web-db"}
