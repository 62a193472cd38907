"""bgrender's own modules, loaded from their compiled bytecode without the path search.

Argo CD starts a process for every render, and most of a render is starting Python and
importing modules (docs/performance.md). For each module, the standard path finder spends
about 0.1 ms before running it: it asks three finders in turn, tries five file suffixes for
a package and for a module, and builds the spec, the loader and the code in Python. A
render imports some fifty bgrender modules, and their files are where the package is. So
for a submodule of bgrender this finder goes straight to the compiled file the standard
machinery would use (`cache_from_source`: `__pycache__`, or PYTHONPYCACHEPREFIX, and the
optimization level), and accepts it only as the standard loader would: this interpreter's
magic number, and either an unchecked hash (the image compiles so; `--check-hash-based-pycs
always` turns this off) or the source's modification time and size. Anything else (no
bytecode yet, a stale or checked-hash file, a source that is gone) is left to the standard
machinery, which compiles, checks and caches as ever. The loader is the standard source
loader, so `__file__`, `__cached__`, `__path__`, get_source and resources are as ever.
bgrender/__init__.py installs it on CPython.
"""

from __future__ import annotations

import _imp
import marshal
import os
import sys

from bgrender import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import CodeType
    from typing import Any

# CPython's import system, frozen into the interpreter and loaded before any module.
_external: Any = sys.modules["_frozen_importlib_external"]
_bootstrap: Any = sys.modules["_frozen_importlib"]
_UNCHECKED_HASH = b"\x01\x00\x00\x00"  # the flags word of an unchecked-hash .pyc (PEP 552)
_TIMESTAMP = b"\x00\x00\x00\x00"
# The bytecode file's suffix, when it is in __pycache__ beside the source (else cache_from_source
# knows where: a PYTHONPYCACHEPREFIX, optimization levels, no cache tag).
_PYC = (f".{sys.implementation.cache_tag}.pyc" if sys.implementation.cache_tag and sys.pycache_prefix is None
        and not sys.flags.optimize else None)


def install() -> None:
    """Put the finder first in sys.meta_path, once."""
    if Finder not in sys.meta_path:
        sys.meta_path.insert(0, Finder)


class Loader(_external.SourceFileLoader):
    """The standard source loader, given the bytecode the finder read and checked."""

    def __init__(self, fullname: str, path: str, data: bytes):
        super().__init__(fullname, path)
        self.data = data

    def get_code(self, fullname: str) -> CodeType:
        return marshal.loads(memoryview(self.data)[16:])


class Finder:
    """For bgrender.* only; None (the next finder's turn) for anything it cannot vouch for."""

    listings: dict[str, frozenset[str]] = {}  # a package directory's names, read once

    @classmethod
    def find_spec(cls, fullname: str, path: Sequence[str] | None = None, target: Any = None) -> Any:
        if not fullname.startswith("bgrender.") or path is None or len(path) != 1:
            return None
        directory, name = path[0], fullname.rpartition(".")[2]
        listing = cls.listings.get(directory)
        if listing is None:
            try:
                listing = cls.listings[directory] = frozenset(os.listdir(directory))
            except OSError:
                return None
        # A package before a module of the same name, as the standard finder looks.
        if name in listing:
            package = f"{directory}/{name}"
            source, cached = f"{package}/__init__.py", f"{package}/__pycache__/__init__{_PYC}"
        elif f"{name}.py" in listing:
            package, source, cached = None, f"{directory}/{name}.py", f"{directory}/__pycache__/{name}{_PYC}"
        else:
            return None
        try:
            if _PYC is None:
                cached = _external.cache_from_source(source)
            with open(cached, "rb") as file:
                data = file.read()
        except (OSError, NotImplementedError):  # no bytecode yet (NotImplementedError: no cache tag)
            return None
        if not _current(data, source):
            return None  # the standard machinery decides, and recompiles
        spec = _bootstrap.ModuleSpec(fullname, Loader(fullname, source, data), origin=source,
                                     is_package=package is not None)
        spec.has_location = True
        spec.cached = cached
        if package is not None:
            spec.submodule_search_locations = [package]
        return spec


def _current(data: bytes, source: str) -> bool:
    """Whether the standard loader would run this bytecode for `source` without recompiling it."""
    if len(data) < 16 or data[:4] != _external.MAGIC_NUMBER:
        return False
    flags = data[4:8]
    if flags == _UNCHECKED_HASH:
        return _imp.check_hash_based_pycs != "always"
    if flags != _TIMESTAMP:
        return False  # a checked hash: the source must be read and hashed anyway
    try:
        st = os.stat(source)
    except OSError:
        return False
    return (data[8:12] == (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
            and data[12:16] == (st.st_size & 0xFFFFFFFF).to_bytes(4, "little"))
