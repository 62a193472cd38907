"""An app with a metric gate goes through the Git side as any app: `validate` and `release` check
what Git holds (the sidecar's image taken as given), while `render`, like the sidecar, needs the
image and fails closed without it."""

from __future__ import annotations

import shutil
import subprocess

from ..conftest import BGRENDER, GOLDEN, clean_env

CASE = GOLDEN / "render" / "analysis-auto-service-provider-image-from-env"  # no promotion.image


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([BGRENDER, *args], env=clean_env(env), capture_output=True, text=True, timeout=60)


def test_validate_and_release_need_no_image_but_render_does(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(CASE, app)
    (app / "env.yaml").unlink()
    validated = _run("validate", str(app))
    assert validated.returncode == 0, validated.stderr
    released = _run("release", "v1.2.0", str(app))
    assert released.returncode == 0, released.stderr
    assert "version: v1.2.0" in (app / "bluegreen.yaml").read_text()
    rendered = _run("render", str(app))
    assert (rendered.returncode, rendered.stdout) == (1, "")
    assert "spec.promotion.analysis: needs the bgrender image to run its Jobs" in rendered.stderr
    with_image = _run("render", str(app), env={"BGRENDER_IMAGE": "registry.example.com/platform/bgrender:0.1.0"})
    assert with_image.returncode == 0 and "image: registry.example.com/platform/bgrender:0.1.0" in with_image.stdout


def test_a_namespace_variable_without_a_namespace_renders_an_empty_one_and_analyze_refuses_it(tmp_path):
    """Argo CD always passes the destination's namespace; a query naming none matches no Istio
    series, so the gate is inconclusive rather than wrong. From a terminal it is an error."""
    app = tmp_path / "app"
    shutil.copytree(CASE, app)
    (app / "env.yaml").unlink()
    rendered = _run("render", str(app), env={"BGRENDER_IMAGE": "registry.example.com/platform/bgrender:0.1.0"})
    assert rendered.returncode == 0 and 'namespace=\\"\\"' in rendered.stdout
    analyzed = _run("analyze", str(app), "--color", "green")
    assert (analyzed.returncode, analyzed.stdout) == (1, "")
    assert "queries[0].query: uses {{ namespace }}, but the app has no namespace" in analyzed.stderr
