"""Every string bgrender writes reads back as that same string in every YAML reader that meets
the output: kubectl and Argo CD (Go, sigs.k8s.io/yaml over yaml.v2, YAML 1.1 rules), YAML 1.2
readers (core schema) and PyYAML. A version `12345e6` written plain is a float to Go.

kubectl parses offline with `kubectl label --local -f - probe=1 -o json`: it reads the stream
with Kubernetes' own YAML-to-JSON conversion and prints every object as JSON.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bgrender.app.pipeline import find_intent, render_app
from bgrender.yamlfile import dump
from bgrender.yamlfile.dump import dump_yaml, plain_is_string, plain_tag

from ..conftest import EXAMPLES, case_env, cases, clean_env

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (CI's machine has it)")
STR = "tag:yaml.org,2002:str"


def kubectl_reads(text: str) -> list[dict[str, Any]]:
    """The objects kubectl reads from a YAML stream, less the probe label it was asked to add."""
    assert KUBECTL is not None
    with tempfile.TemporaryDirectory() as home:  # no kubeconfig, no cache: nothing but the parser
        result = subprocess.run([KUBECTL, "label", "--local", "-f", "-", "probe=1", "-o", "json"], input=text,
                                capture_output=True, text=True, timeout=60,
                                env={"PATH": os.environ.get("PATH", ""), "HOME": home})
    assert result.returncode == 0, result.stderr
    objects, decoder, at = [], json.JSONDecoder(), 0
    out = result.stdout
    while at < len(out.rstrip()):  # one JSON document per object, one after the other
        obj, at = decoder.raw_decode(out, at)
        objects.append(obj)
        at += len(out[at:]) - len(out[at:].lstrip())
    for obj in objects:
        labels = obj["metadata"]["labels"]
        del labels["probe"]
        if not labels:
            del obj["metadata"]["labels"]
    return objects


class Yaml12Loader(yaml.SafeLoader):
    """A YAML 1.2 reading: the core schema's tag resolution (YAML 1.2.2, 10.3.2) instead of
    PyYAML's YAML 1.1 rules."""

    yaml_implicit_resolvers: dict = {}


for _tag, _pattern in [
    ("null", r"null|Null|NULL|~|"),
    ("bool", r"true|True|TRUE|false|False|FALSE"),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"),
    ("float", r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"),
]:
    Yaml12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(rf"^(?:{_pattern})$"),
                                       list("-+0123456789.nNtTfF~") + [""])


def _scalar_tags(node: yaml.Node) -> list[str]:
    if isinstance(node, yaml.ScalarNode):
        return [node.tag]
    if isinstance(node, yaml.MappingNode):
        return [t for k, v in node.value for t in _scalar_tags(k) + _scalar_tags(v)]
    return [t for item in node.value for t in _scalar_tags(item)]


# Strings built from what YAML resolvers look at: signs, digits, base prefixes, dots, exponents,
# "_" and ":" separators, dates, the keywords in any case, and arbitrary text.
_PIECES = ["0", "1", "7", "8", "9", "12345", "+", "-", ".", "_", ":", "e", "E", "x", "X", "o", "O", "b", "B",
           "a", "f", "inf", "nan", "Inf", "NaN", "2024-", "01-", "1-", "02", "T", "t", " ", "10:00:00", "Z",
           "~", "=", "<<", "p", "y", "n", "yes", "no", "on", "off", "true", "false", "null", "Null"]
scalar_like = st.one_of(
    st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6).map("".join),
    st.sampled_from(["y", "Y", "n", "N", "yes", "No", "ON", "off", "True", "FALSE", "~", "null", "", "=", "<<"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
)


@settings(max_examples=3000, derandomize=True, deadline=None)
@given(value=scalar_like)
def test_every_string_reads_back_as_itself_in_yaml_1_1_and_1_2(value):
    text = dump_yaml([{"value": value, value: "key"}])
    assert yaml.safe_load(text) == {"value": value, value: "key"}  # PyYAML: YAML 1.1
    assert set(_scalar_tags(yaml.compose(text, Loader=Yaml12Loader))) == {STR}
    assert yaml.load(text, Loader=Yaml12Loader) == {"value": value, value: "key"}


@settings(max_examples=3000, derandomize=True, deadline=None)
@given(value=scalar_like)
@example("08")
@example("0777")
@example("-0")
@example("+12")
@example("1_0")
@example("\u0661\u0662")
@example("-")
def test_the_types_plain_tag_knows_are_those_pyyaml_resolves(value):
    """The loader's and dumper's shortcut (dump.CommonScalarsFirst) skips PyYAML's resolver only
    where it gives the type that resolver would, so it changes no value a file reads as."""
    tag = plain_tag(value)
    if tag is not None:
        assert yaml.resolver.Resolver().resolve(yaml.ScalarNode, value, (True, False)) == tag


@pytest.mark.parametrize("value", ["12345e6", "01234589", "0o17", "1.5e3", "0x1F", "0b101", "1_000", "1:00", "y",
                                   "n", "on", "Off", "~", "", ".inf", "-.Inf", ".nan", "=", "<<", "2024-1-2", "1.2.3",
                                   "0x_", "0b_", "-0x__"])
def test_strings_other_readers_take_for_numbers_booleans_or_null_are_quoted(value):
    assert not plain_is_string(value)
    assert dump_yaml([{"v": value}]).splitlines()[1] in (f"v: '{value}'", f'v: "{value}"')


@pytest.mark.parametrize("value", ["v1.0.0", "3f9c2e1d", "abc123", "sha256:" + "a" * 64, "web", "e3", "x1", "_"])
def test_ordinary_strings_stay_plain(value):
    assert plain_is_string(value)
    assert dump_yaml([{"v": value}]).splitlines()[1] == f"v: {value}"


def _corpus() -> list[Any]:
    return [pytest.param(app, id=app.name) for app in cases("render") + EXAMPLES]


@needs_kubectl
@pytest.mark.parametrize("app", _corpus())
def test_kubectl_reads_every_rendered_object_as_bgrender_wrote_it(app):
    objects = render_app(find_intent(app), clean_env(case_env(app)))
    assert kubectl_reads(dump_yaml(objects)) == json.loads(json.dumps(objects))


@needs_kubectl
@settings(max_examples=8, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.data_too_large, HealthCheck.large_base_example, HealthCheck.too_slow])
@given(values=st.lists(scalar_like.filter(lambda v: v != ""), min_size=300, max_size=300, unique=True))
def test_kubectl_reads_generated_strings_as_themselves(values):
    """Keys and values of one ConfigMap: a key or value Go reads as another type comes back changed."""
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"},
              "data": {v: v for v in values}}
    (read,) = kubectl_reads(dump_yaml([config]))
    assert read["data"] == config["data"]


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(value=scalar_like, flow=st.booleans())
def test_plain_reads_back_as_pyyamls_python_reader_would_say(value, flow):
    """plain_reads_back reads its sample with libyaml, as bgrender reads files; PyYAML's own
    reader, which it used before, agrees."""
    sample = f"{{k: {value}}}" if flow else f"k: {value}\n"
    try:
        python = yaml.safe_load(sample) == {"k": value}
    except yaml.YAMLError:
        python = False
    python = python and bool(value) and value == value.strip() and not any(c in value for c in "\r\n\t") \
        and plain_is_string(value)
    assert dump.plain_reads_back(value, flow=flow) == python
