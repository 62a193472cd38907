"""Every golden render and example validates against the Kubernetes API schemas
(kubernetes-validate, strict: unknown fields fail), the Istio CRD schemas and the Gateway API
HTTPRoute CRD schema from ../shared; and the JSON Schema that `bgrender schema` prints accepts
every valid intent."""

from __future__ import annotations

import warnings
from functools import cache

import jsonschema
import pytest
import yaml

from bgrender.intent.schema import json_schema

from .conftest import EXAMPLES, GOLDEN, cases, shared_dir

RENDERED = [c / "expected.yaml" for c in cases("render")] + sorted((GOLDEN / "examples").glob("*.yaml"))
KUBERNETES_VERSION = "1.32"  # the kubectl on CI's machines; the fields used are stable since 1.21
# The oldest Kubernetes bgrender supports: autoscaling/v2 and policy/v1 are there, and every
# field bgrender writes must be too.
OLDEST_KUBERNETES_VERSION = "1.30"


def _objects():
    for path in RENDERED:
        for obj in yaml.safe_load_all(path.read_text()):
            yield pytest.param(obj, id=f"{path.parent.name}/{path.name}:{obj['kind']}/{obj['metadata']['name']}")


CRD_FILES = ("istio-networking-crds.yaml", "gateway-api-httproutes-v1.6.1.yaml")


@cache
def _crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> the openAPIV3Schema of every version the CRDs in ../shared serve."""
    schemas = {}
    for name in CRD_FILES:
        for crd in yaml.safe_load_all((shared_dir() / "schemas" / name).read_text()):
            for version in (crd or {}).get("spec", {}).get("versions", []):
                key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
                schemas[key] = version["schema"]["openAPIV3Schema"]
    return schemas


@pytest.mark.parametrize("obj", list(_objects()))
def test_rendered_object_matches_its_schema(obj):
    if obj["kind"] in ("VirtualService", "DestinationRule", "HTTPRoute"):  # the routing objects bgrender makes
        schema = _crd_schemas()[(obj["apiVersion"], obj["kind"])]  # a KeyError: a CRD version we never checked
        jsonschema.validate(obj, schema, cls=jsonschema.Draft7Validator)
    else:
        import kubernetes_validate

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its own dependencies warn on import
            try:
                for version in (OLDEST_KUBERNETES_VERSION, KUBERNETES_VERSION):
                    kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.SchemaNotFoundError:
                # Only a custom kind of the app's spec.resources (emitted as written) may have no schema here;
                # every kind bgrender generates is a built-in one or an Istio one.
                assert "." in obj["apiVersion"].partition("/")[0], obj["apiVersion"]
                pytest.skip(f"{obj['apiVersion']} {obj['kind']}: a custom kind from spec.resources, no schema here")


def test_schema_command_output_is_a_valid_json_schema_accepting_every_valid_intent():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for app in cases("render") + EXAMPLES:
        intent = yaml.safe_load((app / "bluegreen.yaml").read_text(encoding="utf-8-sig"))
        errors = [e.message for e in validator.iter_errors(intent)]
        assert not errors, f"{app.name}: {errors}"


@pytest.mark.parametrize("case", ["bad-enum", "unknown-keys", "wrong-types", "auto-without-smoke-test",
                                  "both-deployment-and-template", "image-with-tag", "header-not-lowercase",
                                  "configmap-declarations", "autoscaling-problems", "pod-disruption-budget-problems",
                                  "analysis-problems", "routes-policy-istio-problems",
                                  "routes-policy-gateway-api-refusals", "traffic-percent-out-of-range"])
def test_schema_rejects_what_validation_rejects(case):
    intent = yaml.safe_load((GOLDEN / "errors" / case / "bluegreen.yaml").read_text())
    assert list(jsonschema.Draft202012Validator(json_schema()).iter_errors(intent)), case

