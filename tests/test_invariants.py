"""Properties every render must have, checked over every golden case and every example.

The golden files pin exact bytes; these pin the reasons behind them (DESIGN §2, §4, §5),
so an expected file updated by mistake still cannot break a principle unnoticed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bgrender.colors import other
from bgrender.pipeline import find_intent, load_intent, read_texts, render_app

from .conftest import EXAMPLES, case_env, cases, clean_env

APPS = cases("render") + EXAMPLES
WAVES = {"Service": -1, "DestinationRule": -1, "Job": 1, "VirtualService": 2}
ids = [p.name for p in APPS]


def _render(app: Path, text: str | None = None) -> list[dict]:
    """The app as Argo CD renders it; with `text`, as if bluegreen.yaml held that instead."""
    texts = read_texts(find_intent(app))
    return render_app(find_intent(app), clean_env(case_env(app)), texts if text is None else texts.replace(intent=text))


def _by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def _wave(obj: dict) -> int:
    return int(obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])


@pytest.fixture(params=APPS, ids=ids)
def app(request):
    path = request.param
    return path, load_intent(find_intent(path)), _render(path)


def test_version_never_in_a_selector_or_deployment_labels(app):
    _, intent, objects = app
    for d in _by_kind(objects, "Deployment"):
        assert intent.version_label not in d["spec"]["selector"]["matchLabels"]
        assert intent.version_label not in d["metadata"]["labels"]
        template_labels = d["spec"]["template"]["metadata"]["labels"]
        assert d["spec"]["selector"]["matchLabels"].items() <= template_labels.items()
        assert intent.version_label in template_labels


def test_deployment_selector_is_app_labels_plus_its_color(app):
    _, intent, objects = app
    service_selector = _by_kind(objects, "Service")[0]["spec"]["selector"]
    for d in _by_kind(objects, "Deployment"):
        color = d["metadata"]["name"].rsplit("-", 1)[1]
        assert d["spec"]["selector"]["matchLabels"] == {**service_selector, intent.color_label: color}


def test_service_selects_both_colors(app):
    _, intent, objects = app
    (service,) = _by_kind(objects, "Service")
    assert not {intent.color_label, intent.version_label} & service["spec"]["selector"].keys()
    assert service["spec"]["ports"][0]["name"] == "http"


def test_both_subsets_always_present(app):
    _, intent, objects = app
    (rule,) = _by_kind(objects, "DestinationRule")
    assert rule["spec"]["subsets"] == [{"name": c, "labels": {intent.color_label: c}} for c in ("blue", "green")]


def test_routes_header_first_and_production_last_to_the_active_color(app):
    _, intent, objects = app
    (vs,) = _by_kind(objects, "VirtualService")
    routes = vs["spec"]["http"]
    running = {d["metadata"]["name"].rsplit("-", 1)[1] for d in _by_kind(objects, "Deployment")
               if d["spec"]["replicas"] > 0}
    *header_routes, production = routes
    assert "match" not in production
    assert [r["destination"]["subset"] for r in production["route"]] == [intent.active]
    assert intent.active in running
    assert [r["match"][0]["headers"][intent.header]["exact"] for r in header_routes] == sorted(running)
    for route in header_routes:
        color = route["match"][0]["headers"][intent.header]["exact"]
        assert [r["destination"]["subset"] for r in route["route"]] == [color]


def test_sync_waves_follow_the_table(app):
    _, intent, objects = app
    for obj in objects:
        if obj["kind"] == "Deployment":
            active = obj["metadata"]["name"].endswith(f"-{intent.active}")
            assert _wave(obj) == (0 if active else 3), obj["metadata"]["name"]
        else:
            assert _wave(obj) == WAVES[obj["kind"]], obj["kind"]
    assert [_wave(o) for o in objects] == sorted(_wave(o) for o in objects)


def test_smoke_test_job_only_when_configured_and_never_selected_by_the_service(app):
    _, intent, objects = app
    jobs = _by_kind(objects, "Job")
    assert len(jobs) == (intent.smoke_test is not None)
    service_selector = _by_kind(objects, "Service")[0]["spec"]["selector"]
    for job in jobs:
        assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "Sync"
        pod_labels = job["spec"]["template"]["metadata"]["labels"]
        assert not service_selector.items() <= pod_labels.items()
        env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["COLOR"] == intent.active and env["HEADER"] == intent.header


PROMOTABLE = [p for p in APPS if None not in load_intent(find_intent(p)).versions.values()]


@pytest.mark.parametrize("path", PROMOTABLE, ids=[p.name for p in PROMOTABLE])
def test_promotion_changes_no_pod_template(path):
    """Principle 4: flipping `active` moves traffic and replicas, never restarts a pod."""
    intent, objects = load_intent(find_intent(path)), _render(path)
    text = find_intent(path).read_text(encoding="utf-8-sig")
    flipped_text = re.sub(rf"(\n\s*active:\s*){intent.active}\b", rf"\g<1>{other(intent.active)}", text, count=1)
    assert flipped_text != text
    flipped = _render(path, flipped_text)
    before = {d["metadata"]["name"]: d for d in _by_kind(objects, "Deployment")}
    after = {d["metadata"]["name"]: d for d in _by_kind(flipped, "Deployment")}
    assert before.keys() == after.keys()
    for name in before:
        assert after[name]["spec"]["template"] == before[name]["spec"]["template"], name
        assert after[name]["spec"]["selector"] == before[name]["spec"]["selector"], name
    (vs,) = _by_kind(flipped, "VirtualService")
    assert vs["spec"]["http"][-1]["route"][0]["destination"]["subset"] == other(intent.active)


def test_render_is_byte_identical_across_runs(app):
    path, _, objects = app
    assert _render(path) == objects
