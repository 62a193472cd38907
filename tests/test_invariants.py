"""Properties every render must have, checked over every golden case and every example.

The golden files pin exact bytes; these pin the reasons behind them (DESIGN §2, §4, §5),
so an expected file updated by mistake still cannot break a principle unnoticed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bgrender.colors import other
from bgrender.pipeline import find_intent, load_intent, read_texts, render_app

from .conftest import EXAMPLES, case_env, cases, clean_env

APPS = cases("render") + EXAMPLES
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


def _app_labels(intent, objects: list[dict]) -> dict[str, str]:
    """The labels that select the app's pods, whichever color: the app's Service's, less the color."""
    selector = _service(intent, objects)["spec"]["selector"]
    return {k: v for k, v in selector.items() if k != intent.color_label}


def _service(intent, objects: list[dict]) -> dict:
    (found,) = [s for s in _by_kind(objects, "Service") if s["metadata"]["name"] == intent.service_name]
    return found


def _colors_running(objects: list[dict]) -> list[str]:
    return sorted(d["metadata"]["name"].rsplit("-", 1)[1] for d in _by_kind(objects, "Deployment")
                  if d["spec"]["replicas"] > 0)


def test_deployment_selector_is_app_labels_plus_its_color(app):
    _, intent, objects = app
    for d in _by_kind(objects, "Deployment"):
        color = d["metadata"]["name"].rsplit("-", 1)[1]
        assert d["spec"]["selector"]["matchLabels"] == {**_app_labels(intent, objects), intent.color_label: color}


def test_the_app_service_selects_both_colors_or_with_provider_service_the_active_one(app):
    _, intent, objects = app
    selector = _service(intent, objects)["spec"]["selector"]
    assert intent.version_label not in selector
    assert selector.get(intent.color_label) == (intent.active if intent.provider == "service" else None)
    assert all(s["spec"]["ports"][0]["name"] == "http" for s in _by_kind(objects, "Service"))


def test_every_deployed_color_has_its_own_service_in_every_provider(app):
    _, intent, objects = app
    colors = sorted(d["metadata"]["name"].rsplit("-", 1)[1] for d in _by_kind(objects, "Deployment"))
    per_color = {s["metadata"]["name"]: s for s in _by_kind(objects, "Service") if s["metadata"]["name"] !=
                 intent.service_name}
    assert sorted(per_color) == [f"{intent.service_name}-{c}" for c in colors]
    for color in colors:
        assert per_color[f"{intent.service_name}-{color}"]["spec"]["selector"] == {
            **_app_labels(intent, objects), intent.color_label: color}


def test_each_provider_renders_its_own_objects_only(app):
    _, intent, objects = app
    kinds = {o["kind"] for o in objects}
    expected = {"istio": {"DestinationRule", "VirtualService"}, "gateway-api": {"HTTPRoute"}, "service": set()}
    assert kinds & {"DestinationRule", "VirtualService", "HTTPRoute"} == expected[intent.provider]


def test_istio_subsets_always_both(app):
    _, intent, objects = app
    for rule in _by_kind(objects, "DestinationRule"):
        assert rule["spec"]["subsets"] == [{"name": c, "labels": {intent.color_label: c}} for c in ("blue", "green")]


def test_istio_header_routes_first_only_on_preview_gateways_and_production_last(app):
    _, intent, objects = app
    for vs in _by_kind(objects, "VirtualService"):
        *header_routes, production = vs["spec"]["http"]
        assert "match" not in production
        assert [r["destination"]["subset"] for r in production["route"]] == [intent.active]
        assert intent.active in _colors_running(objects)
        assert [r["match"][0]["headers"][intent.header]["exact"] for r in header_routes] == (
            _colors_running(objects) if intent.preview_gateways else [])
        for route in header_routes:
            color = route["match"][0]["headers"][intent.header]["exact"]
            assert [r["destination"]["subset"] for r in route["route"]] == [color]
            # Previews stay inside: never a gateway that was not named for them (default: the mesh).
            assert route["match"][0]["gateways"] == list(intent.preview_gateways)
            assert set(route["match"][0]["gateways"]) <= set(vs["spec"].get("gateways", ["mesh"]))
            if not _preview_gateways_set(app):
                assert route["match"][0]["gateways"] == ["mesh"]


def test_gateway_api_production_goes_to_the_active_colors_service_and_previews_only_to_preview_parents(app):
    _, intent, objects = app
    routes = {r["metadata"]["name"]: r for r in _by_kind(objects, "HTTPRoute")}
    if intent.provider != "gateway-api":
        return
    production = routes.pop(intent.http_route)
    (rule,) = production["spec"]["rules"]
    assert "matches" not in rule
    assert [b["name"] for b in rule["backendRefs"]] == [f"{intent.service_name}-{intent.active}"]
    for preview in routes.values():
        assert preview["metadata"]["name"] == f"{intent.http_route}-preview"
        colors = [r["matches"][0]["headers"][0]["value"] for r in preview["spec"]["rules"]]
        assert colors == _colors_running(objects)
        gateways = [p for p in preview["spec"]["parentRefs"] if p["kind"] == "Gateway"]
        named = {f"{p['namespace']}/{p['name']}" if "namespace" in p else p["name"] for p in gateways}
        assert named <= set(intent.preview_gateways)
        if not _preview_gateways_set(app):
            assert not gateways  # no Gateway gets previews unless named for them


def _preview_gateways_set(app) -> bool:
    path, _, _ = app
    routing = yaml.safe_load(find_intent(path).read_text(encoding="utf-8-sig"))["spec"].get("routing") or {}
    return bool((routing.get("preview") or {}).get("gateways"))


def _moves_production(intent, obj: dict) -> bool:
    """The object that sends production traffic to the active color, in each provider."""
    if intent.provider == "istio":
        return obj["kind"] == "VirtualService"
    if intent.provider == "gateway-api":
        return obj["kind"] == "HTTPRoute"
    return obj["kind"] == "Service" and obj["metadata"]["name"] == intent.service_name


def test_sync_waves_move_traffic_only_after_the_rollout_and_the_test(app):
    _, intent, objects = app
    for obj in objects:
        name = obj["metadata"]["name"]
        if obj["kind"] == "Deployment":
            assert _wave(obj) == (0 if name.endswith(f"-{intent.active}") else 3), name
        elif obj["kind"] == "Job":
            assert _wave(obj) == 1
        elif _moves_production(intent, obj):
            assert _wave(obj) == 2, name
        else:
            assert _wave(obj) == -1, name  # Services and subsets exist before anything routes to them
    assert [_wave(o) for o in objects] == sorted(_wave(o) for o in objects)


def test_smoke_test_job_only_when_configured_and_never_selected_by_the_service(app):
    _, intent, objects = app
    jobs = _by_kind(objects, "Job")
    assert len(jobs) == (intent.smoke_test is not None)
    service_selector = _service(intent, objects)["spec"]["selector"]
    for job in jobs:
        assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "Sync"
        pod_labels = job["spec"]["template"]["metadata"]["labels"]
        assert not service_selector.items() <= pod_labels.items()
        env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["COLOR"] == intent.active and env["HEADER"] == intent.header


PROMOTABLE = [p for p in APPS if None not in load_intent(find_intent(p)).versions.values()]


@pytest.mark.parametrize("path", PROMOTABLE, ids=[p.name for p in PROMOTABLE])
def test_promotion_changes_only_the_routing_objects(path):
    """Principle 4: flipping `active` moves traffic and replicas, never restarts a pod: in
    every provider only the objects that move production traffic change (and the smoke test,
    which tests the color about to serve), and the Deployments' replicas and waves; no pod
    template, no selector of a Deployment."""
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
    changed = {(o["kind"], o["metadata"]["name"]) for o in objects if o not in flipped and o["kind"] != "Deployment"}
    assert changed and all(_moves_production(intent, {"kind": k, "metadata": {"name": n}}) or k == "Job"
                           for k, n in changed)


def test_render_is_byte_identical_across_runs(app):
    path, _, objects = app
    assert _render(path) == objects
