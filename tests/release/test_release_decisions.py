"""release.py, the use case: what each command writes into bluegreen.yaml and its lock, what it
refuses, and the line it prints (DESIGN §6, §9). Texts in, texts out: nothing is written here.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import yaml

from bgrender.app.pipeline import AppTexts, load_app, render_app
from bgrender.errors import InvalidInput, RefusedEdit
from bgrender.lock.lockfile import LOCK_FILE, digest_of
from bgrender.release import edits as use_case
from bgrender.release.edits import Outcome, Source
from bgrender.yamlfile.document import load_document

from .conftest import BASE_DEPLOYMENT


def intent(active="blue", blue="b1", green="g1", mode=None) -> str:
    lines = ["apiVersion: bgrender.io/v1alpha1", "kind: BlueGreen", "metadata:", "  name: shop", "spec:",
             "  image: registry.example.com/shop", f"  active: {active}"]
    for color, version in (("blue", blue), ("green", green)):
        if version is not None:
            lines += [f"  {color}:", f"    version: {version}"]
    lines += ["  deployment: deployment.yaml"]
    if mode:
        lines += ["  promotion:", f"    mode: {mode}", "    smokeTest: {path: /healthz}"]
    return "\n".join(lines) + "\n"


class App:
    """An app directory whose files the use case reads through its Source, and which the test
    updates with each Outcome, as release_cli would."""

    def __init__(self, directory: Path, text: str):
        directory.mkdir()
        self.dir = directory
        (directory / "deployment.yaml").write_bytes(BASE_DEPLOYMENT.read_bytes())
        self.texts = AppTexts(text, None)

    def source(self) -> Source:
        return Source("bg.yaml", self.texts, partial(load_app, self.dir / "bluegreen.yaml", {}))

    def run(self, command, *args) -> Outcome:
        outcome = command(self.source(), *args)
        self.texts = AppTexts(outcome.intent or self.texts.intent,
                              outcome.lock if outcome.lock is not None else self.texts.lock)
        return outcome

    def edit_base(self, old: str, new: str) -> None:
        base = self.dir / "deployment.yaml"
        text = base.read_text()
        assert old in text
        base.write_text(text.replace(old, new))

    @property
    def lock(self) -> dict:
        return yaml.safe_load(self.texts.lock)

    def templates(self) -> dict[str, dict]:
        (self.dir / "bluegreen.yaml").write_text(self.texts.intent)
        if self.texts.lock is not None:
            (self.dir / LOCK_FILE).write_text(self.texts.lock)
        return {d["metadata"]["name"].rsplit("-", 1)[1]: d["spec"]["template"]
                for d in render_app(self.dir / "bluegreen.yaml", {}) if d["kind"] == "Deployment"}


@pytest.fixture
def app(tmp_path: Path) -> App:
    return App(tmp_path / "app", intent())


def test_manual_release_pins_the_idle_color_and_touches_nothing_else(app):
    outcome = app.run(use_case.release, "v9")
    assert outcome.summary == "release shop v9 to green (production stays on blue)"
    assert outcome.intent == intent(green="v9")
    lock = app.lock
    assert (lock["apiVersion"], lock["kind"]) == ("bgrender.io/v1alpha1", "BlueGreenLock")
    assert lock["colors"]["green"]["version"] == "v9"
    assert lock["colors"]["green"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/shop:v9"
    assert lock["colors"]["blue"]["version"] == "b1"
    history = {"current": {"color": "blue", "version": "b1", "digest": lock["colors"]["blue"]["digest"]},
               "pending": {"color": "green", "version": "v9", "digest": lock["colors"]["green"]["digest"]}}
    assert lock["production"] == {**history, "digest": digest_of(history)}
    assert outcome.lock.startswith("# Written by bgrender")


def test_auto_release_also_promotes_and_records_production(tmp_path):
    app = App(tmp_path / "app", intent(active="green", mode="auto"))
    outcome = app.run(use_case.release, "v9")
    assert outcome.summary == "release shop v9 to blue and promote it (green g1 becomes idle)"
    assert outcome.intent == intent(active="blue", blue="v9", mode="auto")
    assert [app.lock["production"][k]["version"] for k in ("current", "previous")] == ["v9", "g1"]


@pytest.mark.parametrize("mode", [None, "auto"])
def test_the_first_release_goes_to_the_active_color(tmp_path, mode):
    app = App(tmp_path / "app", intent(active="green", blue=None, green=None, mode=mode))
    outcome = app.run(use_case.release, "v1")
    assert outcome.summary == "release shop v1 to green (first release; green serves production)"
    assert list(app.lock["colors"]) == ["green"]
    assert app.lock["production"]["current"]["version"] == "v1"


def test_a_first_release_needs_a_version(tmp_path):
    app = App(tmp_path / "app", intent(blue=None, green=None))
    with pytest.raises(RefusedEdit, match="no color has a version yet"):
        app.run(use_case.release, None)


def test_a_base_edit_reaches_no_color_until_a_config_only_release_pins_it_on_the_idle_one(app):
    app.run(use_case.lock)
    before = app.templates()
    app.edit_base("memory: 128Mi", "memory: 256Mi")
    assert app.templates() == before  # production did not roll: the lock pins both colors
    outcome = app.run(use_case.release, None)
    assert outcome.summary == "release shop b1 with the current base to green (production stays on blue)"
    after = app.templates()
    assert after["blue"] == before["blue"]
    assert after["green"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "256Mi"
    assert after["green"]["spec"]["containers"][0]["image"] == "registry.example.com/shop:b1"


def test_releasing_what_the_idle_color_holds_changes_nothing(app):
    app.run(use_case.lock)
    outcome = app.run(use_case.release, "g1")
    assert (outcome.intent, outcome.lock, outcome.changed) == (None, None, False)
    assert "g1 built from the current base is already on green (idle); nothing to release" in outcome.summary


def test_the_same_version_with_a_changed_base_is_a_new_release(app):
    app.run(use_case.lock)
    app.edit_base("cpu: 50m", "cpu: 100m")
    outcome = app.run(use_case.release, "g1")
    assert outcome.summary == "release shop g1 with the current base to green (production stays on blue)"
    assert outcome.intent is None and outcome.lock is not None


@pytest.mark.parametrize("version", ["b1", None])
def test_releasing_what_production_runs_is_refused(app, version):
    app.run(use_case.lock)
    with pytest.raises(RefusedEdit, match=r"^bg\.yaml:9:14: spec\.blue\.version: b1 built from the current base "
                                          "already serves production on blue"):
        app.run(use_case.release, version)


def test_promote_records_the_history_and_changes_no_template(app):
    app.run(use_case.lock)
    before = app.templates()
    outcome = app.run(use_case.promote)
    assert outcome.summary == "promote shop green g1 to production (blue b1 becomes idle)"
    assert app.templates() == before
    assert [app.lock["production"][k]["color"] for k in ("current", "previous")] == ["green", "blue"]


def test_rollback_returns_to_exactly_what_served_before(app):
    app.run(use_case.release, "v2")
    served = app.templates()["blue"]
    app.run(use_case.promote)
    outcome = app.run(use_case.rollback)
    assert outcome.summary == "roll back shop to blue b1 (green v2 becomes idle)"
    assert "active: blue" in app.texts.intent and app.templates()["blue"] == served
    with pytest.raises(RefusedEdit, match="records no earlier production release"):
        app.run(use_case.rollback)  # a second rollback is no flip back


def test_rollback_refuses_when_the_idle_color_no_longer_holds_the_previous_release(app):
    app.run(use_case.release, "v5")
    app.run(use_case.promote)
    app.run(use_case.release, "v6")  # overwrites blue, which held b1, the release before v5
    with pytest.raises(RefusedEdit) as refused:
        app.run(use_case.rollback)
    assert str(refused.value) == (
        "bg.yaml:9:14: spec.blue.version: blue no longer holds the release that served production before (b1 on "
        "blue); rolling back would put an untested build on production; `bgrender release b1` brings that version "
        "back through blue/green, built from the current base")


def test_a_hand_edit_of_active_back_to_the_release_before_counts_as_a_promotion(app):
    """Break-glass: `active` edited by hand back to what served before renders, and the next edit
    records it as a promotion, so that `rollback` works after it (before, it said the lock
    records no earlier release)."""
    app.run(use_case.release, "v5")
    app.run(use_case.promote)
    app.texts = app.texts.replace(intent=app.texts.intent.replace("active: green", "active: blue"))  # by hand
    outcome = app.run(use_case.rollback)
    assert outcome.summary == "roll back shop to green v5 (blue b1 becomes idle)"
    assert app.lock["production"]["rolledBack"]["version"] == "b1"


def test_a_hand_edit_of_active_recorded_by_lock(app):
    app.run(use_case.release, "v5")
    app.run(use_case.promote)
    app.texts = app.texts.replace(intent=app.texts.intent.replace("active: green", "active: blue"))  # by hand
    assert app.run(use_case.lock).summary == "lock shop: record what serves production"
    assert [app.lock["production"][k]["version"] for k in ("current", "previous")] == ["b1", "v5"]


def test_a_pending_release_is_replaced_only_with_replace(app):
    app.run(use_case.release, "v5")
    with pytest.raises(RefusedEdit, match="green holds v5, released and never promoted: a pending release; .*"
                                          "`bgrender release --replace` replaces it"):
        app.run(use_case.release, "v6")
    assert app.run(use_case.release, "v6", True).summary == "release shop v6 to green (production stays on blue)"
    assert app.lock["production"]["pending"]["version"] == "v6"
    app.run(use_case.promote)
    assert "pending" not in app.lock["production"]
    assert app.run(use_case.release, "v7").summary == "release shop v7 to blue (production stays on green)"


def test_rollback_without_a_history_says_how_to_go_on(app):
    with pytest.raises(RefusedEdit, match="records no earlier production release .* run `bgrender promote`"):
        app.run(use_case.rollback)


@pytest.mark.parametrize("command", [use_case.promote, use_case.rollback])
def test_switching_to_a_color_without_version_is_refused(tmp_path, command):
    app = App(tmp_path / "app", intent(green=None))
    verb = "promote" if command is use_case.promote else "roll back to"
    with pytest.raises(RefusedEdit) as refused:
        app.run(command)
    assert str(refused.value) == (f"bg.yaml:7:11: spec.green.version: cannot {verb} green: it has no version "
                                  "(release one first: bgrender release VERSION)")


def test_lock_pins_a_hand_edited_version_and_keeps_the_other_color(app):
    app.run(use_case.lock)
    blue = app.lock["colors"]["blue"]
    app.texts = app.texts.replace(intent=app.texts.intent.replace("version: g1", "version: g2"))
    with pytest.raises(InvalidInput, match="differs from the version bluegreen.lock.yaml pins for green"):
        app.templates()
    assert app.run(use_case.lock).summary == "lock shop: pin green g2 from the current base"
    assert app.lock["colors"]["blue"] == blue
    assert app.run(use_case.lock).changed is False


def test_lock_repins_a_tampered_entry_and_refuses_a_changed_selector(app):
    app.run(use_case.lock)
    app.texts = app.texts.replace(lock=app.texts.lock.replace("cpu: 50m", "cpu: 1"))
    with pytest.raises(InvalidInput, match="does not match the green entry's content"):
        app.templates()
    assert app.run(use_case.lock).summary == "lock shop: pin blue b1 and green g1 from the current base"
    app.texts = app.texts.replace(intent=app.texts.intent + "  labels: {color: tint}\n")
    with pytest.raises(RefusedEdit, match="selector pinned for blue differs"):
        app.run(use_case.lock)


def test_an_edit_that_would_not_render_is_refused_with_every_problem_capped(app):
    with pytest.raises(use_case.EditWouldBeInvalid) as refused:
        app.run(use_case.release, "not/a/tag")
    lines = refused.value.lines()
    assert lines[0] == "bg.yaml: refusing to write: the edited files would not validate:"
    # bluegreen.yaml is parsed once, under the name the Source gives it (the CLI gives the loader's)
    assert lines[1] == "bg.yaml:11:14: spec.green.version: must be an image tag or a \"sha256:<64 hex>\" digest, got \"not/a/tag\""


INVALID = ["metadata: {name: a}\nspec: {active: red}\n", "metadata: {name: a}\nspec: {blue: {version: 1}, active: blue}\n",
           "metadata: {name: a}\nspec: {}\n", intent().replace("name: shop", "name: Shop"),
           intent(green=None).replace("  deployment: deployment.yaml\n", "")]
COMMANDS = [(use_case.release, "v1"), (use_case.release, None), (use_case.promote,), (use_case.rollback,),
            (use_case.lock,)]


@pytest.mark.parametrize("text", INVALID)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: "-".join(str(a) for a in c if isinstance(a, str))
                         or c[0].__name__)
def test_a_file_that_does_not_validate_is_refused_with_its_problems(tmp_path, text, command):
    """The commands read bluegreen.yaml as `validate` does: every problem, where it is."""
    with pytest.raises(InvalidInput) as invalid:
        App(tmp_path / "app", text).run(*command)
    with pytest.raises(InvalidInput) as validated:
        load_app(tmp_path / "app" / "bluegreen.yaml", {}, AppTexts(text, None),
                 load_document(text, "bg.yaml"))
    assert invalid.value.lines() == validated.value.lines()


def test_a_first_release_reports_what_it_does_not_fix(tmp_path):
    """A file without versions does not validate only because its active color has none; the
    first release sets it, so that problem is not reported, the others are, where they are."""
    text = intent(blue=None, green=None).replace("name: shop", "name: Shop") + "  colour: green\n"
    with pytest.raises(InvalidInput) as invalid:
        App(tmp_path / "app", text).run(use_case.release, "v1")
    assert invalid.value.lines() == [
        'bg.yaml:4:9: metadata.name: must be a DNS-1123 label (lowercase letters, digits and "-"), got "Shop"',
        'bg.yaml:9:3: spec.colour: unknown key "colour"']


def test_a_first_release_fills_an_empty_version(tmp_path):
    app = App(tmp_path / "app", intent(blue="''", green=None))
    assert app.run(use_case.release, "v1").summary == "release shop v1 to blue (first release; blue serves production)"
    assert app.texts.intent == intent(blue="'v1'", green=None)
