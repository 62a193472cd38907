"""What a newcomer reads agrees with the product: the quick start renders without the cluster
extra, completion works as documented, the sync-wave table is waves.py's, the schema's hover
text cites only what the repository holds, and every place that names the project's home, its
version tag or the schema's address names the same one."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from bgrender import waves
from bgrender.intent.schema import SCHEMA_ID, json_schema

from .conftest import BGRENDER, REPO, clean_env

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

README = (REPO / "README.md").read_text()
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
HOME = PROJECT["urls"]["Homepage"]
TAG = "v" + PROJECT["version"]


def section(title: str) -> str:
    """The README's section under the heading `title`, up to the next heading of any level."""
    return README.split(f"\n{title}\n", 1)[1].split("\n#", 1)[0]


def anchors() -> set[str]:
    """GitHub's anchors of the README's headings."""
    titles = re.findall(r"^#+ (.+)$", README, re.M)
    return {re.sub(r"[^\w\- ]", "", t.lower()).replace(" ", "-") for t in titles}


# --- the quick start --------------------------------------------------------------------------


def test_the_quick_start_installs_no_extra_and_renders():
    command = re.search(r"```sh\n(.*?)\n```", section("## Quick start"), re.S).group(1)
    install = re.search(r"pip install (?:-q )?(\S+)", command).group(1)
    assert install == ".", f"the first command installs {install}: a render needs no extra"
    assert command.endswith("bgrender render examples/gorilla-sfx-demo")
    assert "kubernetes" not in str(PROJECT["dependencies"])  # plain bgrender has no Kubernetes client
    # (tests/test_startup.py holds that a render imports no kubernetes module.)


# --- completion -------------------------------------------------------------------------------


COMPLETION_ROWS = re.findall(r"^\| (bash|zsh|fish) \| `[^`]+` \| `(.+)` \|$", section("### Shell completion"), re.M)


def test_completion_is_documented_for_bash_zsh_and_fish():
    assert [shell for shell, _ in COMPLETION_ROWS] == ["bash", "zsh", "fish"]


@pytest.mark.parametrize(("shell", "line"), COMPLETION_ROWS, ids=[shell for shell, _ in COMPLETION_ROWS])
def test_each_documented_completion_line_prints_a_script(shell: str, line: str):
    """The variable and value the README's line sets, given to the installed bgrender."""
    variable, value = re.search(r"(_BGRENDER_COMPLETE)=(\w+) bgrender", line.replace("\\|", "|")).groups()
    result = subprocess.run([BGRENDER], env={**clean_env(), variable: value}, capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    start = {"bash": "_bgrender_completion() {", "zsh": "#compdef bgrender", "fish": "function _bgrender_completion"}
    assert result.stdout.lstrip().startswith(start[shell])
    assert "_BGRENDER_COMPLETE" in result.stdout  # the script calls bgrender back for its words


# --- sync waves -------------------------------------------------------------------------------


# A phrase of each row of the README's table, and the wave waves.py gives it.
WAVE_ROWS = {
    "each color's Service": str(waves.SHARED),
    "the active color's Deployment": str(waves.ACTIVE),
    "smoke test of the active color": str(waves.SMOKE_TEST),
    "the capacity hook": str(waves.CAPACITY),
    "`before` analysis of the active color": str(waves.ANALYSIS),
    "the VirtualService or the HTTPRoutes": str(waves.ROUTES),
    "the scale-down delay": str(waves.SCALE_DOWN_DELAY),
    "the idle color's Deployment": str(waves.IDLE),
    "smoke test of the idle color": f"PostSync {waves.POST_SMOKE_TEST}",
    "`after` analysis of the production color": f"PostSync {waves.POST_ANALYSIS}",
}


def test_the_sync_wave_table_is_waves_py():
    rows = re.findall(r"^\| ([^|]+?) \| ([^|]+?) \|", section("### Sync waves"), re.M)[2:]  # after the header
    for phrase, wave in WAVE_ROWS.items():
        holding = [w for w, objects in rows if phrase in objects]
        assert holding == [wave], f"{phrase!r}: the README's table says wave {holding}, waves.py {wave}"


@pytest.mark.parametrize(("pattern", "wave"), [
    (r"idle color's\s+Deployment\s+\(wave (-?\d+)\)", waves.IDLE),
    (r"active color's\s+Deployment\s+\(wave (-?\d+)\)", waves.ACTIVE),
    (r"the routes\s+\(wave (-?\d+)\)", waves.ROUTES),
    (r"smoke test \(wave (-?\d+)\)", waves.SMOKE_TEST),
])
def test_the_prose_names_the_waves_of_waves_py(pattern: str, wave: int):
    """The migration guide and the rest of the README: each mention of these waves."""
    found = [int(w) for w in re.findall(pattern, README)]
    assert found and set(found) == {wave}, found


# --- the schema's text ------------------------------------------------------------------------


def _descriptions(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["description"]] if isinstance(node.get("description"), str) else []
        return own + [d for value in node.values() for d in _descriptions(value)]
    if isinstance(node, list):
        return [d for value in node for d in _descriptions(value)]
    return []


def test_schema_descriptions_cite_no_design_section_and_only_readme_anchors_that_exist():
    descriptions = _descriptions(json_schema())
    assert len(descriptions) > 50
    assert [d for d in descriptions if "DESIGN" in d or "§" in d] == []
    cited = {a for d in descriptions for a in re.findall(r"README\.md#([\w-]+)", d)}
    assert cited and cited <= anchors(), cited - anchors()


# --- the project's home, version tag and schema address ---------------------------------------


DOCS = [REPO / "README.md", REPO / ".pre-commit-hooks.yaml", REPO / "Dockerfile", REPO / "CHANGELOG.md",
        *sorted((REPO / "examples").rglob("*.y*ml"))]


def test_every_link_to_the_project_names_its_home():
    links = {(p.name, m) for p in DOCS for m in re.findall(r"https://github\.com/[\w.<>-]+/bgrender\b", p.read_text())}
    assert links and {m for _, m in links} <= {HOME, "https://github.com/<org>/bgrender"}, links
    forks = [name for name, m in links if "<org>" in m]
    assert forks == ["README.md"]  # only where the README says how a fork labels its image


def test_every_pinned_version_is_the_package_version_and_the_changelog_has_it():
    pins = {(p.name, m) for p in DOCS for m in re.findall(r"(?:rev: |bgrender@|\?ref=)(v[\d.]+)", p.read_text())}
    assert {name for name, _ in pins} >= {"README.md", ".pre-commit-hooks.yaml", "github-actions.yaml",
                                          "circleci.yaml", "kustomization.yaml"}
    assert {tag for _, tag in pins} == {TAG}, pins
    assert f'ARG VERSION={PROJECT["version"]}\n' in (REPO / "Dockerfile").read_text()
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert "\n## [Unreleased]\n" in changelog
    assert re.search(rf"^## \[{re.escape(PROJECT['version'])}\] - \d{{4}}-\d\d-\d\d$", changelog, re.M)
    assert f"[{PROJECT['version']}]: {HOME}/releases/tag/{TAG}\n" in changelog
    assert f"[Unreleased]: {HOME}/compare/{TAG}...HEAD\n" in changelog
    assert "releasing-bgrender" in anchors()  # where CHANGELOG.md says how a version is tagged


def test_the_schema_id_is_on_the_docs_site_and_the_docs_name_it():
    assert json_schema()["$id"] == SCHEMA_ID
    assert SCHEMA_ID.startswith(PROJECT["urls"]["Documentation"] + "schemas/")
    assert SCHEMA_ID in README and SCHEMA_ID in (REPO / "CHANGELOG.md").read_text()
    printed = subprocess.run([BGRENDER, "schema"], env=clean_env(), capture_output=True, text=True, timeout=60)
    assert json.loads(printed.stdout)["$id"] == SCHEMA_ID


def test_the_package_says_who_made_it_and_where_it_lives():
    assert PROJECT["authors"] == [{"name": "bgrender developers"}]
    assert "Programming Language :: Python :: 3" in PROJECT["classifiers"]
    assert HOME == "https://github.com/bgrender/bgrender"
    assert set(PROJECT["urls"]) >= {"Homepage", "Documentation", "Changelog", "Issues"}


# --- exit codes -------------------------------------------------------------------------------


def test_the_exit_code_tables_keep_drift_and_an_unreadable_cluster_apart():
    from bgrender.errors import EXIT_CLUSTER_UNREADABLE, EXIT_DRIFT, ClusterError, Drift

    assert (Drift.exit_code, ClusterError.exit_code) == (EXIT_DRIFT, EXIT_CLUSTER_UNREADABLE) == (3, 4)
    table = dict(re.findall(r"^\| (\d) \| (.+)$", section("### Exit codes"), re.M))
    assert "not in sync (drift)" in table["3"] and "could not be read" not in table["3"]
    assert "the cluster could not be read" in table["4"]
    summary = section("## Command line")
    assert "**3** the cluster disagrees with Git (drift)" in summary
    assert "**4** the cluster could not\nbe read" in summary
