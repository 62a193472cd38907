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


def test_concurrent_edits_of_one_app_lose_no_update(tmp_path: Path):
    """A release and a promotion started together (two CI jobs, a person and a bot) are applied
    one after the other: each that says it did its change finds it in the files afterwards.
    Before the edit lock, about a third of such pairs lost one change while both said they made it."""
    import shutil

    import yaml

    from ..conftest import EXAMPLES

    example = next(e for e in EXAMPLES if e.name == "gorilla-sfx-demo")
    for attempt in range(20):
        app = Path(shutil.copytree(example, tmp_path / str(attempt)))
        commands = [[BGRENDER, "release", "9b8c7d6e", str(app)], [BGRENDER, "promote", str(app)]]
        started = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
        (released, _), (promoted, _) = (p.communicate(timeout=120) for p in started)
        assert [p.returncode for p in started] == [0, 0] and released and promoted
        spec = yaml.safe_load((app / "bluegreen.yaml").read_text())["spec"]
        # Either order ends with green active and 9b8c7d6e released: to green then promoted, or
        # released to blue once green was promoted.
        assert spec["active"] == "green", attempt
        assert "9b8c7d6e" in (spec["blue"]["version"], spec["green"]["version"]), attempt
        lock = yaml.safe_load((app / "bluegreen.lock.yaml").read_text())
        assert {c: e["version"] for c, e in lock["colors"].items()} == {c: spec[c]["version"] for c in spec
                                                                       if c in ("blue", "green")}
        assert subprocess.run([BGRENDER, "render", str(app)], capture_output=True).returncode == 0


def _hold(directory: Path) -> int:
    """Takes the app's edit lock as another bgrender edit would; close the fd to release it."""
    import fcntl

    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_an_edit_says_what_it_waits_for_and_goes_on_once_the_lock_is_free(tmp_path: Path):
    import shutil

    from ..conftest import EXAMPLES

    app = Path(shutil.copytree(next(e for e in EXAMPLES if e.name == "gorilla-sfx-demo"), tmp_path / "app"))
    fd = _hold(app)
    edit = subprocess.Popen([BGRENDER, "promote", str(app)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert edit.stderr is not None
    first = edit.stderr.readline()  # the event: it says it waits, and has written nothing
    assert first == f"waiting for another bgrender edit of {app}\n"
    assert "active: blue" in (app / "bluegreen.yaml").read_text()
    os.close(fd)
    out, rest = edit.communicate(timeout=60)
    assert edit.returncode == 0, rest
    assert "active: green" in (app / "bluegreen.yaml").read_text()


def test_a_hung_holder_of_the_lock_is_waited_for_a_bounded_time(tmp_path: Path):
    from bgrender.app.files import EditLock, EditLocked

    fd = _hold(tmp_path)
    said = []
    try:
        lock = EditLock(str(tmp_path), timeout=0.3, waiting=lambda: said.append("waiting"))
        try:
            with lock:
                raise AssertionError("took a lock another process holds")
        except EditLocked as err:
            assert "another bgrender edit has held this app for 0.3 s" in str(err)
        assert said == ["waiting"]
    finally:
        os.close(fd)
    with EditLock(str(tmp_path), timeout=0.3):  # free again: taken at once
        pass
