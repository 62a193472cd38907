"""The walls of the live wing (plugin/bgrender/live/), read from the source with ast: only it
imports the kubernetes client and urllib3; it imports nothing from cli/ and prints nothing
(the commands show what it returns); its pure rooms do no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bgrender

PLUGIN = Path(bgrender.__file__).parent
LIVE = PLUGIN / "live"
CLIENT = {"kubernetes", "urllib3"}
# What a pure room may not import: the client, the network, processes, files and the terminal.
IO_MODULES = CLIENT | {"socket", "ssl", "http", "urllib.request", "subprocess", "signal", "os", "pathlib", "io",
                       "sys", "logging", "bgrender.cli", "bgrender.live.cluster", "bgrender.live.kubeconfig",
                       "bgrender.live.transport", "bgrender.live.deadline"}
PURE_ROOMS = ("answers.py", "status.py")


def imported(path: Path) -> set[str]:
    """Every module `path` imports, wherever (in a function, under TYPE_CHECKING); for
    `from package import name`, both the package and package.name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(names: set[str], modules: set[str]) -> set[str]:
    return {n for n in names if any(n == m or n.startswith(m + ".") for m in modules)}


def test_the_sources_are_there() -> None:
    assert {p.name for p in LIVE.glob("*.py")} >= {"cluster.py", "kubeconfig.py", "transport.py", "answers.py",
                                                  "deadline.py", "status.py"}
    assert within(imported(LIVE / "transport.py"), CLIENT) == {"urllib3", "kubernetes", "kubernetes.client",
                                                               "kubernetes.config.config_exception",
                                                               "kubernetes.config.config_exception.ConfigException"}


def test_only_the_live_wing_imports_the_client() -> None:
    outside = {str(p.relative_to(PLUGIN)): within(imported(p), CLIENT)
               for p in PLUGIN.rglob("*.py") if p.parent != LIVE}
    assert {path: names for path, names in outside.items() if names} == {}


@pytest.mark.parametrize("path", sorted(LIVE.glob("*.py")), ids=lambda p: p.name)
def test_the_live_wing_imports_nothing_from_cli_and_prints_nothing(path: Path) -> None:
    assert within(imported(path), {"bgrender.cli"}) == set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    printing = [node.lineno for node in ast.walk(tree)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
                or isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr")
                and isinstance(node.value, ast.Name) and node.value.id == "sys"]
    assert printing == []


@pytest.mark.parametrize("room", PURE_ROOMS)
def test_the_pure_rooms_do_no_io(room: str) -> None:
    assert within(imported(LIVE / room), IO_MODULES) == set()
