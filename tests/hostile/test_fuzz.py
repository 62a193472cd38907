"""Mutated intents and base manifests: every one renders to valid manifests or is refused
with short problems; nothing else (no other exception, no partial output) may happen.

Deterministic (derandomized); BGRENDER_FUZZ_EXAMPLES raises the number of cases per test
(default 1500, about ten seconds each).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bgrender.app.pipeline import find_intent, load_intent, render_app
from bgrender.errors import InvalidInput
from bgrender.yamlfile.dump import dump_yaml

from ..conftest import GOLDEN

SEEDS = [GOLDEN / "render" / name for name in ("auto-mode-green-active", "jinja-values", "minimal", "companions-flat")]
FUZZ = settings(derandomize=True, deadline=None, max_examples=int(os.environ.get("BGRENDER_FUZZ_EXAMPLES", "1500")),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SPECIAL_SCALARS = ["~", "null", "yes", "off", "0x1F", "0o17", ".inf", "-.nan", "1e3", "2024-11-27", "!!binary aGk=",
                   "*undefined", "&anchor x", "'", '"', "{", "[", "- x", "? x", ": x", "%YAML 1.1", "\t", "@", "`",
                   "=", "<<", "1:00", "-1:30.5", "12345e6", "01234589", "0b101", "1_000", "y", "n"]
# Explicit tags, on text they may or may not hold.
tags = st.builds("!!{} {}".format,
                 st.sampled_from(["int", "float", "bool", "null", "str", "timestamp", "binary", "value", "merge", "set",
                                  "omap", "seq", "map", "python/name:os.system", "python/object/apply:os.system"]),
                 st.text(alphabet="0123456789abcxeyn.:_-+ ~", max_size=8))
# Integers past 64 bits, and past the 4,300 digits Python converts.
long_integers = st.builds(lambda digits, n, sign: sign + digits * n, st.sampled_from(["9", "1_", "0"]),
                          st.sampled_from([20, 4299, 4301, 6000]), st.sampled_from(["", "-", "+"]))
# Keys that would forge a line or reach a terminal if printed raw.
control_keys = st.one_of(st.sampled_from(["a\nb", "\x1b[31mred", "\u202eevil", "x\r", "\x85", "\u2028", "blu\u0435",
                                          "\x00", "\\n"]),
                         st.text(alphabet=st.characters(max_codepoint=0x3000), min_size=1, max_size=12))
# Templates built from what Jinja and the sandbox look at: names, subscripts, filters, calls, attributes.
_TEMPLATE_PIECES = ["version", "name", "image", "color", "namespace", "[", "]", "'upper'", "'__class__'", "0", "-1",
                    ":", "::-1", "|", "truncate(1)", "truncate(3, True, '...')", "default('x')", "first", "length",
                    "upper", "~", " if ", " else ", "(", ")", ".", "__class__", "'x'", " * ", "10**9", " is ",
                    "defined", " == ", "range(9)", "lipsum", ",", "format('%s')", "\n", "\x1b"]
templates = st.builds(lambda opener, body, closer: opener + "".join(body) + closer,
                      st.sampled_from(["{{ ", "{% if ", "{{", "{# "]),
                      st.lists(st.sampled_from(_TEMPLATE_PIECES), max_size=8),
                      st.sampled_from([" }}", " %}x{% endif %}", "}}", " #}", ""]))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True),
    st.text(max_size=20), st.sampled_from(SPECIAL_SCALARS), st.text(min_size=200, max_size=300), templates,
    st.sampled_from(["blue", "green", "auto", "manual", "v1.0.0", "sha256:" + "a" * 64, "deployment.yaml",
                     "/etc/passwd", "../x.yaml", "{{ version }}", "{{ 7 * 7 }}", "{{ name.__class__ }}", "0"]),
)


def _paths(data: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(data, dict):
        found += [p for k, v in data.items() for p in _paths(v, path + (k,))]
    elif isinstance(data, list):
        found += [p for i, v in enumerate(data) for p in _paths(v, path + (i,))]
    return found


@st.composite
def mutated(draw: st.DrawFn, data: Any) -> Any:
    """`data` with one to three structural mutations: delete, retype, rename, wrap, oversize."""
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)))
        op = draw(st.sampled_from(["delete", "retype", "rename", "wrap", "oversize"]))
        if not path:
            data = draw(scalars) if op == "retype" else [data]
            continue
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        key, value = path[-1], parent[path[-1]]
        if op == "delete":
            del parent[key]
        elif op == "retype":
            parent[key] = draw(scalars)
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(control_keys)] = parent.pop(key)
        elif op == "wrap":
            wrapped = {key: value} if isinstance(key, str) else [value]
            parent[key] = draw(st.sampled_from([[value], {"x": value}, wrapped]))
        elif op == "oversize":
            # Capped, or three oversize steps in a row would make this test itself need gigabytes.
            parent[key] = [value] * 20 if not isinstance(value, str) else value * (200_000 // (len(value) + 1))
    return data


def _render_property(files: dict[str, str]) -> None:
    """The contract of DESIGN §2: valid manifests, or problems; never anything else."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files.items():
            Path(tmp, name).write_text(text, encoding="utf-8", errors="surrogatepass")
        intent_path = find_intent(tmp)
        try:
            objects = render_app(intent_path, {})
        except InvalidInput as err:
            lines = err.lines()
            assert lines and all(0 < len(line) < 1000 for line in lines), lines
            assert all(line.isascii() and line.isprintable() for line in lines), lines  # one line each, escaped
            return
        intent = load_intent(intent_path)
    docs = list(yaml.safe_load_all(dump_yaml(objects)))
    assert docs == objects and len(docs) >= 4
    for doc in docs:
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]
        if doc["kind"] == "Deployment":
            assert intent.version_label not in doc["spec"]["selector"]["matchLabels"]


def _seed_files(seed: Path) -> dict[str, Any]:
    """Each file's document, or the list of its documents when it holds several (spec.resources)."""
    files = {}
    for path in seed.glob("*.yaml"):
        if path.name != "expected.yaml":
            docs = list(yaml.safe_load_all(path.read_text()))
            files[path.name] = docs if len(docs) > 1 else docs[0]
    return files


def _dumped(value: Any, several: bool) -> str:
    if several and isinstance(value, list):
        return yaml.dump_all(value, Dumper=yaml.CSafeDumper, allow_unicode=True)
    return yaml.dump(value, Dumper=yaml.CSafeDumper, allow_unicode=True)


@FUZZ
@given(seed=st.sampled_from(SEEDS), data=st.data())
def test_structural_mutations(seed, data):
    files = _seed_files(seed)
    several = {name for name, value in files.items() if isinstance(value, list)}
    target = data.draw(st.sampled_from(sorted(files)))
    files[target] = data.draw(mutated(files[target]))
    _render_property({name: _dumped(value, name in several) for name, value in files.items()})


@FUZZ
@given(seed=st.sampled_from(SEEDS), data=st.data())
def test_text_mutations(seed, data):
    """Raw edits of the text: characters YAML gives meaning to, control characters, odd unicode."""
    files = {p.name: p.read_text() for p in seed.glob("*.yaml") if p.name != "expected.yaml"}
    target = data.draw(st.sampled_from(sorted(files)))
    text = files[target]
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 8))
        insert = data.draw(st.one_of(st.sampled_from(SPECIAL_SCALARS + ["\n", "  ", "\x00", "\ufeff", "\u2028",
                                                                         "\ud800", "!!python/name:os.system "]),
                                     st.text(max_size=6), tags, long_integers, templates,
                                     control_keys.map(lambda k: f'"{k}": ')))
        text = text[:at] + insert + text[at + cut:]
    files[target] = text
    _render_property(files)
