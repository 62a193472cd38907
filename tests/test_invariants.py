"""Properties every render must have, checked over every golden case and every example.

The golden files pin exact bytes; these pin the reasons behind them (DESIGN §2, §4, §5),
so an expected file updated by mistake still cannot break a principle unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from pathlib import Path

import pytest
import yaml

from bgrender.app.pipeline import AppTexts, find_intent, load_app, load_intent, plan_app, read_texts, render_app
from bgrender.colors import other
from bgrender.intent.config_refs import references
from bgrender.intent.configmaps import name_matches_data
from bgrender.intent.resources import CLUSTER_SCOPED
from bgrender.intent.versioned import is_versioned, rendered
from bgrender.release.edits import Source, promote

from .conftest import EXAMPLES, case_env, cases, clean_env, copy_app

APPS = cases("render") + EXAMPLES
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
    plan = plan_app(find_intent(app), clean_env(case_env(app)))
    ours = {r.identity for r in (*plan.resources, *map(rendered, plan.versions))}
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


def _app_labels(intent, objects: list[dict]) -> dict[str, str]:
    """The labels that select the app's pods, whichever color: the app's Service's, less the color."""
    selector = _service(intent, objects)["spec"]["selector"]
    return {k: v for k, v in selector.items() if k != intent.color_label}


def _service(intent, objects: list[dict]) -> dict:
    (found,) = [s for s in _by_kind(objects, "Service") if s["metadata"]["name"] == intent.service_name]
    return found


def test_deployment_selector_is_app_labels_plus_its_color(app):
    _, intent, objects = app
    for d in _by_kind(objects, "Deployment"):
        color = d["metadata"]["name"].rsplit("-", 1)[1]
        assert d["spec"]["selector"]["matchLabels"] == {**_app_labels(intent, objects), intent.color_label: color}


def test_the_app_service_selects_exactly_the_active_color_in_every_provider(app):
    """DESIGN §16: callers the routes do not reach (outside the mesh, a NodePort or a
    LoadBalancer) get production only: the app's Service selects the app labels plus the
    active color, never the version, and it moves with the routes (wave 3)."""
    _, intent, objects = app
    service = _service(intent, objects)
    assert service["spec"]["selector"] == {**_app_labels(intent, objects), intent.color_label: intent.active}
    assert _wave(service) == 3
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
    # Istio routes by host: no DestinationRule unless routing.trafficPolicy asks for one (DESIGN §18).
    expected = {"istio": {"VirtualService"} | ({"DestinationRule"} if intent.traffic_policy else set()),
                "gateway-api": {"HTTPRoute"}, "service": set()}
    assert kinds & {"DestinationRule", "VirtualService", "HTTPRoute"} == expected[intent.provider]


def _color_services(intent, objects: list[dict]) -> dict[str, str]:
    """Each deployed color's Service name → its color."""
    colors = [d["metadata"]["name"].rsplit("-", 1)[1] for d in _by_kind(objects, "Deployment")]
    return {f"{intent.service_name}-{c}": c for c in colors}


def test_istio_header_routes_first_only_on_preview_gateways_and_production_last(app):
    """Istio routes by host, as Flagger does: every destination is a deployed color's own
    Service, with no subset; production (last, no match) goes to the active color's."""
    _, intent, objects = app
    hosts = _color_services(intent, objects)
    for vs in _by_kind(objects, "VirtualService"):
        *header_routes, production = vs["spec"]["http"]
        assert production.get("match", []) == _istio_app_uris(intent)  # every request (of the app's path)
        destinations = [r["destination"] for route in vs["spec"]["http"] for r in route["route"]]
        assert all("subset" not in d and d["host"] in hosts for d in destinations)
        assert [(hosts[r["destination"]["host"]], r.get("weight")) for r in production["route"]] == _weights(intent)
        assert intent.active in sorted(_running(objects))
        assert [r["match"][0]["headers"][intent.header]["exact"] for r in header_routes] == (
            sorted(_running(objects)) if intent.preview_gateways else [])
        for route in header_routes:
            color = route["match"][0]["headers"][intent.header]["exact"]
            assert [hosts[r["destination"]["host"]] for r in route["route"]] == [color]
            # Previews stay inside: never a gateway that was not named for them (default: the mesh).
            assert route["match"][0]["gateways"] == list(intent.preview_gateways)
            assert set(route["match"][0]["gateways"]) <= set(vs["spec"].get("gateways", ["mesh"]))
            if not _preview_gateways_set(app):
                assert route["match"][0]["gateways"] == ["mesh"]


def test_no_route_mixes_a_service_parent_with_hostnames(app):
    """GEP-1426: a mesh must not match a Service parent's route by hostnames (Linkerd does),
    so a route attached to the Service has none, and one attached to Gateways is separate."""
    _, _, objects = app
    for route in _by_kind(objects, "HTTPRoute"):
        kinds = {p["kind"] for p in route["spec"]["parentRefs"]}
        assert len(kinds) == 1, route["metadata"]["name"]
        if kinds == {"Service"}:
            assert "hostnames" not in route["spec"], route["metadata"]["name"]


def test_gateway_api_production_goes_to_the_active_colors_service_and_previews_only_to_preview_parents(app):
    _, intent, objects = app
    if intent.provider != "gateway-api":
        return
    routes = {r["metadata"]["name"]: r for r in _by_kind(objects, "HTTPRoute")}
    base = intent.http_route
    production = {name: routes.pop(name) for name in (base, f"{base}-gateway") if name in routes}
    assert (base in production) == intent.mesh_routing and (f"{base}-gateway" in production) == bool(intent.gateways)
    for name, route in production.items():
        (rule,) = route["spec"]["rules"]
        assert rule.get("matches") == _gateway_app_matches(intent)  # every request (of the app's path)
        assert [(b["name"].rsplit("-", 1)[1], b.get("weight")) for b in rule["backendRefs"]] == _weights(intent)
        assert {b["name"] for b in rule["backendRefs"]} <= {f"{intent.service_name}-{c}" for c in _running(objects)}
        parents = route["spec"]["parentRefs"]
        if name == base:  # the mesh route (GAMMA): the app's Service
            assert [(p["kind"], p["name"]) for p in parents] == [("Service", intent.service_name)]
        else:
            assert {f"{p['namespace']}/{p['name']}" if "namespace" in p else p["name"] for p in parents} == set(
                intent.gateways)
            assert route["spec"].get("hostnames", []) == list(intent.hosts)
    for name, preview in routes.items():
        assert name in (f"{base}-preview", f"{base}-gateway-preview")
        colors = [r["matches"][0]["headers"][0]["value"] for r in preview["spec"]["rules"]]
        assert colors == sorted(_running(objects))
        parents = preview["spec"]["parentRefs"]
        gateways = {f"{p['namespace']}/{p['name']}" if "namespace" in p else p["name"] for p in parents
                    if p["kind"] == "Gateway"}
        if name == f"{base}-preview":  # previews in the mesh
            assert "mesh" in intent.preview_gateways and [p["kind"] for p in parents] == ["Service"]
        else:
            assert gateways and gateways <= set(intent.preview_gateways)
        if not _preview_gateways_set(app):
            assert not gateways  # no Gateway gets previews unless named for them


def _weights(intent) -> list[tuple[str, int | None]]:
    """Where the production route sends traffic: all to the active color (no weight), or with
    spec.traffic (a weighted step, DESIGN §18) its share to the idle color."""
    if not intent.traffic:
        return [(intent.active, None)]
    return [(intent.active, 100 - intent.traffic), (other(intent.active), intent.traffic)]


def _serving(intent) -> set[str]:
    """The colors that get production traffic: the active one, and the idle one with a share."""
    return {color for color, _ in _weights(intent)}


def test_a_share_goes_only_to_a_color_deployed_running_and_tested_earlier_in_the_sync(app):
    """DESIGN §18: a color gets production traffic only if its Deployment, with replicas (at
    least the active color's), rolls out before the routes, and its smoke test and `before`
    analysis (where configured) are Sync hooks in waves after the rollout and before the routes."""
    _, intent, objects = app
    routes = [_wave(o) for o in objects if _moves_production(intent, o)]
    deployments = {d["metadata"]["name"].rsplit("-", 1)[1]: d for d in _by_kind(objects, "Deployment")}
    jobs = [j for j in _by_kind(objects, "Job") if j["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "Sync"]
    for color in _serving(intent):
        assert color in _running(objects) and _wave(deployments[color]) < min(routes), color
        assert _replicas(objects, deployments[color]) >= _replicas(objects, deployments[intent.active]), color
        smoke = [_wave(j) for j in jobs if {"name": "COLOR", "value": color} in _env_list(j)]
        analysis = [_wave(j) for j in jobs if _analysed_color(j) == color]
        assert len(smoke) == (1 if intent.smoke_test else 0) and all(
            _wave(deployments[color]) < w < min(routes) for w in smoke), color
        before = intent.analysis is not None and intent.analysis.before
        assert len(analysis) == (1 if before else 0) and all(max(smoke, default=0) < w < min(routes)
                                                              for w in analysis), color


def _env_list(job: dict) -> list[dict]:
    return job["spec"]["template"]["spec"]["containers"][0].get("env", [])


def _analysed_color(job: dict) -> str | None:
    env = {e["name"]: e["value"] for e in _env_list(job)}
    return json.loads(env["BGRENDER_ANALYSIS"])["color"] if "BGRENDER_ANALYSIS" in env else None


def _preview_gateways_set(app) -> bool:
    path, _, _ = app
    routing = yaml.safe_load(find_intent(path).read_text(encoding="utf-8-sig"))["spec"].get("routing") or {}
    return bool((routing.get("preview") or {}).get("gateways"))


def _moves_production(intent, obj: dict) -> bool:
    """The objects that send production traffic to the active color: the provider's routes,
    and in every provider the app's Service (DESIGN §16)."""
    if obj["kind"] == "Service" and obj["metadata"]["name"] == intent.service_name:
        return True
    return obj["kind"] == {"istio": "VirtualService", "gateway-api": "HTTPRoute"}.get(intent.provider)


def test_sync_waves_move_traffic_only_after_the_rollout_and_the_test(app):
    """DESIGN §5, §12: Services, subsets and config first; the color taking traffic; its smoke
    test; the object that moves production; the pause; the color losing traffic. (The idle
    color's smoke test is a PostSync hook: after every wave.)"""
    path, intent, objects = app
    generated, _ = _split(path, objects)
    deployments = {d["metadata"]["name"]: d for d in _by_kind(objects, "Deployment")}
    waves = {"smoke-test": 1, "analysis-before": 2, "scale-down-delay": 4, "capacity": 1}
    for obj in generated:
        name = obj["metadata"]["name"]
        if obj["kind"] in ("ServiceAccount", "Role", "RoleBinding"):  # the capacity hook's: with its Job
            assert _wave(obj) == 1 and obj["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "Sync", name
        elif obj["kind"] == "Deployment":
            assert _wave(obj) == (0 if name.rsplit("-", 1)[1] in _serving(intent) else 5), name
        elif obj["kind"] in FOLLOW_THEIR_DEPLOYMENT:  # scaled and protected with the color they belong to
            assert _wave(obj) == _wave(deployments[name]), name
        elif obj["kind"] == "Job":
            role = next(r for r in _jobs([obj]))
            if role in waves:
                assert _wave(obj) == waves[role], name
            if intent.traffic and role in ("smoke-test-idle", "analysis-idle"):  # the share's gates: before the routes
                assert _wave(obj) == waves[role.replace("-idle", "-before" if "analysis" in role else "")], name
        elif _moves_production(intent, obj):
            assert _wave(obj) == 3, name
        else:  # Services, subsets and ConfigMaps exist before anything routes to or mounts them
            assert _wave(obj) == -1, name
    in_sync = [o for o in objects if o["metadata"]["annotations"].get("argocd.argoproj.io/hook") != "PostSync"]
    assert [_wave(o) for o in in_sync] == sorted(_wave(o) for o in in_sync)  # resources: see the next test
    assert objects[len(in_sync):] == [o for o in objects if o not in in_sync]  # PostSync hooks come last


def test_resources_are_emitted_as_written_but_for_namespace_and_wave(app):
    """spec.resources come out as written, except: wave -1 unless they set one, and the app's
    namespace on namespaced kinds (none on cluster-scoped ones)."""
    path, intent, objects = app
    _, resources = _split(path, objects)
    written = {_identity(d): d for d in _written(path, intent) if not is_versioned(d)}
    resources = [o for o in resources if not is_versioned(o)]
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


def _written(path: Path, intent) -> list[dict]:
    return [d for rel in intent.resources for d in yaml.safe_load_all((path / rel).read_text(encoding="utf-8-sig"))
            if d]


def test_versioned_resources_are_written_versions_under_their_hashed_names(app):
    """DESIGN §19: each versioned object emitted is a version written in spec.resources, renamed
    `<name>-<10 hex of its digest>` (an ExternalSecret's target and a SealedSecret's template
    name too), and the lock (if any) pins exactly the digests of the versions it emits."""
    path, intent, objects = app
    versions = {v.hashed_name: v for v in plan_app(find_intent(path), clean_env(case_env(path))).versions}
    emitted = [o for o in objects if is_versioned(o)]
    assert len(emitted) == len(versions)
    for obj in emitted:
        canonical = json.dumps(_original(path, intent, obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
        assert obj["metadata"]["name"].endswith("-" + digest[7:17])
        target = obj.get("spec", {}).get("target", {}).get("name") if obj["kind"] == "ExternalSecret" else None
        assert (target or obj["metadata"]["name"]) in versions
        assert versions[target or obj["metadata"]["name"]].digest == digest


def _original(path: Path, intent, obj: dict) -> dict:
    """The written document `obj` was rendered from."""
    name = obj["metadata"]["name"].rpartition("-")[0]
    found = [d for d in _written(path, intent) if is_versioned(d) and d["kind"] == obj["kind"]
             and d["metadata"]["name"] == name and rendered_as(d, obj)]
    assert len(found) == 1, obj["metadata"]["name"]
    return found[0]


def rendered_as(written: dict, obj: dict) -> bool:
    """Whether `obj` holds the content of `written`, but for what the render changes."""
    def content(d: dict) -> dict:
        return {k: v for k, v in d.items() if k not in ("metadata", "immutable", "spec")}
    return content(written) == content(obj) and (written.get("spec") or {}).keys() == (obj.get("spec") or {}).keys()


def test_every_color_refers_only_to_config_rendered_beside_it(app):
    """DESIGN §19: a ConfigMap or Secret bgrender manages (spec.configMaps, versioned resources)
    that a deployed color's pod template names, production's first, is rendered in the same
    output under that very name; a name of another object is none bgrender manages."""
    path, intent, objects = app
    managed = {c.name for c in intent.config_maps} | {
        (d.get("spec", {}).get("target", {}).get("name") if d["kind"] == "ExternalSecret" else None)
        or d["metadata"]["name"] for d in _written(path, intent) if is_versioned(d)}
    available = {(o["kind"] if o["kind"] == "ConfigMap" else "Secret",
                  (o.get("spec", {}).get("target", {}).get("name") if o["kind"] == "ExternalSecret" else None)
                  or o["metadata"]["name"])
                 for o in objects if o["kind"] in ("ConfigMap", "Secret", "ExternalSecret", "SealedSecret")}
    for deployment in _by_kind(objects, "Deployment"):
        for ref in references(deployment["spec"]["template"].get("spec")):
            if (ref.kind, ref.name) not in available:
                assert ref.name not in managed and ref.name.rpartition("-")[0] not in managed, ref


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
        active = name.rsplit("-", 1)[1] in _serving(intent)  # a color holding a share scales like production
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
    app = copy_app(path, tmp_path)
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


def _jobs(objects: list[dict]) -> dict[str, dict]:
    """The hook Jobs by role: smoke-test, smoke-test-idle, scale-down-delay, analysis-*, capacity."""
    roles = ("smoke-test-idle", "smoke-test", "scale-down-delay", "analysis-before", "analysis-idle",
             "analysis-after", "capacity")
    return {next(r for r in roles if j["metadata"]["name"].endswith("-" + r)): j for j in _by_kind(objects, "Job")}


def test_each_color_about_to_serve_is_smoke_tested_through_its_own_service(app):
    """DESIGN §12: before production moves (Sync hook), the active color; after a sync in manual
    mode (PostSync hook), the idle color if it runs. Each test calls that color's Service, which
    selects that color only, so it cannot pass on the other one; no Service selects the test."""
    _, intent, objects = app
    jobs = _jobs(objects)
    idle_runs = other(intent.active) in _running(objects)
    expected = {"smoke-test"} if intent.smoke_test else set()
    if intent.smoke_test and ((intent.mode == "manual" and idle_runs) or intent.traffic):
        expected.add("smoke-test-idle")
    assert expected == {role for role in jobs if role.startswith("smoke-test")}
    services = {s["metadata"]["name"]: s for s in _by_kind(objects, "Service")}
    idle_phase = "Sync" if intent.traffic else "PostSync"  # a color holding a share is tested before the routes
    for role, color, phase in (("smoke-test", intent.active, "Sync"), ("smoke-test-idle", other(intent.active),
                                                                       idle_phase)):
        if role not in jobs:
            continue
        job = jobs[role]
        assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == phase
        env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
        host = env["URL"].split("//", 1)[1].split(":", 1)[0].split(".", 1)[0]
        assert env["COLOR"] == color and services[host]["spec"]["selector"][intent.color_label] == color
        pod_labels = job["spec"]["template"]["metadata"]["labels"]
        assert not any(s["spec"]["selector"].items() <= pod_labels.items() for s in services.values())


def test_each_gate_measures_the_color_it_gates(app):
    """DESIGN §17: `before` measures the color about to serve, after its smoke test and before
    the routes; in manual mode the idle color after a sync (if it runs), after its smoke test;
    `after` the production color after the sync. Each Job carries the run for its color."""
    _, intent, objects = app
    jobs = _jobs(objects)
    analysis = intent.analysis
    expected = {}
    if analysis is not None and analysis.before:
        expected["analysis-before"] = (intent.active, "Sync", 2)
        if intent.traffic:  # the color holding a share: measured before the routes give it the share
            expected["analysis-idle"] = (other(intent.active), "Sync", 2)
        elif intent.mode == "manual" and other(intent.active) in _running(objects):
            expected["analysis-idle"] = (other(intent.active), "PostSync", 1)
    if analysis is not None and analysis.after:
        expected["analysis-after"] = (intent.active, "PostSync", 1)
    assert expected.keys() == {role for role in jobs if role.startswith("analysis-")}
    for role, (color, phase, wave) in expected.items():
        job = jobs[role]
        assert (job["metadata"]["annotations"]["argocd.argoproj.io/hook"], _wave(job)) == (phase, wave)
        (container,) = job["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["bgrender", "analyze", "--rendered"]
        (env,) = container["env"]
        run = json.loads(env["value"])
        assert (env["name"], run["color"]) == ("BGRENDER_ANALYSIS", color)
        version = next(d for d in _by_kind(objects, "Deployment") if d["metadata"]["name"].endswith(f"-{color}"))
        labels = version["spec"]["template"]["metadata"]["labels"]
        assert all("{{" not in q["query"] for q in run["queries"])
        longest = (run["count"] - 1) * run["interval"] + run["count"] * len(run["queries"]) * run["timeoutSeconds"]
        assert job["spec"]["activeDeadlineSeconds"] > longest  # Kubernetes never stops a gate still measuring
        assert any(f'"{labels[intent.version_label]}"' in q["query"] for q in run["queries"]) or \
            not any("{{ version }}" in q.query for q in analysis.queries)  # type: ignore[union-attr]


def test_the_color_losing_production_scales_down_only_after_the_switch_and_the_delay(app):
    """DESIGN §12: a pause of scaleDownDelaySeconds between the routes (wave 3) and the idle
    color (wave 5), exactly when that color may run fewer replicas than the active one (which,
    with an HPA, may run up to its maxReplicas)."""
    _, intent, objects = app
    jobs = _jobs(objects)
    deployments = {d["metadata"]["name"].rsplit("-", 1)[1]: d for d in _by_kind(objects, "Deployment")}
    idle = deployments.get(other(intent.active))
    scales_down = idle is not None and not intent.traffic and _replicas(objects, idle) < _replicas(
        objects, deployments[intent.active], most=True)  # a color holding a share keeps production's replicas
    assert ("scale-down-delay" in jobs) == (scales_down and intent.scale_down_delay > 0)
    if "scale-down-delay" in jobs:
        delay = jobs["scale-down-delay"]
        assert delay["spec"]["template"]["spec"]["containers"][0]["command"] == ["sleep", str(intent.scale_down_delay)]
        routes = [_wave(o) for o in objects if _moves_production(intent, o)]
        assert max(routes) < _wave(delay) < _wave(idle)


def test_the_capacity_hook_and_its_rbac_are_exactly_as_designed(app):
    """DESIGN §16: with autoscaling and both colors deployed, a Sync hook in wave 1 (before the
    routes) runs `bgrender scale-up` for the color taking production, as its own ServiceAccount,
    whose Role grants exactly `get` on the two color Deployments and `patch` on their `scale`, by
    name, in the app's namespace; it alone mounts a token. Without both, none of it is rendered."""
    path, intent, objects = app
    generated, _ = _split(path, objects)
    rbac = [o for o in generated if o["kind"] in ("ServiceAccount", "Role", "RoleBinding", "ClusterRole",
                                                   "ClusterRoleBinding")]
    jobs = _jobs(objects)
    deployments = sorted(d["metadata"]["name"] for d in _by_kind(objects, "Deployment"))
    if intent.autoscaling is None or len(deployments) < 2:
        assert rbac == [] and "capacity" not in jobs
        assert all(j["spec"]["template"]["spec"]["automountServiceAccountToken"] is False for j in jobs.values())
        return
    job = jobs["capacity"]
    name = job["metadata"]["name"]
    assert sorted((o["kind"], o["metadata"]["name"]) for o in rbac) == [
        ("Role", name), ("RoleBinding", name), ("ServiceAccount", name)]
    for obj in [job, *rbac]:
        annotations = obj["metadata"]["annotations"]
        assert (annotations["argocd.argoproj.io/hook"], _wave(obj)) == ("Sync", 1)
        assert obj["metadata"].get("namespace") == (intent.namespace or case_env(path).get("ARGOCD_APP_NAMESPACE"))
    [role] = [o for o in rbac if o["kind"] == "Role"]
    assert role["rules"] == [
        {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": deployments, "verbs": ["get"]},
        {"apiGroups": ["apps"], "resources": ["deployments/scale"], "resourceNames": deployments, "verbs": ["patch"]}]
    [binding] = [o for o in rbac if o["kind"] == "RoleBinding"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
    assert [(s["kind"], s["name"], s.get("namespace", role["metadata"].get("namespace")))
            for s in binding["subjects"]] == [("ServiceAccount", name, role["metadata"].get("namespace"))]
    [account] = [o for o in rbac if o["kind"] == "ServiceAccount"]
    assert account["automountServiceAccountToken"] is False  # mounted by this hook's pod only
    pod = job["spec"]["template"]["spec"]
    assert (pod["serviceAccountName"], pod["automountServiceAccountToken"]) == (name, True)
    assert all(j["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
               for role_, j in jobs.items() if role_ != "capacity")
    active = f"{deployments[0].rsplit('-', 1)[0]}-{intent.active}"
    other_ = f"{deployments[0].rsplit('-', 1)[0]}-{other(intent.active)}"
    assert pod["containers"][0]["command"] == [
        "bgrender", "scale-up", active, "--other", other_, "--min-replicas", str(intent.autoscaling.min_replicas),
        "--timeout", "600"]
    assert pod["containers"][0]["image"] == (intent.bgrender_image or case_env(path)["BGRENDER_IMAGE"])


def _replicas(objects: list[dict], deployment: dict, most: bool = False) -> int:
    """A Deployment's replicas, or the fewest (`most`: the most) its HPA keeps."""
    hpa = [h for h in _by_kind(objects, "HorizontalPodAutoscaler")
           if h["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]]
    return hpa[0]["spec"]["maxReplicas" if most else "minReplicas"] if hpa else deployment["spec"]["replicas"]


PROMOTABLE = [p for p in APPS if None not in load_intent(find_intent(p)).versions.values()]


@pytest.mark.parametrize("path", PROMOTABLE, ids=[p.name for p in PROMOTABLE])
def test_promotion_changes_only_the_routing_objects(path):
    """Principle 4: flipping `active` moves traffic and replicas, never restarts a pod: in
    every provider only the objects that move production traffic change (and the smoke test,
    which tests the color about to serve), and the Deployments' replicas and waves; no pod
    template, no selector of a Deployment."""
    intent, objects = load_intent(find_intent(path)), _render(path)
    # As `bgrender promote` flips it: with a lock, its history moves too (a hand flip to a release
    # that never served production is refused, DESIGN §15).
    texts = read_texts(find_intent(path))
    env = clean_env(case_env(path))
    promoted = promote(Source(str(find_intent(path)), texts, partial(load_app, find_intent(path), env)))
    assert promoted.intent is not None
    flipped = render_app(find_intent(path), env, AppTexts(promoted.intent, promoted.lock or texts.lock))
    before = {d["metadata"]["name"]: d for d in _by_kind(objects, "Deployment")}
    after = {d["metadata"]["name"]: d for d in _by_kind(flipped, "Deployment")}
    assert before.keys() == after.keys()
    for name in before:
        assert after[name]["spec"]["template"] == before[name]["spec"]["template"], name
        assert after[name]["spec"]["selector"] == before[name]["spec"]["selector"], name
    changed = [o for o in objects if o not in flipped and o["kind"] != "Deployment"]
    assert changed
    for obj in changed:
        if _moves_production(intent, obj) or obj["kind"] == "Job":
            continue
        # An HPA and a PDB follow their Deployment's wave; an HPA also its replica bounds.
        assert obj["kind"] in FOLLOW_THEIR_DEPLOYMENT, obj["metadata"]["name"]
        after = [o for o in flipped if (o["kind"], o["metadata"]["name"]) == (obj["kind"], obj["metadata"]["name"])]
        if not after:  # the HPA of a color that goes idle at 0 replicas (an HPA cannot hold it at 0)
            assert obj["kind"] == "HorizontalPodAutoscaler" and intent.idle_replicas == 0
            continue
        assert _without_scale(after[0]) == _without_scale(obj)


def _without_scale(obj: dict) -> dict:
    """`obj` without its sync wave and, for an HPA, its replica bounds."""
    annotations = {k: v for k, v in obj["metadata"]["annotations"].items() if k != "argocd.argoproj.io/sync-wave"}
    spec = {k: v for k, v in obj["spec"].items() if k not in ("minReplicas", "maxReplicas")}
    return {**obj, "metadata": {**obj["metadata"], "annotations": annotations}, "spec": spec}


def test_render_is_byte_identical_across_runs(app):
    path, _, objects = app
    assert _render(path) == objects


SHAREABLE = [p for p in PROMOTABLE if load_intent(find_intent(p)).provider != "service"
             and load_intent(find_intent(p)).idle_replicas != 0]


@pytest.mark.parametrize("path", SHAREABLE, ids=[p.name for p in SHAREABLE])
def test_weighted_steps_change_no_pod_template_nor_pin(path):
    """DESIGN §18, principle 4: `promote --percent N`, `promote --percent 0` and `rollback` during
    a step move traffic (and the idle color's replicas and wave), never a pod template, a
    Deployment's selector, or what the lock pins; the step's share is what the routes carry."""
    env = clean_env(case_env(path))
    texts = read_texts(find_intent(path))
    before = {d["metadata"]["name"]: d["spec"] for d in _by_kind(_render(path), "Deployment")}
    pins = yaml.safe_load(texts.lock)["colors"] if texts.lock else None

    def step(texts: AppTexts, command, **options) -> AppTexts:
        outcome = command(Source(str(find_intent(path)), texts, partial(load_app, find_intent(path), env)), **options)
        new = AppTexts(outcome.intent or texts.intent, outcome.lock or texts.lock)
        objects = render_app(find_intent(path), env, new)
        after = {d["metadata"]["name"]: d["spec"] for d in _by_kind(objects, "Deployment")}
        assert after.keys() == before.keys()
        for name, spec in after.items():
            assert (spec["template"], spec["selector"]) == (before[name]["template"], before[name]["selector"]), name
        assert pins is None or yaml.safe_load(new.lock)["colors"] == pins
        return new

    from bgrender.release.edits import rollback

    for percent in (1, 37, 99):
        shared = step(texts, promote, percent=percent)
        assert load_intent_text(path, shared.intent).traffic == percent
        for back in (step(shared, promote, percent=0), step(shared, rollback)):
            assert load_intent_text(path, back.intent).traffic is None
            assert load_intent_text(path, back.intent).active == load_intent(find_intent(path)).active
            if load_intent(find_intent(path)).traffic is None:  # a minimal edit, undone byte for byte
                assert back.intent == texts.intent


def load_intent_text(path: Path, text: str):
    from bgrender.intent.intent import parse_intent
    from bgrender.yamlfile.document import load_document

    return parse_intent(load_document(text, str(find_intent(path))))


# --- what routes carry besides their destination (DESIGN §18) ---------------------------------------


def _istio_app_uris(intent) -> list[dict]:
    """routing.match as Istio uri matches: a prefix by path element (exactly it, or it and "/")."""
    match = intent.match or {}
    if "exact" in match:
        return [{"uri": {"exact": match["exact"]}}]
    prefix = match.get("prefix", "/").rstrip("/")
    return [{"uri": {"exact": prefix}}, {"uri": {"prefix": prefix + "/"}}] if prefix else []


def _gateway_app_matches(intent) -> list[dict] | None:
    match = intent.match or {}
    if not match:
        return None
    kind, value = ("Exact", match["exact"]) if "exact" in match else ("PathPrefix", match["prefix"].rstrip("/") or "/")
    return [{"path": {"type": kind, "value": value}}]


ISTIO_POLICY_FIELDS = ("timeout", "retries", "corsPolicy", "headers")


def test_every_route_of_the_app_carries_its_policy_and_matches_its_path(app):
    """routing.policy and routing.match reach every route, production and previews alike."""
    _, intent, objects = app
    policy = intent.policy or {}
    for vs in _by_kind(objects, "VirtualService"):
        routes = vs["spec"]["http"]
        carried = {k: routes[-1][k] for k in ISTIO_POLICY_FIELDS if k in routes[-1]}
        assert set(carried) == {k for k, f in zip(ISTIO_POLICY_FIELDS, ("timeout", "retries", "cors", "headers"))
                                if f in policy}
        uris = _istio_app_uris(intent)
        for route in routes:
            assert {k: route[k] for k in ISTIO_POLICY_FIELDS if k in route} == carried, route["name"]
            assert not uris or [m["uri"] for m in route["match"]] == [u["uri"] for u in uris] * (
                len(route["match"]) // len(uris)), route["name"]
    rules = [rule for route in _by_kind(objects, "HTTPRoute") for rule in route["spec"]["rules"]]
    for rule in rules:
        assert rule.get("timeouts") == rules[0].get("timeouts")
        assert [f for f in rule.get("filters", []) if f["type"] != "RequestMirror"] == [
            f for f in rules[0].get("filters", []) if f["type"] != "RequestMirror"]
        path = _gateway_app_matches(intent)
        assert path is None or all(m["path"] == path[0]["path"] for m in rule["matches"])
    if rules:
        assert ("timeout" in policy) == ("request" in rules[0].get("timeouts", {}))
        assert ("cors" in policy) == any(f["type"] == "CORS" for f in rules[0].get("filters", []))


def test_destination_rules_only_carry_the_traffic_policy_one_per_color_host_before_any_route(app):
    _, intent, objects = app
    rules = _by_kind(objects, "DestinationRule")
    if not intent.traffic_policy:
        assert rules == []
        return
    hosts = _color_services(intent, objects)
    assert {r["spec"]["host"]: r["metadata"]["name"] for r in rules} == {
        host: f"{intent.destination_rule}-{color}" for host, color in hosts.items()}
    for rule in rules:
        assert set(rule["spec"]) == {"host", "trafficPolicy"} and "subsets" not in rule["spec"]
        assert rule["spec"]["trafficPolicy"] == rules[0]["spec"]["trafficPolicy"]
        # There before any route names the host, and before either color's pods.
        assert _wave(rule) == -1


def _mirrors(objects: list[dict]) -> list[tuple[str, str, int]]:
    """(route, mirrored host, percent) of every mirror in the render."""
    found = [(vs["metadata"]["name"] + "/" + r["name"], r["mirror"]["host"], r["mirrorPercentage"]["value"])
             for vs in _by_kind(objects, "VirtualService") for r in vs["spec"]["http"] if "mirror" in r]
    return found + [(route["metadata"]["name"], f["requestMirror"]["backendRef"]["name"], f["requestMirror"]["percent"])
                    for route in _by_kind(objects, "HTTPRoute") for rule in route["spec"]["rules"]
                    for f in rule.get("filters", []) if f["type"] == "RequestMirror"]


def test_mirror_only_from_production_to_the_idle_color_while_it_has_replicas(app):
    _, intent, objects = app
    mirrors = _mirrors(objects)
    idle = other(intent.active)
    if not intent.mirror_percent or idle not in _running(objects):
        assert mirrors == []
        return
    assert mirrors and all(host == f"{intent.service_name}-{idle}" and percent == intent.mirror_percent
                           for _, host, percent in mirrors)
    # On the production routes only: never on a preview (a header route, a -preview HTTPRoute).
    istio = intent.provider == "istio"
    assert all(name.endswith("/production") if istio else not name.endswith("-preview") for name, _, _ in mirrors)
    production_routes = {r["metadata"]["name"] for r in _by_kind(objects, "HTTPRoute")
                         if not r["metadata"]["name"].endswith("-preview")}
    assert len(mirrors) == (len(production_routes) or len(_by_kind(objects, "VirtualService")))
