"""`bgrender promote --percent N` and the commands around a weighted step (DESIGN §18): exit
codes, messages, the minimal edits of spec.traffic, and refusals that change no file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .conftest import MANUAL, make_app, run

STEP = MANUAL + "  traffic:\n    percent: 10\n"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return make_app(tmp_path / "app", MANUAL)


def files(app: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(app.iterdir())}


def lock_of(app: Path) -> dict:
    return yaml.safe_load((app / "bluegreen.lock.yaml").read_text())


def test_a_step_writes_spec_traffic_after_the_colors_and_changes_no_pin(app, monkeypatch):
    assert run(["lock"], app, monkeypatch).exit_code == 0
    lock = lock_of(app)
    result = run(["promote", "--percent", "10"], app, monkeypatch)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "step gorilla-sfx-demo green 8a1b0c4e to 10% of production (blue 3f9c2e1d serves 90%)\n"
    assert (app / "bluegreen.yaml").read_text() == MANUAL.replace(
        "    version: 8a1b0c4e\n", "    version: 8a1b0c4e\n  traffic:\n    percent: 10\n")
    # A share promotes nothing and pins nothing; the history records which release holds it.
    assert lock_of(app)["colors"] == lock["colors"]
    green = lock["colors"]["green"]
    shared = {"color": "green", "version": green["version"], "digest": green["digest"]}
    assert {k: v for k, v in lock_of(app)["production"].items() if k != "digest"} == {
        **{k: v for k, v in lock["production"].items() if k != "digest"}, "shared": shared}
    result = run(["promote", "--percent", "50"], app, monkeypatch)
    assert result.exit_code == 0 and "percent: 50\n" in (app / "bluegreen.yaml").read_text()
    assert lock_of(app)["colors"] == lock["colors"] and lock_of(app)["production"]["shared"] == shared
    assert run(["promote", "--percent", "0"], app, monkeypatch).exit_code == 0
    assert lock_of(app) == lock


def test_a_share_the_lock_does_not_record_fails_closed(app, monkeypatch):
    """A release merged beside a step (both from one state) would give the share to a build
    nobody stepped to: the render refuses, naming the command."""
    assert run(["lock"], app, monkeypatch).exit_code == 0
    (app / "bluegreen.yaml").write_text(STEP)
    result = run(["render"], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == ("bluegreen.yaml:13:3: spec.traffic: bluegreen.lock.yaml records no share of production "
                             "for green's release (it records none): a release takes a share only through `bgrender "
                             "promote --percent N`, and two pull requests made from one state can merge into this; "
                             "restore the files from Git, or run `bgrender lock` to give the share to the release "
                             "green holds now (review its diff)\n")
    # A deliberate hand edit is accepted as any other: `bgrender lock` records the share.
    locked = run(["lock"], app, monkeypatch)
    assert (locked.exit_code, locked.stdout) == (0, "lock gorilla-sfx-demo: record what serves production\n")
    assert lock_of(app)["production"]["shared"]["color"] == "green"
    assert run(["render"], app, monkeypatch).exit_code == 0
    assert run(["rollback"], app, monkeypatch).exit_code == 0
    assert "shared" not in lock_of(app)["production"]


@pytest.mark.parametrize("args", [["promote", "--percent", "0"], ["rollback"]])
def test_percent_0_and_rollback_take_the_share_back_byte_for_byte(tmp_path, monkeypatch, args):
    app = make_app(tmp_path / "app", MANUAL.replace("  deployment:", "  traffic:  # a step\n    percent: 10\n"
                                                                      "  deployment:"))
    result = run(args, app, monkeypatch)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "take back green's 10% of gorilla-sfx-demo production (blue 3f9c2e1d serves all of it)\n"
    assert (app / "bluegreen.yaml").read_text() == MANUAL


def test_promote_completes_the_switch_and_removes_the_share(tmp_path, monkeypatch):
    app = make_app(tmp_path / "app", STEP)
    result = run(["promote"], app, monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "promote gorilla-sfx-demo green 8a1b0c4e to production (blue 3f9c2e1d becomes idle)\n"
    assert (app / "bluegreen.yaml").read_text() == MANUAL.replace("active: blue", "active: green")


def test_the_same_share_again_changes_nothing(tmp_path, monkeypatch):
    app = make_app(tmp_path / "app", STEP)
    before = files(app)
    result = run(["promote", "--percent", "10"], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "gorilla-sfx-demo: green holds 10% of production already; nothing to do\n"
    assert files(app) == before


def test_dry_run_shows_what_the_share_runs_and_the_diff_and_writes_nothing(app, monkeypatch):
    before = files(app)
    result = run(["promote", "--percent", "25", "--dry-run"], app, monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("production: blue 3f9c2e1d -> green 8a1b0c4e: image: ")
    assert "+  traffic:\n+    percent: 25\n" in result.stdout
    assert result.stderr == "would commit: step gorilla-sfx-demo green 8a1b0c4e to 25% of production (blue " \
                            "3f9c2e1d serves 75%)\n"
    assert files(app) == before


@pytest.mark.parametrize("percent", ["100", "-1", "ten"])
def test_a_percent_out_of_range_is_a_usage_error(app, monkeypatch, percent):
    before = files(app)
    result = run(["promote", "--percent", percent], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (2, "")
    assert "Invalid value for '--percent'" in result.stderr
    assert files(app) == before


@pytest.mark.parametrize(("intent", "message"), [
    (MANUAL.replace("  green:\n    version: 8a1b0c4e\n", ""),
     "bluegreen.yaml:7:11: spec.green.version: cannot give a share of production to green: it has no version "
     "(release one first: bgrender release VERSION)\n"),
    (MANUAL + "idleReplicas: 0\n".rjust(len("idleReplicas: 0\n") + 2),
     "bluegreen.yaml:13:17: spec.idleReplicas: is 0: green runs no pods to take a share of production; remove "
     "idleReplicas: 0 (a color holding a share runs the active color's replicas)\n"),
    (MANUAL + "  routing:\n    provider: service\n",
     "bluegreen.yaml:14:15: spec.routing.provider: routing.provider service cannot split production traffic (the "
     "app's Service selects one color): a weighted step needs istio or gateway-api\n"),
], ids=["idle-without-version", "idle-off", "service-provider"])
def test_a_step_the_app_cannot_take_is_refused_at_its_field(tmp_path, monkeypatch, intent, message):
    app = make_app(tmp_path / "app", intent)
    before = files(app)
    result = run(["promote", "--percent", "10"], app, monkeypatch)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message)
    assert files(app) == before


def test_a_release_is_refused_while_the_idle_color_holds_a_share(tmp_path, monkeypatch):
    app = make_app(tmp_path / "app", STEP)
    before = files(app)
    result = run(["release", "99aa00b"], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == ("bluegreen.yaml:13:3: spec.traffic: green holds 10% of production (a weighted step): a "
                             "release to it would replace a color serving users; `bgrender promote` completes the "
                             "switch, `bgrender rollback` takes the share back\n")
    assert files(app) == before
