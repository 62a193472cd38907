"""Two pull requests bgrender made from one state, merged as Git merges them (issue 26, class 1).

A release PR and a promote PR (or a rollback PR and a release PR) are each right, and they
touch different lines, so Git merges them cleanly. Before DESIGN §15's history check, the
merge rolled production in place to a build that never ran as the idle color. This state
machine walks an app through bgrender's own commands; at any state it may make two branches
with two commands, merge both files with `git merge-file` (Git's own three-way line merge;
the lock's history, whose digest both branches change, conflicts, and is resolved by taking one
side, as a hurried reviewer would), and render the result. The property: a render never puts on production a pod template that was
neither production's nor the idle color's in the state both branches started from; a merged
state that would is refused (fail closed: the history's digest does not match the merged
history, or the active color's entry is not one the history records as serving production).
Without the history check (plan.py's production_problems) it finds a release PR merged after a
promote PR within a few examples.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from bgrender.app.pipeline import find_intent, render_app
from bgrender.errors import InvalidInput

from ..conftest import SIDECAR_ENV, runner_env
from .conftest import HERE, bgrender_group

FILES = ("bluegreen.yaml", "bluegreen.lock.yaml")
COMMANDS = st.sampled_from([("release", "v7"), ("release", "v8", "--replace"), ("release", "--replace"),
                            ("promote",), ("rollback",), ("promote", "--percent", "10"),
                            ("promote", "--percent", "0")])


class MergedBranches(RuleBasedStateMachine):
    @initialize(fixture=st.sampled_from(["manual", "companions"]))
    def start(self, fixture: str) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="bgrender-merge-"))
        self.app = Path(shutil.copytree(HERE / "fixtures" / fixture, self.workdir / "main"))
        assert _bgrender(["lock", str(self.app)]).exit_code == 0
        self.branches = 0

    def teardown(self) -> None:
        if hasattr(self, "workdir"):
            shutil.rmtree(self.workdir)

    @rule(command=COMMANDS)
    def step(self, command: tuple[str, ...]) -> None:
        """Merge one pull request: the main line moves on (a refusal leaves it as it was)."""
        _bgrender([command[0], *command[1:], str(self.app)])

    @rule(first=COMMANDS, second=COMMANDS, resolve=st.sampled_from(["--ours", "--theirs"]))
    def merge_two_pull_requests(self, first: tuple[str, ...], second: tuple[str, ...], resolve: str) -> None:
        before = _rendered(self.app)
        branches = [self._branch(command) for command in (first, second)]
        merged = self._branch(())
        for name in FILES:
            texts = [p / name for p in (merged, *branches)]
            if not all(p.exists() for p in texts):
                return
            # A conflict (the lock's history digest changes in both) resolved by taking one side's
            # lines, as a hurried reviewer would; bluegreen.yaml's one-line edits merge cleanly.
            done = subprocess.run(["git", "merge-file", "-p", resolve, str(texts[1]), str(texts[0]), str(texts[2])],
                                  capture_output=True, check=True)
            (merged / name).write_bytes(done.stdout)
        try:
            after = _rendered(merged)
        except InvalidInput:
            # Refused (fail closed): the history names `bgrender promote`, or the lock no longer
            # matches bluegreen.yaml (a version or digest differs); either way nothing is applied.
            return
        allowed = {_template(before, "production"), _template(before, "idle")}
        assert _template(after, "production") in allowed, (first, second)
        # A share of production (DESIGN §18) goes only to a build of the state both branches
        # started from (a step was made for it), never to one a release merged beside it brings.
        if _shared(after):
            assert _template(after, "idle") in allowed, (first, second)
        for name in FILES:  # the merge is the new main line
            shutil.copyfile(merged / name, self.app / name)

    def _branch(self, command: tuple[str, ...]) -> Path:
        self.branches += 1
        branch = Path(shutil.copytree(self.app, self.workdir / f"branch-{self.branches}"))
        if command:
            _bgrender([command[0], *command[1:], str(branch)])
        return branch


def _bgrender(args: list[str]) -> Any:
    result = CliRunner().invoke(bgrender_group(), args, env=runner_env(SIDECAR_ENV))
    assert result.exit_code in (0, 1) and "Traceback" not in result.stderr, result.stderr
    return result


def _rendered(app: Path) -> list[dict[str, Any]]:
    return render_app(find_intent(app), SIDECAR_ENV)


def _shared(objects: list[dict[str, Any]]) -> bool:
    """Whether the production route gives the idle color a share (two weighted destinations)."""
    return any(len(o["spec"]["http"][-1]["route"]) > 1 for o in objects if o["kind"] == "VirtualService")


def _template(objects: list[dict[str, Any]], role: str) -> Any:
    """The pod template of the color Deployment with this bgrender.io/role (None: no such color)."""
    found = [o["spec"]["template"] for o in objects if o["kind"] == "Deployment"
             and o["metadata"]["labels"].get("bgrender.io/role") == role]
    return repr(found[0]) if found else None


MergedBranches.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=6,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMergedBranches = MergedBranches.TestCase


@pytest.mark.parametrize("resolve", ["--ours", "--theirs"])
def test_a_step_and_a_release_merged_never_share_the_new_build(tmp_path: Path, resolve: str) -> None:
    """A step pull request (a share for the idle release) and a release pull request (a new build
    on the idle color) touch different lines of bluegreen.yaml and merge cleanly there; the
    render must not give the share to the build nobody stepped to."""
    base = Path(shutil.copytree(HERE / "fixtures" / "manual", tmp_path / "base"))
    # Blue idle: the step's lines (after the green block) are then no neighbours of the release's.
    assert _bgrender(["promote", str(base)]).exit_code == 0
    step, release = (Path(shutil.copytree(base, tmp_path / name)) for name in ("step", "release"))
    assert _bgrender(["promote", "--percent", "10", str(step)]).exit_code == 0
    assert _bgrender(["release", "v7", "--replace", str(release)]).exit_code == 0
    for name in FILES:
        done = subprocess.run(["git", "merge-file", "-p", resolve, str(step / name), str(base / name),
                               str(release / name)], capture_output=True, check=True)
        (base / name).write_bytes(done.stdout)
    text = (base / "bluegreen.yaml").read_text()
    assert "percent: 10" in text and '"v7"' in text  # Git merged both edits
    with pytest.raises(InvalidInput):
        _rendered(base)
