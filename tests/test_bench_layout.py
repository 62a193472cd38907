"""The benchmark's baseline stays faithful to the seed post, and the benchmark script runs.

`bench/seed-layout/` rebuilds the post's layout (its tree holds ten files, which the README and
the example count too); `bench/run.py` times it against `bgrender render`. These tests build
the four directories the post's Argo CD apps point at and check that the post's selector bug
(commonLabels puts `version` into the selector) is still there. They do not time anything.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "bench" / "seed-layout" / "gorilla-sfx-demo" / "eks"
KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None,
                                   reason="kubectl (with built-in kustomize) is not on PATH")

VERSIONS = {"blue": "3f9c2e1d", "green": "8a1b0c4e"}
IMAGE = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/gorilla-sfx-demo"


def kustomize(directory: str) -> list[dict]:
    assert KUBECTL is not None
    done = subprocess.run([KUBECTL, "kustomize", str(SEED / directory)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def kinds_and_names(objects: list[dict]) -> list[tuple[str, str]]:
    return sorted((o["kind"], o["metadata"]["name"]) for o in objects)


@needs_kubectl
def test_root_builds_only_the_shared_objects() -> None:
    objects = kustomize(".")
    assert kinds_and_names(objects) == [
        ("DestinationRule", "gorilla-sfx-demo-destination"),
        ("Service", "gorilla-sfx-demo-service"),
    ]
    rule = next(o for o in objects if o["kind"] == "DestinationRule")
    assert rule["spec"]["subsets"] == [
        {"name": color, "labels": {"deploy": color}} for color in ("blue", "green")
    ]


@needs_kubectl
@pytest.mark.parametrize("color", ["blue", "green"])
def test_color_directory_reproduces_the_selector_bug(color: str) -> None:
    [deployment] = kustomize(f"deployment/{color}")
    assert deployment["metadata"]["name"] == f"gorilla-sfx-demo-deployment-{color}"
    short = VERSIONS[color][:7]  # the post's CI labels with `cut -b 1-7` of the SHA
    # The post's error message: {"app":"gorilla-sfx-demo", "deploy":"green", "version":...}
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "app": "gorilla-sfx-demo", "deploy": color, "version": short,
    }
    template = deployment["spec"]["template"]["metadata"]
    assert template["labels"]["version"] == short
    assert template["annotations"] == {"version": VERSIONS[color]}
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{IMAGE}:{VERSIONS[color]}"


@needs_kubectl
def test_virtualservice_directory_chooses_one_variant() -> None:
    [service] = kustomize("virtualservice")
    assert service["metadata"]["name"] == "gorilla-sfx-demo-virtualservice"
    header_route, default_route = service["spec"]["http"]
    assert header_route["match"] == [{"headers": {"x-deploy": {"exact": "green"}}}]
    assert header_route["route"][0]["destination"]["subset"] == "green"
    assert default_route["route"][0]["destination"] == {
        "host": "gorilla-sfx-demo-service", "subset": "blue", "port": {"number": 9090},
    }


def test_the_seed_layout_holds_the_ten_files_the_post_shows_and_the_docs_say_so() -> None:
    files = sorted(p.relative_to(SEED).as_posix() for p in SEED.rglob("*") if p.is_file())
    assert len(files) == 10
    assert [f for f in files if f.endswith("kustomization.yaml")] == [
        "deployment/blue/kustomization.yaml", "deployment/green/kustomization.yaml", "kustomization.yaml",
        "virtualservice/kustomization.yaml"]
    assert "**Ten files and four Argo CD Applications per app**" in (REPO / "README.md").read_text()
    assert "the post's ten files" in (REPO / "examples" / "gorilla-sfx-demo" / "bluegreen.yaml").read_text()


def test_both_virtualservice_variants_exist() -> None:
    for active, idle in (("blue", "green"), ("green", "blue")):
        path = SEED / "virtualservice" / f"gorilla-sfx-demo-istio-virtualservice-{active}.yaml"
        routes = yaml.safe_load(path.read_text())["spec"]["http"]
        assert routes[0]["match"] == [{"headers": {"x-deploy": {"exact": idle}}}]
        assert routes[-1]["route"][0]["destination"]["subset"] == active


def _bgrender_script() -> Path | None:
    beside_python = Path(sys.executable).parent / "bgrender"
    for candidate in (beside_python, REPO / ".venv" / "bin" / "bgrender"):
        if candidate.is_file():
            return candidate
    return None


@needs_kubectl
def test_bench_script_prints_the_table() -> None:
    script = _bgrender_script()
    if script is None:
        pytest.skip("the bgrender console script is not installed")
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--runs", "1", "--big-runs", "1", "--warmup", "0",
         "--bgrender", str(script)],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "| command | median wall ms | p90 wall ms | median CPU ms |" in done.stdout
    for path in ("local", "Argo CD's env"):
        assert f"`bgrender render` (examples/gorilla-sfx-demo), {path} |" in done.stdout
    assert "`bgrender render`, 1 MiB base, both colors" in done.stdout
    for subject in ("templated app without a lock", "`bgrender render --output json`", "50 resources and 20 ConfigMaps",
                    "`bgrender release 5d7e9f01`", "`bgrender promote`", "`bgrender rollback`"):
        assert subject in done.stdout
    assert done.stdout.count("render imports neither `kubernetes` nor `jinja2`") == 2
    # four render ratios, three edit ratios, one peak for all, the 1 MiB ratio, two import checks
    assert done.stdout.count("| PASS |") + done.stdout.count("| FAIL |") == 11
