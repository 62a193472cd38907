"""`bgrender import SOURCE_DIR OUT_DIR` (DESIGN §13): golden cases, then what an imported app does.

tests/golden/import/<case>/ holds `source/` (the layout; the seed case's is a link to
bench/seed-layout, the seed post's own), optionally `out/` (what OUT_DIR holds before) and
`env.yaml` (variables to set), and the expectations: `expected/` (the files OUT_DIR holds
after), `expected.out`, `expected.err`, and `exit_code` when not 0. Each case runs from a copy,
as `bgrender import source out`. BGRENDER_UPDATE_GOLDEN=1 rewrites the expectations.

A case whose layout holds kustomizations needs `kustomize` or `kubectl` on PATH, and skips
without them. Every imported app must then render and validate, and each color's pod
template must be the one running live (the layout's build) with only the intended changes.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from bgrender.cli.main import cli
from bgrender.colors import COLORS
from bgrender.images import image_reference
from bgrender.importing.layouts import KUSTOMIZATION_FILES, read_layout
from bgrender.importing.recognize import recognize
from bgrender.labels import VERSION_ANNOTATION, version_label_value
from bgrender.yamlfile.document import get_in

from .conftest import REPO, UPDATE, case_env, cases, check_golden, runner_env

CASES = cases("import")
KUSTOMIZE = shutil.which("kustomize") or shutil.which("kubectl")
SEED_LAYOUT = REPO / "bench" / "seed-layout" / "gorilla-sfx-demo"


def _needs_kustomize(case: Path) -> bool:
    layout = any(p.name in KUSTOMIZATION_FILES for p in (case / "source").rglob("*"))
    return layout and "PATH" not in case_env(case)


def _cases(*, succeeding: bool | None = None) -> list:
    chosen = [c for c in CASES if succeeding is None or (c / "exit_code").exists() != succeeding]
    return [pytest.param(c, id=c.name, marks=pytest.mark.skipif(
        _needs_kustomize(c) and KUSTOMIZE is None, reason="needs kustomize or kubectl (built-in kustomize) on PATH"))
        for c in chosen]


def _workdir(case: Path, tmp_path: Path) -> Path:
    work = tmp_path / "work"
    shutil.copytree(case / "source", work / "source")  # the seed case's link is followed
    if (case / "out").is_dir():
        shutil.copytree(case / "out", work / "out")
    return work


def _run(args: list[str], work: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str] | None = None) -> Result:
    monkeypatch.chdir(work)
    return CliRunner().invoke(cli, args, env=runner_env(env or {}))


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _check_written(case: Path, out: Path) -> None:
    expected = case / "expected"
    if UPDATE:
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(out, expected)
    assert _tree(out) == _tree(expected), f"{case.name}: OUT_DIR differs from {expected}"


@pytest.mark.parametrize("case", _cases())
def test_import_case(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    work = _workdir(case, tmp_path)
    before = _tree(work)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    result = _run(["import", "source", "out"], work, monkeypatch, case_env(case))

    if UPDATE and result.exit_code:
        (case / "exit_code").write_text(f"{result.exit_code}\n")
    code = int((case / "exit_code").read_text()) if (case / "exit_code").exists() else 0
    assert result.exit_code == code, result.stderr
    assert "Traceback" not in result.stderr
    check_golden(case / "expected.out", result.stdout)
    check_golden(case / "expected.err", result.stderr)
    assert list(scratch.iterdir()) == []  # the scratch directory is gone
    if code:
        assert result.stdout == ""
        assert _tree(work) == before and sorted(p.name for p in work.iterdir()) == sorted(
            p.name for p in (case.iterdir()) if p.name in ("source", "out"))
    else:
        _check_written(case, work / "out")
        assert result.stdout.splitlines() == [f"out/{name}" for name in
                                              ("deployment.yaml", "bluegreen.lock.yaml", "bluegreen.yaml")]


@pytest.mark.parametrize("case", _cases(succeeding=True))
def test_imported_app_renders_validates_and_runs_what_runs_live(case: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch):
    work = _workdir(case, tmp_path)
    assert _run(["import", "source", "out"], work, monkeypatch).exit_code == 0
    rendered = _run(["render", "out"], work, monkeypatch)
    assert rendered.exit_code == 0, rendered.stderr
    validated = _run(["validate", "out"], work, monkeypatch)
    *warnings, valid, total = validated.stderr.splitlines()
    assert (validated.exit_code, valid, total) == (0, "out/bluegreen.yaml: valid", "1 of 1 app valid")
    assert all(": warning: " in line for line in warnings), warnings  # config the layout does not version

    live = recognize(read_layout("source"))
    objects = list(yaml.safe_load_all(rendered.stdout))
    deployments = {d["spec"]["selector"]["matchLabels"][live.color_label]: d for d in objects
                   if d["kind"] == "Deployment"}
    assert set(deployments) == set(COLORS)
    for color in COLORS:
        new = deployments[color]
        # What runs live, plus the mark of the release (bgrender.io/release, added at render).
        meta = new["spec"]["template"]["metadata"]
        assert meta["labels"].pop("bgrender.io/release") == meta["annotations"].pop("bgrender.io/release")
        assert new["spec"]["template"] == _intended(live, color)
        assert new["spec"]["selector"]["matchLabels"] == {**live.app_labels, live.color_label: color}
        old_name = live.deployments[color].name  # kept only where the selector stays and the name fits <base>-<color>
        assert (new["metadata"]["name"] == old_name) == (not live.selector_changes and old_name.endswith(f"-{color}"))
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for kept in (live.service, live.virtual_service):
        assert (kept.kind, kept.name) in names  # adopted under their names
    # Routing by host needs no DestinationRule (DESIGN §16); one per color host carries a traffic policy (§18).
    traffic_policy = get_in(live.destination_rule.data, ("spec", "trafficPolicy"))
    assert {n for kind, n in names if kind == "DestinationRule"} == (
        {f"{live.destination_rule.name}-{c}" for c in COLORS} if traffic_policy else set())
    [service] = [o for o in objects if o["kind"] == "VirtualService"]
    production = service["spec"]["http"][-1]["route"][0]["destination"]
    assert production["host"] == f"{live.service.name}-{live.routes.active}"


def _intended(live, color: str) -> dict:
    """The live pod template with bgrender's changes: its version label's value, the version
    annotation, and the image written from the version (a tag and a digest: the digest)."""
    template = yaml.safe_load(yaml.safe_dump(live.deployments[color].data["spec"]["template"]))
    version = live.versions[color]
    metadata = template["metadata"]
    metadata["labels"][live.version_label] = version_label_value(version)
    metadata["annotations"] = {**metadata.get("annotations", {}), VERSION_ANNOTATION: version}
    for key in ("containers", "initContainers"):
        for container in template["spec"].get(key, []):
            if container["name"] == live.container or key == "initContainers" and container["image"].startswith(
                    live.image):
                container["image"] = image_reference(live.image, version)
    return template


def test_every_kind_of_case_is_there():
    names = {c.name for c in CASES}
    assert {"seed", "error-out-not-empty", "error-no-kustomize", "error-unrecognizable",
            "error-ambiguous-deployments"} <= names
    assert (CASES[0].parent / "seed" / "source").resolve() == SEED_LAYOUT / "eks"


@pytest.mark.skipif(KUSTOMIZE is None, reason="needs kustomize or kubectl (built-in kustomize) on PATH")
def test_the_readme_shows_what_import_prints_for_the_seed_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    command = "bgrender import gorilla-sfx-demo/eks apps/gorilla-sfx-demo"
    readme = (REPO / "README.md").read_text()
    shown = readme.split(f"$ {command}\n", 1)[1].split("```", 1)[0]
    shutil.copytree(SEED_LAYOUT, tmp_path / "gorilla-sfx-demo")
    (tmp_path / "apps").mkdir()
    result = _run(command.split()[1:], tmp_path, monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert shown == result.stderr + result.stdout  # on a terminal, the notes come first


@pytest.mark.skipif(KUSTOMIZE is None, reason="needs kustomize or kubectl (built-in kustomize) on PATH")
def test_a_source_dir_that_looks_like_an_option_reaches_kustomize_as_a_path(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch):
    seed = next(c for c in CASES if c.name == "seed")
    work = _workdir(seed, tmp_path)
    (work / "source").rename(work / "-source")
    result = _run(["import", "--", "-source", "out"], work, monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert _tree(work / "out") == _tree(seed / "expected")
