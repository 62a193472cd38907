"""The package's layers, held against its imports (read with ast, nothing is imported).

A wing (a folder of plugin/bgrender/) or a ground-floor module imports only from lower ones,
type-checking imports included, so the import graph has no circle and no arrow running back
up; inside a wing the modules import each other without a circle. click lives only in cli/,
the Kubernetes client and urllib3 only in live/, and the pure core does no I/O.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "plugin" / "bgrender"

# Bottom first. A unit imports only from units of a lower rank, and from itself.
RANKS = {
    "bytecode": 0,  # how bgrender's own modules load
    "record": 0, "colors": 0, "digest": 0, "images": 0, "waves": 0,  # the vocabulary
    "errors": 1, "labels": 1, "process": 1,
    "names": 2,
    "yamlfile": 3,  # the one YAML document model
    "intent": 4,  # load and validate
    "lock": 5,
    "plan": 6,  # resolve
    "routing": 7,
    "render": 8,
    "app": 9,  # an app's files on disk, and the pipeline every command runs
    "release": 10, "live": 10, "importing": 10, "analysis": 10,  # the use cases
    "cli": 11,
    "__main__": 12,
}
PURE_CORE = {"record", "colors", "digest", "images", "waves", "errors", "labels", "names", "yamlfile", "intent",
             "lock", "plan", "routing", "render"}
PURE_ROOMS = {"bgrender.live.answers", "bgrender.live.status"}  # pure rooms of a wing that does I/O
# What the pure core may not touch: the disk, processes, the network, the terminal.
IO_MODULES = {"subprocess", "socket", "ssl", "shutil", "tempfile", "signal", "fcntl", "select", "selectors",
              "threading", "multiprocessing", "urllib.request", "http", "kubernetes", "urllib3", "click", "io"}
IO_UNITS = {"app", "process", "cli", "live", "analysis"}
ONLY_IN = {"click": {"cli"}, "kubernetes": {"live"}, "urllib3": {"live"}}
MAX_FUNCTION_LINES = 50


class Module:
    def __init__(self, path: Path):
        self.path = path
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        self.name = ".".join(("bgrender",) + (parts[:-1] if parts[-1] == "__init__" else parts))
        self.unit = parts[0] if len(parts) > 1 else parts[0]
        self.tree = ast.parse(path.read_text())

    def imports(self) -> list[tuple[str, int]]:
        """(module imported, line), relative imports resolved; `from x import y` counts as x.y
        when y is a module of the package, else as x."""
        found = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                found += [(alias.name, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(node)
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    found.append((candidate if candidate in MODULES else base, node.lineno))
        return found

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        package = self.name.split(".") if self.path.name == "__init__.py" else self.name.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        return ".".join(package + ([node.module] if node.module else []))


MODULES: dict[str, Module] = {}
for _path in sorted(PACKAGE.rglob("*.py")):
    _module = Module(_path)
    MODULES[_module.name] = _module


def unit_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "bgrender" and len(parts) > 1 else None


def test_every_unit_has_a_rank() -> None:
    units = {m.unit for m in MODULES.values()} - {"__init__"}
    assert units <= set(RANKS), f"give these a rank: {sorted(units - set(RANKS))}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_down_the_layers(name: str) -> None:
    module = MODULES[name]
    if module.unit == "__init__":
        return
    upward = [f"line {line}: {target}" for target, line in module.imports()
              if (unit := unit_of(target)) and unit != module.unit and unit in RANKS
              and RANKS[unit] >= RANKS[module.unit]]
    assert not upward, f"{name} imports from its own floor or above"


def test_no_circle_inside_a_wing() -> None:
    graph = {name: {t for t, _ in m.imports() if t in MODULES and t != name and unit_of(t) == m.unit}
             for name, m in MODULES.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            assert state.get(nxt) != 1, "circle: " + " -> ".join(trail[trail.index(nxt):] + [nxt]) \
                if nxt in trail else f"circle through {nxt}"
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_libraries_stay_in_their_wing(name: str) -> None:
    module = MODULES[name]
    for target, line in module.imports():
        top = target.split(".")[0]
        assert top not in ONLY_IN or module.unit in ONLY_IN[top], f"{name}:{line} imports {target}"


@pytest.mark.parametrize("name", sorted(n for n, m in MODULES.items() if m.unit in PURE_CORE or n in PURE_ROOMS))
def test_the_pure_core_does_no_io(name: str) -> None:
    module = MODULES[name]
    for target, line in module.imports():
        assert not any(target == m or target.startswith(m + ".") for m in IO_MODULES) \
            and (unit_of(target) not in IO_UNITS or target in PURE_ROOMS), \
            f"{name}:{line} imports {target}"
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("open", "print", "input"), f"{name}:{node.lineno} calls {node.func.id}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert not (node.value.id == "os" and node.attr not in ("path", "fspath", "PathLike", "sep")), \
                f"{name}:{node.lineno} uses os.{node.attr}"
            assert not (node.value.id == "sys" and node.attr in ("stdout", "stderr", "stdin", "exit")), \
                f"{name}:{node.lineno} uses sys.{node.attr}"


@pytest.mark.parametrize("name", sorted(n for n, m in MODULES.items() if m.unit not in ("cli", "__main__")))
def test_only_the_command_line_writes_to_the_terminal(name: str) -> None:
    for node in ast.walk(MODULES[name].tree):
        assert not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"), \
            f"{name}:{node.lineno} prints"
        assert not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "sys"
                    and node.attr in ("stdout", "stderr")), f"{name}:{node.lineno} uses sys.{node.attr}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_functions_are_short(name: str) -> None:
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(MODULES[name].tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{name}: over {MAX_FUNCTION_LINES} lines"


def test_the_package_map_names_every_room() -> None:
    readme = (PACKAGE.parents[1] / "docs" / "development.md").read_text()
    start = readme.index("plugin/bgrender/ ")
    block = readme[start: readme.index("```", start)]
    for module in MODULES.values():
        parts = module.path.relative_to(PACKAGE).parts
        if parts[-1] == "__init__.py":
            continue
        assert parts[-1] in block, f"docs/development.md's map does not name {module.path.relative_to(PACKAGE)}"
        if len(parts) > 1:
            assert f"{parts[0]}/" in block, f"docs/development.md's map does not name the wing {parts[0]}/"
    rooms = {m.path.name for m in MODULES.values()} | {"test_architecture.py"}  # the map names this test
    named = set(re.findall(r"\b(\w+\.py)\b", block))
    assert named <= rooms, f"docs/development.md's map names rooms that are gone: {sorted(named - rooms)}"
