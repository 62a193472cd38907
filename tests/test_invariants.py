"""Properties every render must have, checked over every golden case and every example.

The golden files pin exact bytes; these pin the reasons behind them (DESIGN §2, §4, §5),
so an expected file updated by mistake still cannot break a principle unnoticed.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from bgrender.colors import other
from bgrender.configmaps import name_matches_data
from bgrender.pipeline import find_intent, load_intent, plan_app, read_texts, render_app
from bgrender.resources import CLUSTER_SCOPED

from .conftest import EXAMPLES, case_env, cases, clean_env

APPS = cases("render") + EXAMPLES
WAVES = {"Service": -1, "DestinationRule": -1, "ConfigMap": -1, "Job": 1, "VirtualService": 2}
FOLLOW_THEIR_DEPLOYMENT = ("HorizontalPodAutoscaler", "PodDisruptionBudget")
ids = [p.name for p in APPS]


def _render(app: Path, text: str | None = None) -> list[dict]:
    """The app as Argo CD renders it; with `text`, as if bluegreen.yaml held that instead."""
    texts = read_texts(find_intent(app))
    return render_app(find_intent(app), clean_env(case_env(app)), texts if text is None else texts.replace(intent=text))


def _by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def _wave(obj: dict) -> int:
    return int(obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])


def _identity(obj: dict) -> tuple[str, str, str]:
    return obj["apiVersion"].rpartition("/")[0], obj["kind"], obj["metadata"]["name"]


def _split(app: Path, objects: list[dict]) -> tuple[list[dict], list[dict]]:
    """The objects bgrender generates, and those of spec.resources, emitted as written."""
    ours = {r.identity for r in plan_app(find_intent(app), clean_env(case_env(app))).resources}
    return [o for o in objects if _identity(o) not in ours], [o for o in objects if _identity(o) in ours]


def _running(objects: list[dict]) -> set[str]:
    """The colors with pods: a Deployment with replicas, or one its HPA holds at one or more."""
    hpa_min = {h["spec"]["scaleTargetRef"]["name"]: h["spec"]["minReplicas"]
               for h in _by_kind(objects, "HorizontalPodAutoscaler")}
    return {d["metadata"]["name"].rsplit("-", 1)[1] for d in _by_kind(objects, "Deployment")
            if d["spec"].get("replicas", hpa_min.get(d["metadata"]["name"], 0)) > 0}


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
    running = _running(objects)
    *header_routes, production = routes
    assert "match" not in production
    assert [r["destination"]["subset"] for r in production["route"]] == [intent.active]
    assert intent.active in running
    assert [r["match"][0]["headers"][intent.header]["exact"] for r in header_routes] == sorted(running)
    for route in header_routes:
        color = route["match"][0]["headers"][intent.header]["exact"]
        assert [r["destination"]["subset"] for r in route["route"]] == [color]


def test_sync_waves_follow_the_table(app):
    path, intent, objects = app
    generated, _ = _split(path, objects)
    deployments = {d["metadata"]["name"]: d for d in _by_kind(objects, "Deployment")}
    for obj in generated:
        if obj["kind"] == "Deployment":
            active = obj["metadata"]["name"].endswith(f"-{intent.active}")
            assert _wave(obj) == (0 if active else 3), obj["metadata"]["name"]
        elif obj["kind"] in FOLLOW_THEIR_DEPLOYMENT:  # scaled and protected with the color they belong to
            assert _wave(obj) == _wave(deployments[obj["metadata"]["name"]]), obj["metadata"]["name"]
        else:
            assert _wave(obj) == WAVES[obj["kind"]], obj["kind"]
    assert [_wave(o) for o in objects] == sorted(_wave(o) for o in objects)  # resources: see the next test


def test_resources_are_emitted_as_written_but_for_namespace_and_wave(app):
    """spec.resources come out as written, except: wave -1 unless they set one, and the app's
    namespace on namespaced kinds (none on cluster-scoped ones)."""
    path, intent, objects = app
    _, resources = _split(path, objects)
    written = {_identity(d): d for rel in intent.resources
               for d in yaml.safe_load_all((path / rel).read_text(encoding="utf-8-sig")) if d}
    assert {_identity(o) for o in resources} == written.keys()
    namespace = intent.namespace or case_env(path).get("ARGOCD_APP_NAMESPACE")
    cluster_scoped = CLUSTER_SCOPED | {(d["spec"]["group"], d["spec"]["names"]["kind"]) for d in written.values()
                                       if d["kind"] == "CustomResourceDefinition" and d["spec"]["scope"] == "Cluster"}
    for obj in resources:
        original = written[_identity(obj)]
        wave = (original["metadata"].get("annotations") or {}).get("argocd.argoproj.io/sync-wave", "-1")
        assert obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == wave
        scoped = _identity(obj)[:2] in cluster_scoped
        assert obj["metadata"].get("namespace") == (None if scoped else namespace), _identity(obj)
        assert _without_placement(obj) == _without_placement(original)


def _without_placement(obj: dict) -> dict:
    meta = {k: v for k, v in obj["metadata"].items() if k != "namespace"}
    annotations = {k: v for k, v in (meta.pop("annotations", None) or {}).items()
                   if k != "argocd.argoproj.io/sync-wave"}
    return {**obj, "metadata": {**meta, **({"annotations": annotations} if annotations else {})}}


def test_hpa_governed_deployment_never_carries_replicas(app):
    """DESIGN §11: Argo CD must not fight the HPA, so a Deployment it governs has no
    spec.replicas, and every other Deployment states its replicas."""
    _, intent, objects = app
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in _by_kind(objects, "HorizontalPodAutoscaler")}
    deployments = {d["metadata"]["name"]: d for d in _by_kind(objects, "Deployment")}
    assert hpas.keys() <= deployments.keys()
    for name, d in deployments.items():
        assert ("replicas" in d["spec"]) == (name not in hpas), name
    assert bool(hpas) <= (intent.autoscaling is not None)
    for name, hpa in hpas.items():
        assert hpa["metadata"]["name"] == name and hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        active = name.endswith(f"-{intent.active}")
        bounds = (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"])
        if active:
            assert bounds == (intent.autoscaling.min_replicas, intent.autoscaling.max_replicas)
        else:
            assert bounds[0] == bounds[1] >= 1  # the idle color is held where idleReplicas says
    if intent.autoscaling is not None:
        assert all(name in hpas or d["spec"]["replicas"] == 0 for name, d in deployments.items())


def test_disruption_budget_selects_exactly_its_color(app):
    _, intent, objects = app
    deployments = {d["metadata"]["name"]: d for d in _by_kind(objects, "Deployment")}
    budgets = _by_kind(objects, "PodDisruptionBudget")
    assert len(budgets) == (len(deployments) if intent.disruption_budget else 0)
    for pdb in budgets:
        assert pdb["spec"]["selector"] == deployments[pdb["metadata"]["name"]]["spec"]["selector"]


def test_config_maps_are_exactly_those_the_pods_mount(app):
    """Each ConfigMap bgrender emits is named after its content, immutable, and mounted by a
    color; each declared ConfigMap a pod refers to is emitted."""
    path, intent, objects = app
    generated, _ = _split(path, objects)
    emitted = {c["metadata"]["name"]: c for c in _by_kind(generated, "ConfigMap")}
    declared = {c.name for c in intent.config_maps}
    mounted = {name for d in _by_kind(objects, "Deployment") for name in _config_map_names(d["spec"]["template"])
               if name.rpartition("-")[0] in declared}
    assert mounted == emitted.keys()
    for name, config_map in emitted.items():
        assert config_map["immutable"] is True and name_matches_data(name, config_map["data"])
    assert not declared & {n for d in _by_kind(objects, "Deployment") for n in _config_map_names(d["spec"]["template"])}


def _config_map_names(data) -> set[str]:
    """Every ConfigMap a pod template names (volumes, projected sources, envFrom, env)."""
    if isinstance(data, list):
        return {n for item in data for n in _config_map_names(item)}
    if not isinstance(data, dict):
        return set()
    own = {data[k]["name"] for k in ("configMap", "configMapRef", "configMapKeyRef") if isinstance(data.get(k), dict)}
    return own | {n for v in data.values() for n in _config_map_names(v)}


LOCKED_CONFIG = [p for p in APPS if (p / "bluegreen.lock.yaml").exists() and load_intent(find_intent(p)).config_maps]


@pytest.mark.parametrize("path", LOCKED_CONFIG, ids=[p.name for p in LOCKED_CONFIG])
def test_config_edit_alone_changes_no_running_color_with_a_lock(path, tmp_path):
    """Principle 7: with a lock, an edit of every config file and every data value of
    spec.configMaps changes no pod template, selector or emitted ConfigMap."""
    app = Path(shutil.copytree(path, tmp_path / path.name, symlinks=True))
    intent = load_intent(find_intent(app))
    before = _render(app)
    for config_map in intent.config_maps:
        for rel in config_map.files:
            (app / rel).write_text((app / rel).read_text() + "edited: true\n")
    data = yaml.safe_load(find_intent(app).read_text(encoding="utf-8-sig"))
    for entry in data["spec"]["configMaps"]:
        entry["data"] = {k: v + "-edited" for k, v in (entry.get("data") or {}).items()}
    after = _render(app, yaml.safe_dump(data))
    assert [o for o in after if o["kind"] in ("Deployment", "ConfigMap")] == \
        [o for o in before if o["kind"] in ("Deployment", "ConfigMap")]
    assert after == before


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
