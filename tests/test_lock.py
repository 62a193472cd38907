"""bluegreen.lock.yaml as a format: what it holds, that it reads back as written, and that
its digests are exactly what a render checks."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bgrender.digest import canonical_json
from bgrender.errors import InvalidInput
from bgrender.lock.lockfile import HEADER, Lock, Release, digest_of, dump_lock, new_entry, read_lock
from bgrender.yamlfile.document import load_document

from .conftest import BGRENDER, EXAMPLES, clean_env, copy_app

PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500, derandomize=True, deadline=None)
@given(PLAIN)
def test_the_canonical_form_is_compact_sorted_json(data):
    """The digest's text is json.dumps' own, so locks stay valid whichever computes it."""
    assert canonical_json(data) == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_the_digest_is_sha256_of_that_text():
    content = {"version": "v1", "selector": {"app": "web"}, "template": {"spec": {"containers": []}}}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert digest_of(content) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _lock() -> Lock:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "r:v1"}]}}
    blue = new_entry("v1", {"app": "web", "color": "blue"}, template)
    green = new_entry("20240601", {"app": "web", "color": "green"}, {"spec": {"z": 1, "a": ["é", "1.5"]}})
    return Lock({"green": green, "blue": blue}, Release("green", "20240601", green.digest),
                Release("blue", "v1", blue.digest))


def test_a_lock_reads_back_as_written_and_says_who_writes_it():
    text = dump_lock(_lock())
    assert text.startswith(HEADER) and "do not edit by hand" in text
    assert read_lock(load_document(text, "bluegreen.lock.yaml")).lock == _lock()
    assert dump_lock(read_lock(load_document(text, "bluegreen.lock.yaml")).lock) == text  # deterministic


def test_the_lock_is_laid_out_for_review():
    """History first, then each color's entry: version and digest, then the pinned objects
    with their keys sorted, in block style, one value per line."""
    data = yaml.safe_load(dump_lock(_lock()))
    assert list(data) == ["apiVersion", "kind", "production", "colors"]
    assert list(data["colors"]) == ["blue", "green"]
    assert list(data["colors"]["green"]) == ["version", "digest", "selector", "template"]
    assert list(data["colors"]["green"]["template"]["spec"]) == ["a", "z"]
    assert "{" not in dump_lock(_lock()).split("colors:")[1]
    assert "version: '20240601'" in dump_lock(_lock())  # a string, as every YAML reader reads it


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_has_a_lock_whose_entries_are_intact(example):
    lock = read_lock(load_document((example / "bluegreen.lock.yaml").read_text(), "lock")).lock
    assert lock.colors and all(e.content_digest() == e.digest for e in lock.colors.values())
    assert lock.current is not None


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_lock_is_exactly_as_bgrender_writes_it(example):
    """Else its first release rewrites it (quoting, the history's digest), production's entry
    included, and the pull request shows changes to what production runs (#26, class 8)."""
    text = (example / "bluegreen.lock.yaml").read_text()
    assert dump_lock(read_lock(load_document(text, "lock")).lock) == text


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_a_release_of_an_example_leaves_production_s_entry_byte_for_byte(example, tmp_path):
    app = copy_app(example, tmp_path)
    intent = yaml.safe_load((app / "bluegreen.yaml").read_text())
    active = intent["spec"]["active"]
    before = _entry_lines((app / "bluegreen.lock.yaml").read_text(), active)
    done = subprocess.run([BGRENDER, "release", "9.9.9-rc.1"], cwd=app, env=clean_env(), capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    after = (app / "bluegreen.lock.yaml").read_text()
    assert "9.9.9-rc.1" in after and _entry_lines(after, active) == before


def _entry_lines(text: str, color: str) -> list[str]:
    """The lines of `color`'s entry in a lock's text, as a reviewer sees them in a diff."""
    lines = text.splitlines()
    start = lines.index(f"  {color}:")
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("    ")), len(lines))
    return lines[start:end]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("kind: BlueGreenLock", "kind: Lock"), 'kind: must be one of "BlueGreenLock"'),
    (lambda t: t.replace("  blue:\n    version: v1\n", "  blue:\n    version: v1\n    extra: 1\n"),
     'colors.blue.extra: unknown key "extra"'),
    (lambda t: t.replace("digest: sha256:", "digest: md5:", 1), "production.current.digest: must be a sha256 digest"),
])
def test_a_malformed_lock_is_refused_with_its_position(edit, message):
    with pytest.raises(InvalidInput) as invalid:
        read_lock(load_document(edit(dump_lock(_lock())), "bluegreen.lock.yaml"))
    assert any(message in line for line in invalid.value.lines()), invalid.value.lines()
