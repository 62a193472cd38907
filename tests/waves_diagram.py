"""The sync-waves diagram of docs/render.md, generated from a real render.

    .venv/bin/python -m tests.waves_diagram

prints the mermaid text: examples/orders (resources, config, autoscaling, a disruption budget)
with PROMOTION added (a smoke test, a `before` and an `after` analysis), so that every wave has
objects, rendered by the installed `bgrender` with the sidecar's environment, each object in the
box of its phase and wave, in Argo CD's order. tests/test_docs_site.py holds the page to it;
`BGRENDER_UPDATE_GOLDEN=1` rewrites the page's diagram.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from .conftest import BGRENDER, REPO, SIDECAR_ENV, clean_env

EXAMPLE = REPO / "examples" / "orders"
# Appended to the example's spec; the page shows this block as it is.
PROMOTION = """\
  promotion:
    smokeTest:
      path: /healthz
    analysis:
      address: http://prometheus.istio-system:9090
      after: true
      queries:
        - name: error-rate
          query: sum(rate(istio_requests_total{destination_app="{{ name }}", response_code=~"5.."}[2m]))
          successCondition: result < 1
"""
HOOK = "argocd.argoproj.io/hook"
WAVE = "argocd.argoproj.io/sync-wave"


def rendered() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bgrender-waves-") as work:
        app = Path(shutil.copytree(EXAMPLE, Path(work) / EXAMPLE.name))
        intent = app / "bluegreen.yaml"
        intent.write_text(intent.read_text() + PROMOTION)
        result = subprocess.run([BGRENDER, "render", str(app)], env=clean_env(SIDECAR_ENV), capture_output=True,
                                text=True, check=True)
    return list(yaml.safe_load_all(result.stdout))


def boxes(objects: list[dict]) -> list[tuple[str, list[str]]]:
    """(phase and wave, the objects in it) in the order of the render, which is Argo CD's."""
    found: dict[str, list[str]] = {}
    for obj in objects:
        annotations = obj["metadata"].get("annotations") or {}
        phase = "PostSync" if annotations.get(HOOK) == "PostSync" else "Sync"
        hook = " (hook)" if HOOK in annotations else ""
        title = f"{phase}, wave {annotations.get(WAVE, '0')}"
        found.setdefault(title, []).append(f"{obj['kind']} {obj['metadata']['name']}{hook}")
    return list(found.items())


def mermaid(objects: list[dict]) -> str:
    lines = ["flowchart TB"]
    names = []
    for number, (title, members) in enumerate(boxes(objects)):
        names.append(f"w{number}")
        label = "<br/>".join([f"<b>{title}</b>", *members])
        lines.append(f'  w{number}["{label}"]')
    lines.append("  " + " --> ".join(names))
    return "\n".join(lines) + "\n"


def main() -> None:
    print(mermaid(rendered()), end="")


if __name__ == "__main__":
    main()
