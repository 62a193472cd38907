"""bgrender/bytecode.py: bgrender's modules load from their bytecode exactly as the standard
import machinery would load them, and whatever the finder cannot vouch for (stale, missing,
another interpreter's, a checked hash) is left to that machinery.

Each case copies the package into a temporary directory, compiles it one way, and imports it
in a fresh interpreter (PYTHONPATH puts the copy before the development install)."""

from __future__ import annotations

import compileall
import json
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

PACKAGE = REPO / "plugin" / "bgrender"

# Imports every module of the package (as walk_packages finds them), and prints, for each, what
# the import system gave it and whether bgrender's finder served it. argv[1] "standard": the
# finder is taken out of sys.meta_path first.
PROBE = r"""
import json, pkgutil, sys
import bgrender
from bgrender import bytecode
if sys.argv[1] == "standard":
    sys.meta_path.remove(bytecode.Finder)
names = sorted(m.name for m in pkgutil.walk_packages(bgrender.__path__, "bgrender."))
seen = {}
for name in names:
    __import__(name)
    module = sys.modules[name]
    spec = module.__spec__
    seen[name] = {
        "file": module.__file__, "cached": module.__cached__, "path": getattr(module, "__path__", None),
        "package": module.__package__, "origin": spec.origin, "spec_cached": spec.cached,
        "parent": spec.parent, "locations": spec.submodule_search_locations, "has_location": spec.has_location,
        "source": module.__loader__.get_source(name) == open(module.__file__, encoding="utf-8").read(),
        "served": type(module.__loader__) is bytecode.Loader,
    }
print(json.dumps(seen))
"""


def copy_package(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(PACKAGE, root / "bgrender", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def run(root: Path, code: str, *args: str, options: tuple[str, ...] = (), **env: str) -> str:
    done = subprocess.run([sys.executable, *options, "-c", code, *args], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1",
                               **env})
    assert done.returncode == 0, done.stderr
    return done.stdout


def probe(root: Path, mode: str) -> dict[str, dict]:
    return json.loads(run(root, PROBE, mode))


@pytest.fixture(scope="module")
def unchecked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package compiled as the image compiles it."""
    root = copy_package(tmp_path_factory.mktemp("unchecked"))
    assert compileall.compile_dir(root, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return root


def test_every_module_loads_as_the_standard_machinery_would_load_it(unchecked):
    ours, standard = probe(unchecked, "finder"), probe(unchecked, "standard")
    assert len(ours) > 50 and ours.keys() == standard.keys()
    assert all(m["served"] for name, m in ours.items() if name != "bgrender.bytecode")  # imported before it exists
    assert not any(m["served"] for m in standard.values())
    for name in ours:
        assert {**ours[name], "served": None} == {**standard[name], "served": None}, name
    assert all(m["source"] for m in ours.values())  # get_source, as the standard loader gives it


COLORS_PROBE = ("import bgrender.colors as c, bgrender.bytecode as b; "
                "print(hasattr(c, 'EDITED'), type(c.__loader__) is b.Loader)")


def edit_colors(root: Path) -> None:
    """A change of content and size, as an edit of the source makes."""
    path = root / "bgrender" / "colors.py"
    path.write_text(path.read_text() + "\nEDITED = True\n")


def test_unchecked_hash_bytecode_runs_without_reading_the_source_as_the_standard_loader_runs_it(tmp_path):
    root = copy_package(tmp_path)
    compileall.compile_dir(root, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    edit_colors(root)
    assert run(root, COLORS_PROBE) == "False True\n"
    # Asked to check every hash, the interpreter sees the edit: the standard machinery loads it.
    assert run(root, COLORS_PROBE, options=("--check-hash-based-pycs", "always")) == "True False\n"


def test_timestamped_bytecode_is_used_while_it_matches_the_source_and_never_after(tmp_path):
    root = copy_package(tmp_path)
    compileall.compile_dir(root, quiet=1)  # timestamps, as pip and a development checkout compile
    assert run(root, COLORS_PROBE) == "False True\n"
    edit_colors(root)
    assert run(root, COLORS_PROBE) == "True False\n"


def test_checked_hash_bytecode_is_left_to_the_standard_machinery(tmp_path):
    root = copy_package(tmp_path)
    compileall.compile_dir(root, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    assert run(root, COLORS_PROBE) == "False False\n"


@pytest.mark.parametrize("damage", ["magic number", "truncated", "missing"])
def test_bytecode_it_cannot_vouch_for_is_left_to_the_standard_machinery(tmp_path, damage):
    root = copy_package(tmp_path)
    compileall.compile_dir(root, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    pyc = next((root / "bgrender" / "__pycache__").glob("colors.*.pyc"))
    if damage == "missing":
        pyc.unlink()
    else:
        data = pyc.read_bytes()
        pyc.write_bytes(b"\x00\x00\r\n" + data[4:] if damage == "magic number" else data[:12])
    assert run(root, COLORS_PROBE) == "False False\n"
    assert run(root, "import bgrender.labels as m, bgrender.bytecode as b; print(type(m.__loader__) is b.Loader)") \
        == "True\n"  # its neighbours are still served


def test_bytecode_under_a_pycache_prefix_is_found_where_python_puts_it(tmp_path):
    root, prefix = copy_package(tmp_path), tmp_path / "prefix"
    compiled = subprocess.run([sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
                               str(root)], env={"PATH": "/usr/bin:/bin", "PYTHONPYCACHEPREFIX": str(prefix)},
                              capture_output=True, text=True, timeout=120)
    assert compiled.returncode == 0, compiled.stderr
    assert not list(root.rglob("__pycache__"))
    assert run(root, COLORS_PROBE, PYTHONPYCACHEPREFIX=str(prefix)) == "False True\n"
