"""Random sequences of release, promote and rollback, rendered after every step.

A small model (which color is active, what version each color has) predicts every command's
outcome: the edit, the no-op, or the refusal. After each step the app is rendered and the
invariants of DESIGN §2 are checked:

- Deployment and Service selectors never change;
- promote and rollback never change any pod template;
- a manual release never changes the active color's Deployment;
- the default route always targets a color that has a version and replicas;
- the file always validates, and an edit changes at most two lines, nothing else.

Fixed seed (derandomize) and a bounded number of runs, so it is the same few seconds in CI.
"""

from __future__ import annotations

import difflib
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from bgrender.colors import COLORS, other
from bgrender.pipeline import find_intent, render_app

from ..conftest import runner_env
from .conftest import HERE, bgrender_group

FIXTURES = sorted(p for p in (HERE / "fixtures").iterdir() if p.is_dir())
DIGEST = "sha256:" + "0123456789abcdef" * 4
# Tags that need quoting (20240601, 4e12345, true), ordinary ones, a digest, an invalid one.
VERSIONS = st.sampled_from(["3f9c2e1d", "8a1b0c4e", "20240601", "4e12345", "v2.1.0-rc.1", "true", DIGEST, "bad/tag"])
INVALID = {"bad/tag"}


class ReleaseCycle(RuleBasedStateMachine):
    @initialize(fixture=st.sampled_from(FIXTURES))
    def start(self, fixture: Path) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="bgrender-release-"))
        self.app = Path(shutil.copytree(fixture, self.workdir / fixture.name))
        self.intent = find_intent(self.app)
        spec = yaml.safe_load(self.intent.read_bytes())["spec"]
        self.active: str = spec["active"]
        self.versions = {c: (spec.get(c) or {}).get("version") for c in COLORS}
        self.mode = (spec.get("promotion") or {}).get("mode", "manual")
        self.text = self.intent.read_bytes()
        self.objects = self._render() if any(self.versions.values()) else []
        self.selectors: dict[str, Any] = {}
        self._remember_selectors()

    def teardown(self) -> None:
        if hasattr(self, "workdir"):
            shutil.rmtree(self.workdir)

    # --- commands -------------------------------------------------------------------------

    @rule(version=VERSIONS)
    def release(self, version: str) -> None:
        idle = other(self.active)
        first = not any(self.versions.values())
        if first:
            outcome, target = "edit", self.active
        elif version == self.versions[idle]:
            outcome, target = "no-op", None
        elif version == self.versions[self.active] or version in INVALID:
            outcome, target = "refused", None
        else:
            outcome, target = "edit", idle
        before = self.objects
        self._run(["release", version], outcome)
        if outcome != "edit":
            return
        self.versions[target] = version
        if self.mode == "auto" and not first:
            self.active = target
        if self.mode == "manual" and not first:
            name = self._deployment(before, self.active)["metadata"]["name"]
            assert self._deployment(self.objects, self.active) == self._by_name(before)[name]

    @rule(command=st.sampled_from(["promote", "rollback"]))
    def switch(self, command: str) -> None:
        idle = other(self.active)
        outcome = "edit" if self.versions[idle] else "refused"
        if outcome == "edit" and not self.versions[self.active]:
            outcome = "refused"  # a file without any version is invalid: nothing to switch
        before = self.objects
        self._run([command], outcome)
        if outcome != "edit":
            return
        self.active = idle
        before_templates = {n: d["spec"]["template"] for n, d in self._by_name(before).items()}
        after_templates = {n: d["spec"]["template"] for n, d in self._by_name(self.objects).items()}
        assert after_templates == before_templates

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def file_matches_the_model(self) -> None:
        if not hasattr(self, "intent"):
            return
        spec = yaml.safe_load(self.intent.read_bytes())["spec"]
        assert spec["active"] == self.active
        assert {c: (spec.get(c) or {}).get("version") for c in COLORS} == self.versions

    @invariant()
    def selectors_never_change(self) -> None:
        if hasattr(self, "selectors"):
            self._remember_selectors()

    @invariant()
    def production_goes_to_a_color_with_a_version_and_replicas(self) -> None:
        if not getattr(self, "objects", None):
            return
        (service,) = [o for o in self.objects if o["kind"] == "VirtualService"]
        default = service["spec"]["http"][-1]
        assert "match" not in default
        assert default["route"][0]["destination"]["subset"] == self.active
        deployment = self._deployment(self.objects, self.active)
        assert deployment["spec"]["replicas"] >= 1
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["bgrender.io/version"] == self.versions[self.active]

    # --- helpers --------------------------------------------------------------------------

    def _run(self, args: list[str], outcome: str) -> None:
        result = CliRunner().invoke(bgrender_group(), [*args, str(self.app)], env=runner_env({}))
        after = self.intent.read_bytes()
        assert "Traceback" not in result.stderr
        assert sorted(p.name for p in self.app.iterdir()) == ["bluegreen.yaml", "deployment.yaml"]
        if outcome == "refused":
            assert (result.exit_code, result.stdout, after) == (1, "", self.text), result.stderr
            return
        assert result.exit_code == 0, result.stderr
        if outcome == "no-op":
            assert (result.stdout, after) == ("", self.text)
            return
        assert result.stdout.count("\n") == 1 and result.stdout.startswith(args[0].replace("rollback", "roll back"))
        _assert_small_edit(self.text, after)
        self.text = after
        self.objects = self._render()  # raises if the written file does not validate

    def _render(self) -> list[dict[str, Any]]:
        return render_app(self.intent, {})

    def _remember_selectors(self) -> None:
        for obj in self.objects:
            if obj["kind"] in ("Deployment", "Service"):
                key = f"{obj['kind']}/{obj['metadata']['name']}"
                selector = obj["spec"]["selector"]
                assert self.selectors.setdefault(key, selector) == selector, key

    @staticmethod
    def _by_name(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}

    @staticmethod
    def _deployment(objects: list[dict[str, Any]], color: str) -> dict[str, Any]:
        (found,) = [d for name, d in ReleaseCycle._by_name(objects).items() if name.endswith(f"-{color}")]
        return found


def _assert_small_edit(before: bytes, after: bytes) -> None:
    """At most two lines removed and two added; every other line byte for byte the same."""
    old, new = before.decode().splitlines(True), after.decode().splitlines(True)
    changes = [line for line in difflib.ndiff(old, new) if line[:1] in "+-"]
    assert sum(c.startswith("-") for c in changes) <= 2 and sum(c.startswith("+") for c in changes) <= 2, changes
    assert (b"\r\n" in after) == (b"\r\n" in before)


ReleaseCycle.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=12,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestReleaseCycle = ReleaseCycle.TestCase
