"""The traffic path is part of a release (DESIGN §15; issue 26, class 2).

An edit of the base's containerPort, released nowhere, must not move any Service's target
port: both pinned colors still listen on the old one, and production would lose its endpoints
at the next sync. The port reaches a color's Service with its release, the app's Service with
the promotion, and a rollback brings the old one back with the template.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from bgrender.app.pipeline import find_intent, render_app

from .conftest import runner_env
from .release.conftest import HERE, bgrender_group


def _bgrender(*args: str) -> None:
    result = CliRunner().invoke(bgrender_group(), list(args), env=runner_env({}))
    assert result.exit_code == 0, result.stderr


def _targets(app: Path) -> dict[str, object]:
    """Each Service's target port, by name."""
    return {o["metadata"]["name"]: o["spec"]["ports"][0]["targetPort"]
            for o in render_app(find_intent(app), {}) if o["kind"] == "Service"}


def _edit_port(app: Path, port: int) -> None:
    base = app / "deployment.yaml"
    text = base.read_text()
    old = next(line for line in text.splitlines() if "containerPort:" in line)
    new = old.split("containerPort:")[0] + f"containerPort: {port}"
    base.write_text(text.replace(old, new))


def test_a_port_edit_reaches_services_only_through_release_promote_and_back_with_rollback(tmp_path: Path) -> None:
    app = Path(shutil.copytree(HERE / "fixtures" / "manual", tmp_path / "app"))
    _bgrender("lock", str(app))
    before = _targets(app)
    service, blue, green = sorted(before)
    assert set(before.values()) == {9090}

    _edit_port(app, 8080)
    assert _targets(app) == before  # no release: nothing moves

    _bgrender("release", str(app))  # a config-only release of the new port to the idle color (green)
    assert _targets(app) == {service: 9090, blue: 9090, green: 8080}

    _bgrender("promote", str(app))
    assert _targets(app) == {service: 8080, blue: 9090, green: 8080}

    _bgrender("rollback", str(app))
    assert _targets(app) == {service: 9090, blue: 9090, green: 8080}
