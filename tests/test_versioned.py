"""Versioned resources (intent/versioned.py, DESIGN §19): which objects may be versioned, how a
pod template's references follow them, and a lock that pins them by digest only."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bgrender.errors import InvalidInput, Problem
from bgrender.intent.config_refs import references
from bgrender.intent.resources import check_documents
from bgrender.intent.versioned import mount, rendered, split
from bgrender.lock.lockfile import digest_of
from bgrender.yamlfile.document import load_streams

from .conftest import GOLDEN, SIDECAR_ENV, clean_env


def _split(text: str):
    docs = load_streams([(text, "objects.yaml")])[0]
    resources, problems = check_documents(docs, "shop", {"app": "web"}, "web")
    assert not problems
    return split(resources)


def _object(kind: str, api: str = "v1", name: str = "db", annotations: dict | None = None, **rest) -> str:
    meta = {"name": name, "annotations": {"bgrender.io/versioned": "true", **(annotations or {})}}
    return yaml.safe_dump({"apiVersion": api, "kind": kind, "metadata": meta, **rest})


@pytest.mark.parametrize(("text", "kind", "name"), [
    (_object("Secret", stringData={"a": "b"}), "Secret", "db"),
    (_object("ConfigMap", data={"a": "b"}), "ConfigMap", "db"),
    (_object("ExternalSecret", "external-secrets.io/v1", spec={"target": {"name": "db-secret"}}), "Secret",
     "db-secret"),
    (_object("ExternalSecret", "external-secrets.io/v1beta1", spec={}), "Secret", "db"),  # target: metadata.name
    (_object("SealedSecret", "bitnami.com/v1alpha1", spec={"template": {"metadata": {"annotations": {
        "sealedsecrets.bitnami.com/cluster-wide": "true"}}}}), "Secret", "db"),
])
def test_the_four_kinds_are_versioned_under_the_name_pods_use(text, kind, name):
    plain, versions, problems = _split(text)
    assert (plain, problems) == ([], [])
    [version] = versions
    assert (version.kind, version.name, version.current) == (kind, name, True)
    assert version.hashed_name == f"{name}-{version.digest[7:17]}"
    out = rendered(version).obj
    assert out["metadata"]["name"].endswith(version.digest[7:17])
    if out["kind"] == "ExternalSecret" and "target" in out["spec"]:
        assert out["spec"]["target"]["name"] == version.hashed_name


def test_false_means_unversioned_and_other_values_are_refused():
    plain, versions, problems = _split(_object("Secret", annotations={"bgrender.io/versioned": "false"}))
    assert (len(plain), versions, problems) == (1, [], [])
    _, _, problems = _split(_object("Secret", annotations={"bgrender.io/versioned": "True"}))
    assert [p.message for p in problems] == ['must be "true" or "false", got "True"']


def test_the_last_document_of_a_name_is_the_current_version():
    text = _object("Secret", stringData={"v": "1"}) + "---\n" + _object("Secret", stringData={"v": "2"})
    _, versions, problems = _split(text)
    assert not problems
    assert [v.current for v in versions] == [False, True]
    _, _, twice = _split(_object("Secret", stringData={"v": "1"}) + "---\n" + _object("Secret", stringData={"v": "1"}))
    assert "is written twice" in twice[0].message


NAMES = st.sampled_from(["db", "flags", "other"])
KINDS = st.sampled_from(["ConfigMap", "Secret"])


@st.composite
def pod_specs(draw: st.DrawFn) -> dict:
    """Pod specs naming ConfigMaps and Secrets in every place a pod can."""
    def source(kind: str) -> dict:
        return {"configMap": {"name": draw(NAMES)}} if kind == "ConfigMap" else {"secret": {"name": draw(NAMES)}}

    def volume(i: int) -> dict:
        if draw(st.booleans()):
            kind = draw(KINDS)
            return {"name": f"v{i}", **({"configMap": {"name": draw(NAMES)}} if kind == "ConfigMap"
                                        else {"secret": {"secretName": draw(NAMES)}})}
        sources = [source(draw(KINDS)) for _ in range(draw(st.integers(0, 2)))]
        return {"name": f"v{i}", "projected": {"sources": sources}}

    def container(i: int) -> dict:
        refs = {"ConfigMap": ("configMapRef", "configMapKeyRef"), "Secret": ("secretRef", "secretKeyRef")}
        return {"name": f"c{i}",
                "envFrom": [{refs[k][0]: {"name": draw(NAMES)}} for k in draw(st.lists(KINDS, max_size=2))],
                "env": [{"name": f"E{j}", "valueFrom": {refs[k][1]: {"name": draw(NAMES), "key": "k",
                                                                     "optional": True}}}
                        for j, k in enumerate(draw(st.lists(KINDS, max_size=2)))]}

    return {"containers": [container(i) for i in range(draw(st.integers(1, 2)))],
            "initContainers": [container(9) for _ in range(draw(st.integers(0, 1)))],
            "imagePullSecrets": [{"name": draw(NAMES)} for _ in range(draw(st.integers(0, 1)))],
            "volumes": [volume(i) for i in range(draw(st.integers(0, 3)))]}


@settings(max_examples=300, deadline=None)
@given(spec=pod_specs())
def test_mount_renames_every_reference_to_a_versioned_object_of_its_kind_and_nothing_else(spec):
    """A versioned Secret "db" and a versioned ConfigMap "flags": a Secret reference to "db" and
    a ConfigMap reference to "flags" follow them; a ConfigMap "db" or a Secret "flags" does not."""
    _, versions, _ = _split(_object("Secret", name="db", stringData={"k": "v"}) + "---\n"
                            + _object("ConfigMap", name="flags", data={"k": "v"}))
    hashed = {(v.kind, v.name): v.hashed_name for v in versions}
    template = {"metadata": {}, "spec": spec}
    original = copy.deepcopy(template)
    mounted, pins, _ = mount(copy.deepcopy(template), versions, lambda path, message: Problem("f", 1, 1, "", message))
    for before, after in zip(references(original["spec"]), references(mounted["spec"]), strict=True):
        assert after.name == hashed.get((before.kind, before.name), before.name)
    assert set(pins) == {after.name for after in references(mounted["spec"])} & set(hashed.values())


def test_a_forged_lock_whose_versioned_name_does_not_carry_its_digest_fails_closed(tmp_path: Path):
    """An entry whose digest was recomputed over a versioned pin renamed by hand (two contents
    under one name) is refused, as a ConfigMap's is."""
    from bgrender.app.pipeline import render_app

    app = Path(shutil.copytree(GOLDEN / "render" / "versioned-secret-pinned-by-the-lock", tmp_path / "app"))
    lock = yaml.safe_load((app / "bluegreen.lock.yaml").read_text())
    blue = lock["colors"]["blue"]
    [(name, digest)] = [(n, d) for n, d in blue["versioned"].items() if n.startswith("web-db-")]
    other = next(n for n in lock["colors"]["green"]["versioned"] if n.startswith("web-db-"))
    blue["versioned"] = {**{n: d for n, d in blue["versioned"].items() if n != name}, other: digest}
    content = {"version": blue["version"], "selector": blue["selector"]["matchLabels"], "template": blue["template"],
               "versioned": blue["versioned"]}
    blue["digest"] = digest_of(content)
    (app / "bluegreen.lock.yaml").write_text(yaml.safe_dump(lock))
    with pytest.raises(InvalidInput) as err:
        render_app(app / "bluegreen.yaml", clean_env(SIDECAR_ENV))
    assert any(p.path == f"colors.blue.versioned.{other}" and "does not match the digest" in p.message
               for p in err.value.problems), err.value.problems


def test_a_rotation_from_start_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Release the new version (idle only), promote, release again: the old version is then run
    by no color, `validate` says its document may go, and without it the app still renders."""
    from click.testing import CliRunner

    from bgrender.cli.main import cli

    from .conftest import runner_env

    app = Path(shutil.copytree(Path(__file__).parent / "release" / "golden" / "release-versioned-secret",
                               tmp_path / "app", ignore=shutil.ignore_patterns("expected*", "args")))
    monkeypatch.chdir(app)

    def run(*args: str):
        result = CliRunner().invoke(cli, list(args), env=runner_env(SIDECAR_ENV))
        assert result.exit_code == 0, result.stderr
        return result

    run("release", ".")
    assert "may be removed" not in run("validate", ".").stderr  # production runs the old version
    run("promote", ".")
    assert "may be removed" not in run("validate", ".").stderr  # the idle color does: the rollback target
    run("release", "v1.2.0", ".")
    note = run("validate", ".").stderr
    assert 'no color runs the version "web-db-bb7570865c" of the Secret "web-db" (secrets.yaml:4)' in note
    secrets = (app / "secrets.yaml").read_text().split("---\n")
    (app / "secrets.yaml").write_text("---\n".join(d for d in secrets if "s3cr3t-CANARY-stringdata" not in d))
    assert "web-db-bb7570865c" not in run("render").stdout


def test_a_config_map_is_versioned_one_way_only(tmp_path: Path):
    from bgrender.app.pipeline import render_app

    app = Path(shutil.copytree(GOLDEN / "render" / "versioned-secrets-first-render", tmp_path / "app"))
    with (app / "bluegreen.yaml").open("a") as intent:
        intent.write("  configMaps:\n    - name: web-flags\n      data: {A: b}\n")
    with pytest.raises(InvalidInput) as err:
        render_app(app / "bluegreen.yaml", clean_env(SIDECAR_ENV))
    assert [p.message for p in err.value.problems] == [
        'spec.configMaps declares "web-flags" too; version a ConfigMap one way only']
