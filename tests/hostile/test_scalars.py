"""Scalars that PyYAML cannot build, or that YAML readers disagree on, are refused with a
message naming the field, never a traceback: explicit tags on text they cannot hold, integers
past 64 bits (Python refuses to convert more than 4,300 digits), infinities (JSON has none),
and YAML 1.1's base-60 numbers (`1:00` is 60 to PyYAML, the string "1:00" to Go and YAML 1.2).
A plain `=` (YAML 1.1's "value" type to PyYAML) is the string "=".
"""

from __future__ import annotations

import pytest
import yaml

from bgrender.errors import InvalidInput
from bgrender.yamlfile.document import load_document

from .conftest import add_to_app_container, assert_refused, render

TAGGED = [
    ("!!int abc", 'is not a valid int'),
    ("!!float xyz", 'is not a valid float'),
    ("!!bool maybe", 'is not a valid bool'),
    ("!!int 0x", 'is not a valid int'),
    ("!!int", 'is not a valid int'),
    ("!!float", 'is not a valid float'),
    ("0x_", 'is not a valid int (quote it for a string)'),
    ("1" * 5000, "an integer of 5000 digits is out of range (Kubernetes integers are 64-bit)"),
    ("-" + "1_" * 3000 + "1", "an integer of 3001 digits is out of range"),
    ("9223372036854775808", 'is out of range (Kubernetes integers are 64-bit)'),
    ("!!float " + "9" * 5000, 'is not a finite number, and JSON (so Kubernetes) has no infinity'),
    (".inf", 'is not a finite number'),
    ("-.Inf", 'is not a finite number'),
    (".NaN", 'is not a finite number'),
    ("1:00", 'is a base-60 number in YAML 1.1 but a string in YAML 1.2 and to kubectl'),
    ("!!int 1:00", 'is a base-60 number in YAML 1.1'),
    ("-1:30:00.5", 'is a base-60 number in YAML 1.1'),
]


@pytest.mark.parametrize(("value", "message"), TAGGED)
def test_scalar_is_refused_with_its_position(value, message):
    with pytest.raises(InvalidInput) as refused:
        load_document(f"spec:\n  replicas: {value}\n", "bluegreen.yaml")
    (problem,) = refused.value.problems
    assert str(problem).startswith(f"bluegreen.yaml:2:13: spec.replicas: {message}"), problem


@pytest.mark.parametrize(("value", "message"), TAGGED)
def test_a_refused_value_is_never_quoted(value, message):
    """It may be a Secret's, and the message reaches Argo CD's UI: the position names it."""
    secret = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\nstringData:\n  password: {value}\n"
    with pytest.raises(InvalidInput) as refused:
        load_document(secret, "secret.yaml")
    shown = value.removeprefix("!!int").removeprefix("!!float").removeprefix("!!bool").strip()
    assert not shown or shown[:6] not in str(refused.value.problems[0])


@pytest.mark.parametrize(("target", "old", "new"), [
    ("bluegreen.yaml", "  deployment: deployment.yaml\n", "  deployment: deployment.yaml\n  replicas: !!int abc\n"),
    ("bluegreen.yaml", "  deployment: deployment.yaml\n", "  deployment: deployment.yaml\n  replicas: 1:00\n"),
    ("bluegreen.yaml", "  deployment: deployment.yaml\n", f"  deployment: deployment.yaml\n  replicas: {'9' * 4400}\n"),
    ("deployment.yaml", "replicas: 2", "replicas: !!bool maybe"),
    ("deployment.yaml", "- containerPort: 8080", "- containerPort: !!float xyz"),
    ("deployment.yaml", "- containerPort: 8080", "- containerPort: 1:00"),
])
def test_through_the_cli_without_a_traceback(app, target, old, new):
    text = (app / target).read_text()
    assert old in text
    (app / target).write_text(text.replace(old, new, 1))
    result = render(app)
    assert_refused(result, f"{target}:")
    assert "internal error" not in result.stderr


def test_plain_equals_sign_is_the_string_it_looks_like(app):
    add_to_app_container(app, "          env:\n            - name: EQ\n              value: =\n          =: key\n")
    result = render(app)
    assert result.returncode == 0, result.stderr
    for doc in yaml.safe_load_all(result.stdout):
        if doc["kind"] == "Deployment":
            container = doc["spec"]["template"]["spec"]["containers"][0]
            assert container["env"] == [{"name": "EQ", "value": "="}]
            assert container["="] == "key"


@pytest.mark.parametrize("value", ["!!int 12", "0x1F", "0o17", "0b101", "1_000", "0777", "-9223372036854775808",
                                   "!!float 1", "1.5e3", "!!str 1:00", '"1:00"', "2024-01-02", "!!bool yes", "~"])
def test_valid_numbers_and_tagged_values_load(value):
    assert load_document(f"v: {value}\n", "f.yaml").data["v"] == yaml.safe_load(f"v: {value}\n")["v"] \
        or value == "2024-01-02"  # dates are kept as written: JSON has no date type
