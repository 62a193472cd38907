"""The pure parts of the companion objects: the scope table, ConfigMap names, and how `mount`
renames references in a pod template."""

from __future__ import annotations

import copy
import inspect
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgrender.errors import Problem
from bgrender.intent.config_refs import references
from bgrender.intent.configmaps import ConfigMap, hashed_name, mount, name_matches_data
from bgrender.intent.resources import CLUSTER_SCOPED
from bgrender.intent.spec import CONFIG_MAP_NAME_LENGTH, DNS_SUBDOMAIN, matches

from .conftest import schema_and_validation_say


def _snake(kind: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", kind).lower()


def _api_prefix(group: str) -> str:
    """The Kubernetes client's API class prefix for a group: rbac.authorization.k8s.io → RbacAuthorization."""
    return "".join(part.capitalize() for part in group.removesuffix(".k8s.io").split(".")) if group else "Core"


def _client_scopes() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(API prefix, snake_case kind) of the kinds the official client creates outside namespaces,
    and of those it creates in one: the API server's own paths, as the client was generated from them."""
    client = pytest.importorskip("kubernetes.client")
    cluster, namespaced = set(), set()
    for name, api in inspect.getmembers(client, inspect.isclass):
        prefix = re.match(r"(.+?)(V\d+((alpha|beta)\d+)?)?Api$", name)
        if not prefix or name in ("ApiClient", "CustomObjectsApi"):
            continue
        for method in dir(api):
            if m := re.fullmatch(r"create_namespaced_(\w+)", method):
                namespaced.add((prefix.group(1), m.group(1)))
            elif (m := re.fullmatch(r"create_(\w+)", method)) and not method.endswith("_with_http_info"):
                cluster.add((prefix.group(1), m.group(1)))
    return cluster, namespaced


def test_scope_table_holds_every_cluster_scoped_kind_of_the_kubernetes_client():
    cluster, namespaced = _client_scopes()
    table = {(_api_prefix(group), _snake(kind)) for group, kind in CLUSTER_SCOPED}
    assert cluster - table == set()
    assert table & namespaced == set()
    assert len(cluster) >= 30  # the client really was read


def test_scope_table_names_real_kinds():
    for group, kind in CLUSTER_SCOPED:
        assert re.fullmatch(r"[A-Z][A-Za-z]+", kind) and (group == "" or "." in group or group == "policy")


# --- ConfigMap names ----------------------------------------------------------------------------


@given(name=st.from_regex(r"[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?", fullmatch=True),
       data=st.dictionaries(st.from_regex(r"[-._a-zA-Z0-9]{1,10}", fullmatch=True), st.text(max_size=20), max_size=4))
def test_a_config_map_name_tells_its_content(name, data):
    hashed = hashed_name(name, data)
    assert hashed == hashed_name(name, dict(reversed(list(data.items()))))  # key order does not count
    assert name_matches_data(hashed, data)
    assert hashed.startswith(f"{name}-") and re.fullmatch(r"[0-9a-f]{10}", hashed.rpartition("-")[2])
    changed = {**data, "extra-key": "x"} if "extra-key" not in data else {k: v for k, v in data.items()
                                                                           if k != "extra-key"}
    assert hashed_name(name, changed) != hashed
    assert not name_matches_data(hashed, changed)


def test_the_longest_name_still_gives_a_valid_object_name():
    name = "a" * CONFIG_MAP_NAME_LENGTH
    hashed = hashed_name(name, {"k": "v"})
    assert len(hashed) == 253 and matches(DNS_SUBDOMAIN, hashed)


def test_a_name_without_a_hash_never_matches():
    assert not name_matches_data("config", {})
    assert not name_matches_data("-0123456789", {})


# --- mount ----------------------------------------------------------------------------------------

DECLARED = ("app-config", "app-env")
NAMES = st.sampled_from([*DECLARED, "shared-defaults"])


@st.composite
def pod_templates(draw: st.DrawFn) -> dict:
    """Pod templates referring to ConfigMaps in every place a pod can, declared or not."""
    def volume(i: int) -> dict:
        if draw(st.booleans()):
            return {"name": f"v{i}", "configMap": {"name": draw(NAMES)}}
        return {"name": f"v{i}", "projected": {"sources": [{"configMap": {"name": draw(NAMES)}}
                                                            for _ in range(draw(st.integers(0, 2)))]}}

    def container(i: int) -> dict:
        return {"name": f"c{i}",
                "envFrom": [{"configMapRef": {"name": draw(NAMES)}} for _ in range(draw(st.integers(0, 2)))],
                "env": [{"name": f"E{j}", "valueFrom": {"configMapKeyRef": {"name": draw(NAMES), "key": "k",
                                                                           "optional": True}}}
                        for j in range(draw(st.integers(0, 2)))]}

    spec = {"containers": [container(i) for i in range(draw(st.integers(1, 2)))],
            "initContainers": [container(9) for _ in range(draw(st.integers(0, 1)))],
            "volumes": [volume(i) for i in range(draw(st.integers(0, 3)))]}
    return {"metadata": {"labels": {"app": "web"}}, "spec": spec}


def _config() -> dict[str, ConfigMap]:
    at = Problem("bluegreen.yaml", 1, 1, "spec.configMaps[0].name", "")
    return {n: ConfigMap(n, hashed_name(n, {"k": n}), {"k": n}, at) for n in DECLARED}


def _names(template: dict) -> list[str]:
    return [ref.holder["name"] for ref in references(template["spec"])]


@settings(max_examples=300)
@given(template=pod_templates())
def test_mount_renames_every_reference_to_a_declared_config_map_and_nothing_else(template):
    original = copy.deepcopy(template)
    config = _config()
    mounted, pinned, problems = mount(template, config, lambda path, message: Problem("f", 1, 1, "", message))
    assert template == original  # the input is left as it was
    before, after = _names(template), _names(mounted)
    assert len(before) == len(after)
    for old, new in zip(before, after):
        assert new == (config[old].hashed_name if old in config else old)
    assert pinned == {config[n].hashed_name: config[n].data for n in set(before) & config.keys()}
    unused = [n for n in DECLARED if n not in before]
    assert [p.message for p in problems] == [f'no volume, envFrom or env of the pod template refers to "{n}", so no '
                                             "color would get it; refer to it, or remove it" for n in unused]


def test_mount_reports_a_key_the_config_map_does_not_hold_unless_optional():
    template = {"spec": {"containers": [{"name": "c", "env": [
        {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "app-env", "key": "missing"}}},
        {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "app-env", "key": "missing", "optional": True}}},
        {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "app-env", "key": "k"}}}]}],
        "volumes": [{"name": "v", "configMap": {"name": "app-config", "items": [{"key": "nope", "path": "p"}]}}]}}
    _, _, problems = mount(template, _config(), lambda path, message: Problem("f", 1, 1, ".".join(map(str, path)),
                                                                             message))
    assert sorted(p.path for p in problems) == ["spec.containers.0.env.0.valueFrom.configMapKeyRef.key",
                                                "spec.volumes.0.configMap.items.0.key"]


ODD_PODS = [None, "x", {"volumes": "x", "containers": [1, None, {"envFrom": "x"}]},
            {"volumes": [{"configMap": "x"}, {"projected": {"sources": 3}}],
             "containers": [{"env": [{"valueFrom": "x"}, {"valueFrom": {"configMapKeyRef": 1}}]}]}]


@pytest.mark.parametrize("pod", ODD_PODS)
def test_mount_skips_shapes_that_are_not_references(pod):
    """The base's shape is checked elsewhere only where the render reads it; mount must not trip."""
    mounted, pinned, _ = mount({"spec": pod}, _config(), lambda path, message: Problem("f", 1, 1, "", message))
    assert mounted == {"spec": pod} and pinned == {}


# --- the JSON Schema and the validator agree ------------------------------------------------------

INTENT = """\
apiVersion: bgrender.io/v1alpha1
kind: BlueGreen
metadata: {name: web}
spec:
  image: registry.example.com/team/web
  active: blue
  blue: {version: v1}
  deployment: deployment.yaml
"""


@pytest.mark.parametrize("snippet, valid", [
    ("podDisruptionBudget: {minAvailable: 1}", True),
    ('podDisruptionBudget: {maxUnavailable: "25%"}', True),
    ("podDisruptionBudget:", True),
    ("podDisruptionBudget: {minAvailable: 1, maxUnavailable: 1}", False),
    ("podDisruptionBudget: {unhealthyPodEvictionPolicy: AlwaysAllow}", False),
    ("podDisruptionBudget: {minAvailable: half}", False),
    ("podDisruptionBudget: {minAvailable: -1}", False),
    ("configMaps: [{name: c, data: {k: v}}]", True),
    ("configMaps: [{name: c, files: [a.txt], data: {k: v}}]", True),
    ("configMaps: [{name: c}]", False),
    ("configMaps: [{name: c, data: {k: 1}}]", False),
    ("configMaps: [{name: c, data: {'a b': v}}]", False),
    ("autoscaling: {minReplicas: 1, maxReplicas: 2}", True),
    ("autoscaling: {minReplicas: 0, maxReplicas: 2}", False),
    ("autoscaling: {maxReplicas: 2}", False),
    ("autoscaling: {minReplicas: 1, maxReplicas: 2, metrics: [{type: Pods, pods: {metric: {name: rps}, "
     "target: {type: AverageValue, averageValue: 100}}}]}", True),
    ("autoscaling: {minReplicas: 1, maxReplicas: 2, metrics: [{type: Pods, pods: {metric: {name: rps}, "
     "target: {type: AverageValue, averageValue: 500m}}}]}", True),
    ("autoscaling: {minReplicas: 1, maxReplicas: 2, metrics: [{type: Pods, pods: {metric: {name: rps}, "
     "target: {type: AverageValue, averageValue: lots}}}]}", False),
    ("autoscaling: {minReplicas: 1, maxReplicas: 2, metrics: [{type: Pods}]}", False),
    ("resources: [a.yaml]", True),
    ("resources: []", False),
])
def test_the_json_schema_and_validation_agree(snippet, valid):
    assert schema_and_validation_say(INTENT + "  " + snippet + "\n") == (valid, valid)
