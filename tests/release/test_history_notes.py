"""What `validate` and `release` say about the production history (DESIGN §15): the change a
rollback undid, still in the base or brought back by a release, and a break-glass edit of
`active` the history does not record yet."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from ..conftest import runner_env
from .conftest import HERE, bgrender_group


def _bgrender(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(bgrender_group(), list(args), env=runner_env({}))
    return result.exit_code, result.stdout, result.stderr


def _app(tmp_path: Path) -> Path:
    app = Path(shutil.copytree(HERE / "fixtures" / "manual", tmp_path / "app"))
    assert _bgrender("lock", str(app))[0] == 0
    return app


def _set_cpu(app: Path, cpu: str) -> None:
    base = app / "deployment.yaml"
    base.write_text(re.sub(r"cpu: \d+m", f"cpu: {cpu}", base.read_text(), count=1))


def test_a_change_production_was_rolled_back_from_is_named_until_it_is_gone(tmp_path: Path) -> None:
    app = _app(tmp_path)
    _set_cpu(app, "75m")
    assert _bgrender("release", str(app))[0] == 0  # a config-only release of the new request
    assert _bgrender("promote", str(app))[0] == 0
    assert _bgrender("rollback", str(app))[0] == 0
    code, _, err = _bgrender("validate", str(app))
    assert code == 0
    assert "the base still holds changes production was rolled back from (green " in err
    assert "resources: gorilla-sfx-demo" in err
    code, out, err = _bgrender("release", "6a0b1c2d", str(app), "--dry-run")
    assert code == 0 and "note: this release brings back changes production was rolled back from" in out
    code, out, err = _bgrender("diff", str(app))
    assert code == 0 and out.startswith("production: blue 3f9c2e1d -> green 3f9c2e1d: image: unchanged; ")
    _set_cpu(app, "50m")  # the base as production runs it again: nothing to say
    code, _, err = _bgrender("validate", str(app))
    assert code == 0 and "rolled back" not in err


def test_validate_says_when_a_break_glass_edit_is_not_recorded_yet(tmp_path: Path) -> None:
    app = _app(tmp_path)
    assert _bgrender("release", "5d7e9f01", str(app))[0] == 0
    assert _bgrender("promote", str(app))[0] == 0
    intent = app / "bluegreen.yaml"
    intent.write_text(re.sub(r"active:( +)green", r"active:\1blue", intent.read_text()))
    code, _, err = _bgrender("validate", str(app))
    assert code == 0 and "spec.active was moved by hand back to the release that served before" in err
    assert _bgrender("render", str(app))[0] == 0
    assert _bgrender("rollback", str(app))[1] == "roll back gorilla-sfx-demo to green 5d7e9f01 (blue 3f9c2e1d " \
                                                 "becomes idle)\n"


def test_no_lock_yet_is_said(tmp_path: Path) -> None:
    app = Path(shutil.copytree(HERE / "fixtures" / "manual", tmp_path / "app"))
    code, out, _ = _bgrender("diff", str(app))
    assert (code, out) == (0, "gorilla-sfx-demo: no bluegreen.lock.yaml yet, so no release is pinned to compare; "
                              "`bgrender lock` pins what the colors run now\n")
