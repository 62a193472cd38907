"""Random sequences of base edits, config edits, release (with and without a version), promote,
rollback and lock, rendered after every step.

A small model predicts every command's outcome (the edit, the no-op, or the refusal): which
color is active, what version each color has, and what each color runs, as (version, base
revision, config revision) pinned when it was released. A base edit bumps the base revision
(the CPU request of the base's container); a config edit (in an app with spec.configMaps) bumps
the config revision (a file of a ConfigMap). After each step the app is rendered and DESIGN §2,
§9 and §11 are checked:

- a base edit or a config edit alone never changes a rendered pod template, selector or
  ConfigMap once there is a lock;
- every color runs exactly what was pinned for it: its version, and the base and config of its
  release;
- Deployment, Service and PodDisruptionBudget selectors never change;
- promote and rollback never change any pod template;
- a manual release never changes the active color's Deployment;
- rollback puts production back on exactly the template that served before, or is refused
  with no file changed;
- the default route always targets a color that has a version and replicas;
- bluegreen.yaml always validates, and an edit changes at most two of its lines;
- a manual release over a pending one (released, never promoted) is refused unless --replace;
- what `--dry-run` shows before release, promote and rollback is what production runs after
  it (DESIGN §15): the diff shown equals the diff of the rendered templates and config;
- break-glass: a hand edit of `active` back to the release that served before renders, and
  the next edit records it as a promotion (so rollback works); a hand edit to any other
  release fails closed;
- weighted steps (DESIGN §18): `promote --percent N` writes spec.traffic (refused without an
  idle release or with idleReplicas 0), 0 or `rollback` take the share back, `promote` completes
  the switch and removes it, and `release` is refused while a share is out; none of them
  changes a pod template or a pin, and the production route sends the share exactly to the
  idle color, which runs at least the active color's replicas in the active color's wave.

Fixed seed (derandomize) and a bounded number of runs, so it is the same few seconds in CI.
"""

from __future__ import annotations

import copy
import difflib
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bgrender.app.pipeline import find_intent, render_app
from bgrender.colors import COLORS, other
from bgrender.errors import InvalidInput
from bgrender.lock.lockfile import Entry
from bgrender.release.diff import Side, production_diff

from ..conftest import SIDECAR_ENV, runner_env
from .conftest import HERE, bgrender_group

FIXTURES = sorted(p for p in (HERE / "fixtures").iterdir() if p.is_dir())
DIGEST = "sha256:" + "0123456789abcdef" * 4
# Tags that need quoting (20240601, 4e12345, true), ordinary ones, a digest, an invalid one;
# None releases the active color's version with the current base (a config-only release).
VERSIONS = st.sampled_from(["3f9c2e1d", "8a1b0c4e", "20240601", "4e12345", "v2.1.0-rc.1", "true", DIGEST, "bad/tag",
                            None])
INVALID = {"bad/tag"}
CPU = re.compile(rb"cpu: \d+m")
CONFIG = "config/app.properties"  # in fixtures with spec.configMaps
Run = tuple  # (version, base revision, config revision): what a color runs


class ReleaseCycle(RuleBasedStateMachine):
    @initialize(fixture=st.sampled_from(FIXTURES))
    def start(self, fixture: Path) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="bgrender-release-"))
        self.app = Path(shutil.copytree(fixture, self.workdir / fixture.name))
        self.intent = find_intent(self.app)
        self.lock_path = self.app / "bluegreen.lock.yaml"
        spec = yaml.safe_load(self.intent.read_bytes())["spec"]
        self.active: str = spec["active"]
        self.versions = {c: (spec.get(c) or {}).get("version") for c in COLORS}
        self.mode = (spec.get("promotion") or {}).get("mode", "manual")
        self.revision = 0
        self._set_base_revision()
        self.config_revision = 0
        self.has_config = (self.app / CONFIG).exists()
        self.locked = False
        self.runs: dict[str, Run | None] = self._from_base()
        self.history: dict[str, tuple[str, Run] | None] = {"current": None, "previous": None}
        self.served_before: dict[str, Any] | None = None
        self.pending: str | None = None  # the color holding a release never promoted
        self.recorded: Any = None  # production.current as the lock file has it (a break-glass edit leaves it)
        self.share = 0  # spec.traffic.percent: the idle color's share of production
        self.idle_off = spec.get("idleReplicas") == 0
        self.files = self._files()
        self.objects = self._render() if any(self.versions.values()) else []
        self.selectors: dict[str, Any] = {}
        self._remember_selectors()

    def teardown(self) -> None:
        if hasattr(self, "workdir"):
            shutil.rmtree(self.workdir)

    # --- commands -------------------------------------------------------------------------

    @rule()
    def edit_base(self) -> None:
        before = self.objects
        self.revision += 1
        self._set_base_revision()
        if not self.locked:
            self.runs = self._from_base()  # without a lock both colors render from the base
        if before:
            self.objects = self._render()
        if self.locked:
            assert self._templates(self.objects) == self._templates(before)

    @precondition(lambda self: self.has_config)
    @rule()
    def edit_config(self) -> None:
        before = self.objects
        self.config_revision += 1
        (self.app / CONFIG).write_text(f"revision = {self.config_revision}\n")
        if not self.locked:
            self.runs = self._from_base()  # without a lock both colors mount the current config
        if before:
            self.objects = self._render()
        if self.locked:
            assert self._templates(self.objects) == self._templates(before)
            assert self._config_maps(self.objects) == self._config_maps(before)

    @rule(version=VERSIONS, replace=st.booleans())
    def release(self, version: str | None, replace: bool) -> None:
        if not any(self.versions.values()):
            self._first_release(version)
            return
        active, idle = self.active, other(self.active)
        wanted = version or self.versions[active]
        new = (wanted, self.revision, self.config_revision)
        if self.share:
            outcome = "refused"  # the idle color serves part of production
        elif self.runs[idle] == new:
            outcome = "no-op"
        elif self.runs[active] == new or wanted in INVALID or (self.pending == idle and not replace):
            outcome = "refused"
        else:
            outcome = "edit"
        before = self.objects
        args = ["release", *([version] if version else []), str(self.app), *(["--replace"] if replace else [])]
        shown = self._dry_run(args, outcome)
        self._run(args, outcome)
        if outcome != "edit":
            return
        self._adopt()
        self.versions[idle], self.runs[idle] = wanted, new
        # What production runs after the release is promoted (auto: at once) is what was shown.
        self._assert_shown(shown, before, active, self.objects, idle)
        if self.mode == "auto":
            self._production_moves_to(idle)
        else:
            self.pending = idle
            name = self._deployment(before, active)["metadata"]["name"]
            assert self._deployment(self.objects, active) == self._by_name(before)[name]
        self.recorded = self.history["current"]

    def _first_release(self, version: str | None) -> None:
        outcome = "edit" if version and version not in INVALID else "refused"
        self._run(["release", *([version] if version else []), str(self.app)], outcome)
        if outcome == "edit":
            self.versions[self.active], self.runs[self.active] = version, (version, self.revision,
                                                                             self.config_revision)
            self.locked = True
            self.history = {"current": (self.active, self.runs[self.active]), "previous": None}
            self.recorded = self.history["current"]

    @rule()
    def promote(self) -> None:
        idle = other(self.active)
        outcome = "edit" if self.versions[idle] and self.versions[self.active] else "refused"
        before, active = self.objects, self.active
        shown = self._dry_run(["promote", str(self.app)], outcome)
        self._run(["promote", str(self.app)], outcome, removed=3 if self.share else 2)
        if outcome == "edit":
            self.share = 0
            self._adopt()
            self._assert_shown(shown, before, active, self.objects, idle)
            self._production_moves_to(idle)
            self.recorded = self.history["current"]
            assert self._templates(self.objects) == self._templates(before)

    @rule(percent=st.sampled_from([0, 1, 10, 50, 99]))
    def step(self, percent: int) -> None:
        """`promote --percent N`: a share of production for the idle color, or with 0 none."""
        args = ["promote", "--percent", str(percent), str(self.app)]
        if not any(self.versions.values()):
            outcome = "refused"  # a file without versions does not validate
        elif percent == self.share:
            outcome = "no-op"
        elif percent and (not all(self.versions.values()) or self.idle_off):
            outcome = "refused"  # no idle release, or it runs no pods
        else:
            outcome = "edit"
        before, active = self.objects, self.active
        shown = self._dry_run(args, outcome)
        self._run(args, outcome, prefix="take back" if percent == 0 else "step")
        if outcome != "edit":
            return
        self._adopt()
        if percent:
            self._assert_shown(shown, before, active, self.objects, other(active))
        self._share_taken(percent, before)

    def _share_taken(self, percent: int, before: list[dict[str, Any]]) -> None:
        self.share = percent
        assert self._templates(self.objects) == self._templates(before)  # nothing restarts
        assert _pins(before, self.objects)

    @rule()
    def rollback(self) -> None:
        active, idle = self.active, other(self.active)
        if self.share:  # during a weighted step: the share goes back to the active color
            before = self.objects
            self._dry_run(["rollback", str(self.app)], "edit")
            self._run(["rollback", str(self.app)], "edit", prefix="take back")
            self._share_taken(0, before)
            return
        previous, current = self.history["previous"], self.history["current"]
        outcome = "refused"
        if self.locked and self.versions[idle] and previous and current == (active, self.runs[active]) \
                and previous == (idle, self.runs[idle]):
            outcome = "edit"
        before = self.objects
        shown = self._dry_run(["rollback", str(self.app)], outcome)
        self._run(["rollback", str(self.app)], outcome)
        if outcome != "edit":
            return
        self._assert_shown(shown, before, active, self.objects, idle)
        self.active, self.pending = idle, None
        self.history = {"current": previous, "previous": None}
        self.recorded = previous
        assert self._templates(self.objects) == self._templates(before)
        assert self._deployment(self.objects, idle)["spec"]["template"] == self.served_before

    @rule()
    def lock(self) -> None:
        if not any(self.versions.values()):
            self._run(["lock", str(self.app)], "refused")  # a file without versions does not validate
            return
        now = (self.active, self.runs[self.active])
        changes = not self.locked or self.recorded != now or self.history["current"] != now
        self._run(["lock", str(self.app)], "edit" if changes else "no-op")
        if changes:
            self._adopt()
            now = (self.active, self.runs[self.active])
            if self.history["current"] != now:
                self.history = {"current": now, "previous": self.history["current"]}
            self.recorded = now

    # During a weighted step the flip would give the share to a release the lock records none
    # for, which fails closed (lockfile.share_problems): a break-glass takes the share back too.
    @precondition(lambda self: self.locked and self.history["previous"] is not None and not self.share
                  and self.history["previous"] == (other(self.active), self.runs[other(self.active)]))
    @rule()
    def break_glass(self) -> None:
        """Edit `active` by hand back to the release that served before: it renders."""
        idle = other(self.active)
        self._edit_active(idle)
        before = self.objects
        self.objects = self._render()
        assert self._templates(self.objects) == self._templates(before)  # nothing restarts
        self._production_moves_to(idle)  # as the next edit records it

    @precondition(lambda self: self.locked and self.versions[other(self.active)] is not None
                  and (other(self.active), self.runs[other(self.active)]) not in (self.history["current"],
                                                                                  self.history["previous"]))
    @rule()
    def hand_edit_active_to_a_release_that_never_served(self) -> None:
        """Any other hand edit of `active` fails closed, naming `bgrender promote`."""
        saved = self.intent.read_bytes()
        self._edit_active(other(self.active))
        try:
            render_app(self.intent, {})
        except InvalidInput as err:
            assert "`bgrender promote`" in str(err)
        else:
            raise AssertionError("a render put a release that never served on production")
        finally:
            self.intent.write_bytes(saved)
            self.files = self._files()

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def files_match_the_model(self) -> None:
        if not hasattr(self, "intent"):
            return
        spec = yaml.safe_load(self.intent.read_bytes())["spec"]
        assert spec["active"] == self.active
        assert {c: (spec.get(c) or {}).get("version") for c in COLORS} == self.versions
        assert self.lock_path.exists() == self.locked
        assert spec.get("traffic") == ({"percent": self.share} if self.share else None)

    @invariant()
    def every_color_runs_what_was_pinned_for_it(self) -> None:
        for color in COLORS:
            if getattr(self, "objects", None) and self.versions[color]:
                pod = self._deployment(self.objects, color)["spec"]["template"]["spec"]
                container = pod["containers"][0]
                version, revision, config_revision = self.runs[color]
                assert container["image"].endswith((f":{version}", f"@{version}"))
                assert container["resources"]["requests"]["cpu"] == f"{50 + revision}m"
                if self.has_config:
                    mounted = self._config_maps(self.objects)[pod["volumes"][0]["configMap"]["name"]]
                    assert mounted == {"app.properties": f"revision = {config_revision}\n"}

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
        destination = default["route"][0]["destination"]  # routing by host: the active color's Service
        assert "subset" not in destination and destination["host"].rsplit("-", 1)[1] == self.active
        weights = [(r["destination"]["host"].rsplit("-", 1)[1], r.get("weight")) for r in default["route"]]
        assert weights == ([(self.active, 100 - self.share), (other(self.active), self.share)] if self.share
                           else [(self.active, None)])
        if self.share:  # the color holding it runs what production runs, rolled out with it
            idle = self._deployment(self.objects, other(self.active))
            assert _wave(idle) == _wave(self._deployment(self.objects, self.active)) == 0
            assert idle["spec"]["template"]["metadata"]["annotations"]["bgrender.io/version"] == \
                self.versions[other(self.active)]
            assert _count(self.objects, idle) >= _count(self.objects, self._deployment(self.objects, self.active)) >= 1
        deployment = self._deployment(self.objects, self.active)
        hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in self.objects if h["kind"] == "HorizontalPodAutoscaler"}
        hpa = hpas.get(deployment["metadata"]["name"])
        assert ("replicas" not in deployment["spec"]) == (hpa is not None)  # the HPA owns them
        assert (hpa["spec"]["minReplicas"] if hpa else deployment["spec"]["replicas"]) >= 1
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["bgrender.io/version"] == self.versions[self.active]

    # --- helpers --------------------------------------------------------------------------

    def _adopt(self) -> None:
        """The first command that writes the lock pins what runs now, production included."""
        if not self.locked:
            self.locked = True
            self.history = {"current": (self.active, self.runs[self.active]), "previous": None}
            self.recorded = self.history["current"]

    def _edit_active(self, color: str) -> None:
        text = self.intent.read_bytes()
        edited = re.sub(rb"(?m)^(\s*active:\s*)(blue|green)", rb"\g<1>" + color.encode(), text, count=1)
        assert edited != text
        self.intent.write_bytes(edited)
        self.files = self._files()

    def _dry_run(self, args: list[str], outcome: str) -> str:
        """What `--dry-run` shows production would run next (before any file diff); nothing changes."""
        result = CliRunner().invoke(bgrender_group(), [*args, "--dry-run"], env=runner_env({}))
        assert self._files() == self.files
        if outcome != "edit":
            assert result.exit_code == (1 if outcome == "refused" else 0), result.stderr
            return ""
        assert result.exit_code == 0, result.stderr
        shown = result.stdout.split("\n--- /")[0] + "\n"
        return "".join(line for line in shown.splitlines(True) if not line.startswith("note: "))

    def _assert_shown(self, shown: str, before: list[dict[str, Any]], active: str, after: list[dict[str, Any]],
                      color: str) -> None:
        """The diff shown is the one between what production ran before and what `color` runs after,
        both as rendered (the pod template, its bgrender.io/release marks aside, and the ConfigMaps it mounts)."""
        now = _rendered_entry(before, active) if before else None
        assert shown == production_diff(Side(active, now), Side(color, _rendered_entry(after, color)))

    def _production_moves_to(self, color: str) -> None:
        """Record the move (after the render: the old color's template is the same before and after it)."""
        self.served_before = self._deployment(self.objects, self.active)["spec"]["template"]
        self.history = {"current": (color, self.runs[color]), "previous": (self.active, self.runs[self.active])}
        self.active, self.pending = color, None

    def _from_base(self) -> dict[str, Run | None]:
        return {c: (v, self.revision, self.config_revision) if v else None for c, v in self.versions.items()}

    def _set_base_revision(self) -> None:
        base = self.app / "deployment.yaml"
        base.write_bytes(CPU.sub(f"cpu: {50 + self.revision}m".encode(), base.read_bytes()))

    def _files(self) -> tuple[bytes, bytes | None]:
        return self.intent.read_bytes(), self.lock_path.read_bytes() if self.lock_path.exists() else None

    def _run(self, args: list[str], outcome: str, prefix: str | None = None, removed: int = 2) -> None:
        result = CliRunner().invoke(bgrender_group(), args, env=runner_env({}))
        after = self._files()
        assert "Traceback" not in result.stderr
        assert {p.name for p in self.app.iterdir()} <= {"bluegreen.yaml", "bluegreen.lock.yaml", "deployment.yaml",
                                                        "config", "serviceaccount.yaml"}
        if outcome == "refused":
            assert (result.exit_code, result.stdout, after) == (1, "", self.files), result.stderr
            return
        assert result.exit_code == 0, result.stderr
        if outcome == "no-op":
            assert (result.stdout, after) == ("", self.files)
            return
        assert result.stdout.count("\n") == 1 and result.stdout.startswith(
            prefix or args[0].replace("rollback", "roll back")), result.stdout
        _assert_small_edit(self.files[0], after[0], removed)
        self.files = after
        self.objects = self._render()  # raises if the written files do not render

    def _render(self) -> list[dict[str, Any]]:
        return render_app(self.intent, SIDECAR_ENV)

    def _remember_selectors(self) -> None:
        for obj in self.objects:
            if obj["kind"] in ("Deployment", "Service", "PodDisruptionBudget"):
                key = f"{obj['kind']}/{obj['metadata']['name']}"
                selector = obj["spec"]["selector"]
                if obj["kind"] == "Service" and not obj["metadata"]["name"].endswith(("-blue", "-green")):
                    # The app's Service selects the active color (DESIGN §16): the one selector that moves.
                    assert self.active in selector.values() and other(self.active) not in selector.values(), key
                    continue
                assert self.selectors.setdefault(key, selector) == selector, key

    @staticmethod
    def _templates(objects: list[dict[str, Any]]) -> dict[str, Any]:
        return {n: (d["spec"]["template"], d["spec"]["selector"]) for n, d in ReleaseCycle._by_name(objects).items()}

    @staticmethod
    def _config_maps(objects: list[dict[str, Any]]) -> dict[str, Any]:
        return {o["metadata"]["name"]: o["data"] for o in objects if o["kind"] == "ConfigMap"}

    @staticmethod
    def _by_name(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}

    @staticmethod
    def _deployment(objects: list[dict[str, Any]], color: str) -> dict[str, Any]:
        (found,) = [d for name, d in ReleaseCycle._by_name(objects).items() if name.endswith(f"-{color}")]
        return found


def _rendered_entry(objects: list[dict[str, Any]], color: str) -> Entry:
    """What a color runs as the render has it, as a lock entry: the template without the
    bgrender.io/release marks (its digest instead), and the data of the ConfigMaps it names."""
    deployment = ReleaseCycle._deployment(objects, color)
    template = copy.deepcopy(deployment["spec"]["template"])
    release = template["metadata"]["labels"].pop("bgrender.io/release")
    assert template["metadata"]["annotations"].pop("bgrender.io/release") == release
    named = set(re.findall(r"'name': '([^']+)'", repr(template)))
    config = {name: data for name, data in ReleaseCycle._config_maps(objects).items() if name in named}
    return Entry(template["metadata"]["annotations"]["bgrender.io/version"],
                 deployment["spec"]["selector"]["matchLabels"], template, f"sha256:{release}", config_maps=config)


def _wave(obj: dict[str, Any]) -> int:
    return int(obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])


def _count(objects: list[dict[str, Any]], deployment: dict[str, Any]) -> int:
    """A Deployment's replicas, or the fewest its HPA keeps."""
    hpas = [h for h in objects if h["kind"] == "HorizontalPodAutoscaler"
            and h["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]]
    return hpas[0]["spec"]["minReplicas"] if hpas else deployment["spec"]["replicas"]


def _pins(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> bool:
    """Every color runs the release it ran (its bgrender.io/release mark: the pinned entry's digest)."""
    def marks(objects: list[dict[str, Any]]) -> dict[str, str]:
        return {n: d["spec"]["template"]["metadata"]["labels"]["bgrender.io/release"]
                for n, d in ReleaseCycle._by_name(objects).items()}
    return marks(before) == marks(after)


def _assert_small_edit(before: bytes, after: bytes, removed: int = 2) -> None:
    """At most two lines removed (`removed`: promote also drops spec.traffic's two) and two
    added; every other line byte for byte the same."""
    old, new = before.decode().splitlines(True), after.decode().splitlines(True)
    changes = [line for line in difflib.ndiff(old, new) if line[:1] in "+-"]
    assert sum(c.startswith("-") for c in changes) <= removed and sum(c.startswith("+") for c in changes) <= 2, \
        changes
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
