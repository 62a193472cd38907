"""Reading a blue/green layout from disk for `bgrender import` (DESIGN §13): the objects it
applies, and the directory or file each came from.

A layout with kustomizations is built, as Argo CD would build it: every kustomization under
SOURCE_DIR that no other one there includes is a root (in the seed post's layout, the four
directories its four Applications point at: the shared objects, each color, the chosen
VirtualService), and each root is built with `kustomize build`, else `kubectl kustomize`. The
VirtualService variant no kustomization includes is then, rightly, not among the objects. A
layout without any kustomization is read as plain manifests: every YAML file below SOURCE_DIR.
Hidden directories are skipped and symlinked ones not followed, as `validate` does.

This module is the I/O edge of the import: files are read with the core's hardened readers,
confined to SOURCE_DIR; kustomize runs without a shell, with a deadline and bounded output,
and its output is parsed under one budget. It decides nothing about blue and green
(recognize.py does) and writes nothing (cli/importing.py does).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping

from bgrender import TYPE_CHECKING
from bgrender.app.files import decode_text, read_app_file
from bgrender.errors import BgRenderError, InvalidInput, Problem, escape
from bgrender.record import Record
from bgrender.yamlfile.document import Document, load_document, load_streams

if TYPE_CHECKING:
    from typing import Any

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Keys of a kustomization that name other kustomizations (directories) to include.
INCLUDING_KEYS = ("resources", "bases", "components")
# One build of one app is a few KiB; the parser counts at most 4 MiB of text for all builds.
MAX_BUILD_BYTES = 4 * 1024 * 1024
MAX_STDERR_BYTES = 64 * 1024
BUILD_TIMEOUT_SECONDS = 60.0
# A layout of one app holds a dozen files and a few kustomizations (the seed's: 10 and 4); more
# means SOURCE_DIR is a whole repository.
MAX_FILES = 200
MAX_BUILDS = 20
PARALLEL_BUILDS = 4  # builds at a time: kustomize is one process each, and the seed layout has four roots


class Manifest(Record):
    """One object of the layout and where it came from (a root directory, or a file), as
    messages show it."""

    data: dict[str, Any]
    origin: str

    @property
    def kind(self) -> str:
        return str(self.data.get("kind"))

    @property
    def name(self) -> str:
        return str((self.data.get("metadata") or {}).get("name"))

    def describe(self) -> str:
        return f"{escape(self.kind)} {escape(self.name)} (from {escape(self.origin)})"


class Layout(Record):
    """What a layout applies: its objects, and the roots (kustomize) or files (plain) they
    came from, as messages show them: what the old Applications pointed at."""

    objects: tuple[Manifest, ...]
    roots: tuple[str, ...]
    built_with: str | None  # "kustomize build" or "kubectl kustomize"; None: plain manifests
    skipped: tuple[str, ...] = ()  # plain YAML files that hold no Kubernetes object

    @property
    def synced(self) -> tuple[str, ...]:
        """The directories the old Applications synced: the roots, or those holding the files."""
        if self.built_with:
            return self.roots
        return tuple(dict.fromkeys(os.path.dirname(f) or "." for f in self.roots))


class BuildFailed(BgRenderError):
    """The layout could not be built or read; nothing was written."""


def read_layout(source_dir: str, env: Mapping[str, str] | None = None) -> Layout:
    """The objects the layout at `source_dir` applies."""
    if not os.path.isdir(source_dir):
        raise BuildFailed(f"{escape(source_dir)}: not a directory (SOURCE_DIR is the layout's top directory)")
    directories, files = _walk(source_dir)
    if directories:
        return _built(source_dir, directories, os.environ if env is None else env)
    return _plain(source_dir, files)


def _walk(source_dir: str) -> tuple[list[str], list[str]]:
    """The directories holding a kustomization, and the YAML files, below `source_dir` (relative
    paths, sorted); hidden and symlinked directories are not entered."""
    directories: list[str] = []
    files: list[str] = []
    failures: list[OSError] = []
    for directory, subdirectories, names in os.walk(source_dir, onerror=failures.append):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        rel = os.path.relpath(directory, source_dir)
        if any(name in names for name in KUSTOMIZATION_FILES):
            directories.append(rel)
        files += [os.path.normpath(os.path.join(rel, n)) for n in sorted(names) if n.endswith((".yaml", ".yml"))]
    if failures:
        raise BuildFailed(f"{escape(failures[0].filename or source_dir)}: cannot be read: "
                          f"{escape(failures[0].strerror or str(failures[0]))}")
    return directories, files


# --- kustomize --------------------------------------------------------------------------------


def roots(source_dir: str, directories: list[str]) -> list[str]:
    """The kustomizations no other one under `source_dir` includes: what the old Applications
    built. A kustomization this cannot read is a root too; kustomize will say what is wrong."""
    included: set[str] = set()
    for directory in directories:
        for entry in _included_entries(source_dir, directory):
            target = os.path.normpath(os.path.join(directory, entry))
            if target != directory and target in directories:
                included.add(target)
    return [d for d in directories if d not in included]


def _included_entries(source_dir: str, directory: str) -> list[str]:
    name = next(n for n in KUSTOMIZATION_FILES if os.path.lexists(os.path.join(source_dir, directory, n)))
    rel = os.path.normpath(os.path.join(directory, name))
    try:
        data = load_document(read_app_file(source_dir, rel, rel), rel).data
    except InvalidInput:
        return []
    if not isinstance(data, dict):
        return []
    entries = [e for key in INCLUDING_KEYS if isinstance(data.get(key), list) for e in data[key]]
    return [e for e in entries if isinstance(e, str) and "://" not in e and not e.startswith(("git@", "github.com/"))]


def kustomize_command(env: Mapping[str, str]) -> list[str]:
    """`kustomize build` (what Argo CD runs), else `kubectl kustomize`, whichever is on PATH."""
    path = env.get("PATH", os.defpath)
    kustomize = shutil.which("kustomize", path=path)
    if kustomize:
        return [kustomize, "build"]
    kubectl = shutil.which("kubectl", path=path)
    if kubectl:
        return [kubectl, "kustomize"]
    raise BuildFailed("the layout holds kustomizations, and building them needs `kustomize` or `kubectl` "
                      "(its built-in kustomize) on PATH; neither was found: install one of them")


def _built(source_dir: str, directories: list[str], env: Mapping[str, str]) -> Layout:
    command = kustomize_command(env)
    tool = "kustomize build" if command[1] == "build" else "kubectl kustomize"
    built = roots(source_dir, directories)
    if len(built) > MAX_BUILDS:
        raise BuildFailed(f"{escape(source_dir)}: holds {len(built)} kustomizations that no other one includes, "
                          f"more than the {MAX_BUILDS} an app's layout has; point SOURCE_DIR at the layout of one app")
    texts = _build_all(command, tool, source_dir, built, env)
    outputs = [(text, _shown(source_dir, root)) for text, root in zip(texts, built)]
    streams = _parsed(outputs, lambda file: f"{file} (as built by {tool})")
    objects = [Manifest(doc.data, shown) for (_, shown), docs in zip(outputs, streams) for doc in docs]
    return Layout(tuple(_checked(objects)), tuple(shown for _, shown in outputs), tool)


def _build_all(command: list[str], tool: str, source_dir: str, built: list[str], env: Mapping[str, str]) -> list[str]:
    """Each root's build, in order; at most PARALLEL_BUILDS at a time (a seed layout's four took
    70% of an import one after another). The first root that fails, in order, is reported, as
    when they ran one by one; the builds not yet started are dropped."""
    if len(built) <= 1:
        return [_build(command, tool, source_dir, root, env) for root in built]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(len(built), PARALLEL_BUILDS)) as pool:
        futures = [pool.submit(_build, command, tool, source_dir, root, env) for root in built]
        try:
            return [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()


def _build(command: list[str], tool: str, source_dir: str, root: str, env: Mapping[str, str]) -> str:
    from bgrender.process import run_bounded

    shown = _shown(source_dir, root)
    # An absolute path: a SOURCE_DIR such as "-x" must not reach kustomize as an option.
    target = os.path.abspath(os.path.join(source_dir, root))
    ran = run_bounded([*command, target], env=env, timeout=BUILD_TIMEOUT_SECONDS, max_stdout=MAX_BUILD_BYTES,
                      max_stderr=MAX_STDERR_BYTES)
    if ran.failure:
        raise BuildFailed(f"{escape(shown)}: {tool} {ran.failure}")
    if ran.returncode != 0:
        said = [escape(line) for line in ran.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        raise BuildFailed("\n".join([f"{escape(shown)}: {tool} failed (exit {ran.returncode})"
                                     + (":" if said else "")] + ["  " + line for line in said[-5:]]))
    return decode_text(ran.stdout, f"{shown} (as built by {tool})")


def _shown(source_dir: str, rel: str) -> str:
    return os.path.normpath(os.path.join(source_dir, rel))


# --- plain manifests ------------------------------------------------------------------------------


def _plain(source_dir: str, files: list[str]) -> Layout:
    if not files:
        raise BuildFailed(f"{escape(source_dir)}: holds neither a kustomization nor YAML files below it")
    if len(files) > MAX_FILES:
        raise BuildFailed(f"{escape(source_dir)}: holds more than {MAX_FILES} YAML files; point SOURCE_DIR at "
                          "the layout of one app")
    texts = []
    for rel in files:
        shown = _shown(source_dir, rel)
        texts.append((read_app_file(source_dir, rel, shown), shown))
    streams = _parsed(texts, lambda file: file)
    objects, skipped = [], []
    for (_, shown), docs in zip(texts, streams):
        kept = [doc for doc in docs if _is_object(doc.data)]
        skipped += [shown] if not kept else []
        objects += [Manifest(doc.data, shown) for doc in kept]
    return Layout(tuple(objects), tuple(shown for _, shown in texts if shown not in skipped), None,
                  tuple(skipped))


def _parsed(texts: list[tuple[str, str]], shown: Any) -> list[list[Document]]:
    return load_streams([(text, shown(file)) for text, file in texts])


def _is_object(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("kind"), str) and isinstance(data.get("apiVersion"), str) \
        and isinstance(data.get("metadata"), dict) and isinstance(data["metadata"].get("name"), str)


def _checked(objects: list[Manifest]) -> list[Manifest]:
    """Kubernetes objects only: a built document that is not one is a problem of the layout."""
    problems = [Problem(m.origin, 0, 0, "", "a document is not a Kubernetes object (apiVersion, kind and "
                                            "metadata.name)") for m in objects if not _is_object(m.data)]
    if problems:
        raise InvalidInput(problems)
    return objects
