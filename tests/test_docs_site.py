"""The docs site builds strictly, and its pages hold to the product.

`mkdocs build --strict` (mkdocs.yml: strict, and `validation` warning on a broken link, a
missing anchor, a page left out of the nav) must pass without a single warning, and must fail
when a link breaks; the site serves the JSON Schema that `bgrender schema` prints at its `$id`;
the sync-wave table is waves.py; the waves diagram is what a render of its app gives.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from bgrender import waves

from . import waves_diagram
from .conftest import BGRENDER, DOCS, REPO, UPDATE, clean_env, doc, docs_pages, mkdocs_config

MKDOCS = Path(sys.executable).with_name("mkdocs")
SCHEMA = "schemas/bluegreen-v1alpha1.json"


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**clean_env(), "NO_MKDOCS_2_WARNING": "1"}  # no notice about the generator's future on stderr
    return subprocess.run([str(MKDOCS), "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
                          cwd=config.parent, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not MKDOCS.exists():
        pytest.fail(f"{MKDOCS} is missing: install the docs extra (pip install -e '.[docs]'; the test extra has it)")
    site = tmp_path_factory.mktemp("site")
    started = time.monotonic()
    result = build(REPO / "mkdocs.yml", site)
    print(f"strict docs build: {time.monotonic() - started:.1f} s")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if not line.startswith("INFO")]
    assert warnings == [], "\n".join(warnings)
    return site


def test_the_strict_build_passes_without_a_warning(site: Path) -> None:
    for page in docs_pages():
        assert (site / page.removesuffix(".md").removesuffix("index") / "index.html").exists(), page


def spoiled_copy(tmp_path: Path) -> Path:
    """A repository beside this one, for a build: docs/ and mkdocs.yml copied (to spoil), the
    rest linked, so that links to the repository's files still resolve."""
    root = tmp_path / "repo"
    root.mkdir()
    for entry in REPO.iterdir():
        if entry.name in {"docs", "mkdocs.yml", "README.md", ".git", ".venv"}:
            continue
        (root / entry.name).symlink_to(entry)
    shutil.copytree(DOCS, root / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copy(REPO / "README.md", root / "README.md")
    return root


@pytest.mark.parametrize(("link", "says"), [
    ("[waves](render.md#no-such-wave)", "does not contain an anchor '#no-such-wave'"),
    ("[waves](#no-such-section)", "there is no such anchor on this page"),
    ("[gone](no-such-page.md)", "not found among documentation files"),
    ("[gone](../examples/no-such-example)", "not a file of the repository"),
])
def test_a_broken_link_or_anchor_fails_the_build(tmp_path: Path, link: str, says: str) -> None:
    """The check can fail: the same build over a copy whose Command line page has one broken link."""
    root = spoiled_copy(tmp_path)
    page = root / "docs" / "cli.md"
    page.write_text(page.read_text() + f"\nSee {link}.\n")
    result = build(root / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert says in result.stderr, result.stderr


def test_the_readme_maps_every_page_and_every_page_is_in_the_nav() -> None:
    pages = docs_pages()
    assert pages[0] == "index.md" and "<!-- include: ../README.md -->" in (DOCS / "index.md").read_text()
    assert sorted(pages) == sorted(p.name for p in DOCS.glob("*.md"))
    readme = (REPO / "README.md").read_text()
    for page in pages[1:]:
        target = "SECURITY.md" if page == "security.md" else f"docs/{page}"
        assert f"]({target})" in readme, f"the README's map does not link {target}"


def test_the_site_publishes_the_json_schema_at_its_id(site: Path) -> None:
    printed = subprocess.run([BGRENDER, "schema"], capture_output=True, text=True, check=True).stdout
    assert (site / SCHEMA).read_text() == printed
    assert json.loads(printed)["$id"] == mkdocs_config()["site_url"] + SCHEMA


# waves.py's constants, and a phrase of the row of docs/render.md's table that holds each.
ROWS = {
    "SHARED": "each color's Service, ConfigMaps, `resources`",
    "ACTIVE": "the active color's Deployment",
    "SMOKE_TEST": "smoke test of the active color",
    "CAPACITY": "the capacity hook",
    "ANALYSIS": "`before` analysis of the active color",
    "ROUTES": "the VirtualService or the HTTPRoutes",
    "SCALE_DOWN_DELAY": "the scale-down delay",
    "IDLE": "the idle color's Deployment",
    "POST_SMOKE_TEST": "smoke test of the idle color",
    "POST_ANALYSIS": "`after` analysis of the production color",
}


def constants(module: ModuleType) -> dict[str, int]:
    return {name: value for name, value in vars(module).items() if name.isupper() and isinstance(value, int)}


def wave_table() -> dict[str, str]:
    """The sync-wave table of docs/render.md: its wave column ("3", "PostSync 1") to its objects."""
    section = doc("render.md").split("\n## Sync waves\n", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| ((?:PostSync )?-?\d+) \| (.*?) \|", section, re.M)
    assert rows, "docs/render.md has no sync-wave table under ## Sync waves"
    return dict(rows)


def test_the_sync_wave_table_is_waves_py() -> None:
    table, defined = wave_table(), constants(waves)
    assert sorted(defined) == sorted(ROWS), "a wave of waves.py has no row in this test (and in the docs?)"
    for name, value in defined.items():
        wave = f"PostSync {value}" if name.startswith("POST_") else str(value)
        holding = [w for w, objects in table.items() if ROWS[name] in objects]
        assert holding == [wave], f"{name}: docs/render.md's table says {holding}, waves.py {wave}"
    used = {f"PostSync {v}" if n.startswith("POST_") else str(v) for n, v in defined.items()}
    assert set(table) == used, "the table has a row for a wave waves.py does not define"


DIAGRAM = re.compile(r"(<!-- waves-diagram: .*? -->\n```mermaid\n)(.*?)(```\n<!-- /waves-diagram -->)", re.S)


def test_the_waves_diagram_is_what_the_render_gives() -> None:
    page = DOCS / "render.md"
    objects = waves_diagram.rendered()
    actual = waves_diagram.mermaid(objects)
    if UPDATE:
        page.write_text(DIAGRAM.sub(lambda m: m.group(1) + actual + m.group(3), page.read_text()))
    text = page.read_text()
    shown = DIAGRAM.search(text)
    assert shown, "docs/render.md has no generated waves diagram"
    assert shown.group(2) == actual, "rerun with BGRENDER_UPDATE_GOLDEN=1 and review the diff"
    assert f"```yaml\n{waves_diagram.PROMOTION}```" in text, "the page shows what the diagram's app adds"
    # Every wave of the table has objects in the diagram's app, so the picture shows them all.
    shown_waves = {title.removeprefix("Sync, wave ").replace(", wave", "") for title, _ in waves_diagram.boxes(objects)}
    assert shown_waves == set(wave_table())
