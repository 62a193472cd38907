"""Every name and label bgrender generates meets Kubernetes' limits, for every input it accepts:
object names (a DNS-1123 label of at most 63 characters for Services and Jobs, a subdomain of
at most 253 for the others), label keys and values, annotation keys, and int32 replica counts.
The rules below are Kubernetes' own (apimachinery's validation), written out independently of
bgrender's spec.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bgrender.app.pipeline import AppTexts, find_intent, render_app
from bgrender.names import bounded_name

from ..conftest import EXAMPLES, case_env, cases, clean_env
from .conftest import MINIMAL, assert_refused, render

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
QUALIFIED_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
# Kinds whose name must be a DNS label: a Service's name is a DNS name in the cluster, and the
# Job controller puts a Job's name into a label of its pods.
LABEL_NAMED = {"Service", "Job"}


def _is_dns_label(name: Any) -> bool:
    return isinstance(name, str) and len(name) <= 63 and DNS_LABEL.fullmatch(name) is not None


def _is_dns_subdomain(name: Any) -> bool:
    return isinstance(name, str) and len(name) <= 253 and DNS_SUBDOMAIN.fullmatch(name) is not None


def _is_key(key: str) -> bool:
    """A label or annotation key: an optional DNS subdomain prefix and "/", a name of at most 63."""
    prefix, _, name = key.rpartition("/")
    return (not prefix or _is_dns_subdomain(prefix)) and len(name) <= 63 and QUALIFIED_NAME.fullmatch(name) is not None


def _label_maps(obj: dict) -> list[dict]:
    spec, kind = obj.get("spec", {}), obj["kind"]
    maps = [obj["metadata"].get("labels", {})]
    if kind in ("Deployment", "Job"):
        maps.append(spec["template"]["metadata"].get("labels", {}))
    if kind == "Deployment":
        maps.append(spec["selector"]["matchLabels"])
    if kind == "Service":
        maps.append(spec["selector"])
    if kind == "DestinationRule":
        maps += [subset["labels"] for subset in spec.get("subsets", [])]  # routing by host: none
    return maps


def kubernetes_problems(obj: dict) -> list[str]:
    """What the API server would refuse in `obj`'s names, labels and annotation keys."""
    name, kind = obj["metadata"]["name"], obj["kind"]
    problems = []
    if not (_is_dns_label(name) if kind in LABEL_NAMED else _is_dns_subdomain(name)):
        problems.append(f"{kind} name {name!r} ({len(name)} characters)")
    if "namespace" in obj["metadata"] and not _is_dns_label(obj["metadata"]["namespace"]):
        problems.append(f"namespace {obj['metadata']['namespace']!r}")
    for labels in _label_maps(obj):
        for key, value in labels.items():
            if not _is_key(key):
                problems.append(f"label key {key!r}")
            if not (isinstance(value, str) and len(value) <= 63 and LABEL_VALUE.fullmatch(value)):
                problems.append(f"label {key}: value {value!r}")
    template = obj.get("spec", {}).get("template", {}) if kind in ("Deployment", "Job") else {}
    for keys in (obj["metadata"].get("annotations", {}), template.get("metadata", {}).get("annotations", {})):
        problems += [f"annotation key {key!r}" for key in keys if not _is_key(key)]
    if kind == "Deployment" and "replicas" in obj["spec"]:
        problems += [f"replicas {obj['spec']['replicas']}"] * (not 0 <= obj["spec"]["replicas"] < 2**31)
    return problems


@pytest.mark.parametrize("app", cases("render") + EXAMPLES, ids=lambda p: p.name)
def test_every_rendered_object_of_the_corpus_meets_kubernetes_limits(app):
    for obj in render_app(find_intent(app), clean_env(case_env(app))):
        assert kubernetes_problems(obj) == [], obj["metadata"]["name"]


def test_the_limits_above_catch_what_they_should():
    job = {"kind": "Job", "metadata": {"name": "a" * 57 + "-smoke-test", "labels": {"x/" + "k" * 64: "-v"}},
           "spec": {"template": {"metadata": {"labels": {}, "annotations": {"bad key": "1"}}}}}
    assert len(kubernetes_problems(job)) == 4


# Intents at the edge of what bgrender accepts: every name as long as allowed, long label keys,
# long versions and digests, and the smoke test on (it adds the Job).
def _dns_label(length: int) -> st.SearchStrategy[str]:
    middle = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=length - 2, max_size=length - 2)
    return st.builds(lambda m: "a" + m + "z", middle) if length > 1 else st.just("a")


def _dns_subdomain(length: int) -> st.SearchStrategy[str]:
    parts = [63] * (length // 64) + [length % 64 - 1] * (length % 64 > 1)
    return st.tuples(*[_dns_label(n) for n in parts]).map(".".join)


label_keys = st.one_of(_dns_label(63), st.tuples(_dns_subdomain(253), _dns_label(63)).map("/".join))
versions = st.one_of(
    st.text(alphabet="abcXYZ0189_.-", min_size=127, max_size=127).map(lambda t: "v" + t),
    st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).map(lambda h: "sha256:" + h),
    st.sampled_from(["12345e6", "01234589", "1.5e3", "0o17", "_", "a" + "." * 127]),
)


@st.composite
def _longest_routing(draw: st.DrawFn, service: str) -> dict[str, Any]:
    """Each provider's routing, its names as long as it accepts."""
    provider = draw(st.sampled_from(["istio", "gateway-api", "service"]))
    if provider == "istio":
        return {"header": "x-" + "h" * 254, "hosts": [service],
                "virtualService": draw(_dns_subdomain(253)),
                # "<destinationRule>-green", rendered with a trafficPolicy, is still a DNS subdomain.
                "destinationRule": draw(_dns_subdomain(247)), "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}
    if provider == "gateway-api":
        gateway = draw(st.tuples(_dns_label(63), _dns_label(63)).map("/".join))
        return {"provider": provider, "header": "x-" + "h" * 254, "gateways": [gateway],
                "preview": {"gateways": ["mesh", gateway]}, "httpRoute": draw(_dns_subdomain(237))}
    return {"provider": provider}


@st.composite
def longest_intents(draw: st.DrawFn) -> str:
    name = draw(_dns_label(57))
    color_key, version_key = draw(label_keys), draw(label_keys)
    if color_key == version_key:
        version_key = "version"
    intent = {
        "apiVersion": "bgrender.io/v1alpha1", "kind": "BlueGreen",
        "metadata": {"name": name, "namespace": draw(_dns_label(63))},
        "spec": {
            "image": "registry.example.com/" + "/".join(["a" * 60] * 3),
            "active": draw(st.sampled_from(["blue", "green"])),
            "blue": {"version": draw(versions)}, "green": {"version": draw(versions)},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "app", "image": "x", "ports": [{"containerPort": 8080}]}]}},
            "replicas": 2**31 - 1, "idleReplicas": draw(st.integers(1, 2**31 - 1)),
            "labels": {"color": color_key, "version": version_key},
            "service": {"name": (service := draw(_dns_label(57)))},
            "routing": draw(_longest_routing(service)),
            "promotion": {"mode": "auto", "smokeTest": {"path": "/" + "p" * 2047, "image": "i" * 512}},
        },
    }
    return yaml.safe_dump(intent)


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(text=longest_intents())
def test_longest_names_bgrender_accepts_render_within_kubernetes_limits(text):
    objects = render_app(Path("app/bluegreen.yaml"), {}, AppTexts(text, None))
    assert {o["kind"] for o in objects} >= {"Deployment", "Service", "Job"}
    for obj in objects:
        assert kubernetes_problems(obj) == [], obj["metadata"]["name"]


@settings(max_examples=500, derandomize=True)
@given(stem=st.one_of(_dns_label(63), st.integers(1, 253).flatmap(_dns_subdomain)),
       suffix=st.sampled_from(["", "-smoke-test", "-blue", "-green"]))
def test_bounded_name_is_a_short_stable_dns_name(stem, suffix):
    name = bounded_name(stem, suffix)
    assert len(name) <= 63 and name.endswith(suffix) and name == bounded_name(stem, suffix)
    assert name == stem + suffix or name[:20] == stem[:20]
    if DNS_LABEL.fullmatch(stem + suffix):
        assert _is_dns_label(name)


def test_bounded_names_of_two_long_stems_differ():
    a, b = "a" * 60 + "-one", "a" * 60 + "-two"
    assert bounded_name(a, "-smoke-test") != bounded_name(b, "-smoke-test")


@pytest.mark.parametrize(("target", "old", "new", "message"), [
    ("bluegreen.yaml", "  deployment: deployment.yaml\n", "  deployment: deployment.yaml\n  replicas: 2147483648\n",
     "spec.replicas: must be at most 2147483647"),
    ("bluegreen.yaml", "  deployment: deployment.yaml\n", "  deployment: deployment.yaml\n  idleReplicas: 4294967296\n",
     "spec.idleReplicas: must be at most 2147483647"),
    ("deployment.yaml", "replicas: 2", "replicas: 2147483648",
     "spec.replicas: must be an integer from 0 to 2147483647"),
])
def test_replicas_past_int32_are_refused(app, target, old, new, message):
    (app / target).write_text((app / target).read_text().replace(old, new, 1))
    assert_refused(render(app), message)


def test_the_largest_int32_replica_count_renders():
    intent = MINIMAL / "bluegreen.yaml"
    objects = render_app(intent, {}, AppTexts(intent.read_text() + "  replicas: 2147483647\n", None))
    assert {o["spec"]["replicas"] for o in objects if o["kind"] == "Deployment"} == {2147483647}


# --- values the API server checks: what bgrender accepts, Kubernetes and the CRDs admit ------------
# Each rule below is Kubernetes' own, written out from apimachinery's validation and the
# HTTPRoute CRD, independently of bgrender's patterns.

def _k8s_config_map_key(key: str) -> bool:
    """apimachinery IsConfigMapKey."""
    return (0 < len(key) <= 253 and re.fullmatch(r"[-._a-zA-Z0-9]+", key) is not None
            and key not in (".", "..") and not key.startswith(".."))


def _k8s_pdb_percent(value: str) -> bool:
    """IsValidPercent, then at most 100% (the PodDisruptionBudget's rule)."""
    return re.fullmatch(r"[0-9]+%", value) is not None and int(value[:-1]) <= 100


def _k8s_positive_quantity(value: str) -> bool:
    """resource.ParseQuantity, then Sign() == 1 (an HPA target's value)."""
    match = re.fullmatch(r"([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9.]+)?",
                         value)
    return match is not None and match.group(1) != "-" and any(c in "123456789" for c in match.group(2))


def _crd_route_hostname(host: str) -> bool:
    """The HTTPRoute CRD's hostname item."""
    return 0 < len(host) <= 253 and re.fullmatch(
        r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", host) is not None


_KEYISH = st.text(alphabet="abcAB09.-_:/ *%+mKi", max_size=12)


@pytest.mark.parametrize(("pattern", "kubernetes", "examples"), [
    ("CONFIG_KEY", _k8s_config_map_key, [".", "..", "..data", ".env", "a..b", "app.properties"]),
    ("PERCENT", _k8s_pdb_percent, ["0%", "50%", "100%", "101%", "999%", "5"]),
    ("POSITIVE_QUANTITY", _k8s_positive_quantity, ["-5", "0", "0m", "0.0", "500m", "1Gi", "+2", ".5", "1e3"]),
    ("ROUTE_HOSTNAME", _crd_route_hostname, ["*", "*.a.b", "A.b", "a.b.", "a.b:443", "shop.example.com"]),
])
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_what_bgrender_accepts_kubernetes_admits(pattern, kubernetes, examples, data):
    from bgrender.intent import spec

    value = data.draw(st.one_of(st.sampled_from(examples), _KEYISH))
    if spec.matches(getattr(spec, pattern), value):
        assert kubernetes(value), f"bgrender accepts {value!r}, which Kubernetes rejects"


@pytest.mark.parametrize(("pattern", "valid"), [
    ("CONFIG_KEY", ["app.properties", ".env", "a..b", "_x"]),
    ("PERCENT", ["0%", "50%", "100%"]),
    ("POSITIVE_QUANTITY", ["500m", "1Gi", "+2", ".5", "1e3", "0.5"]),
    ("ROUTE_HOSTNAME", ["shop.example.com", "*.example.com", "a"]),
])
def test_what_kubernetes_admits_commonly_bgrender_accepts(pattern, valid):
    from bgrender.intent import spec

    assert [v for v in valid if not spec.matches(getattr(spec, pattern), v)] == []


def test_a_config_file_whose_name_is_too_long_for_a_key_is_refused(app):
    name = "k" * 254
    (app / name).write_text("x")
    (app / "bluegreen.yaml").write_text((app / "bluegreen.yaml").read_text()
                                        + f"  configMaps:\n    - name: settings\n      files: [{name}]\n")
    assert_refused(render(app), "spec.configMaps[0].files[0]: the file name", "at most 253")
