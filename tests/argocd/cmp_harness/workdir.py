"""The per-request repository copy: `<tmp>/_cmp_server/<uuid4>`, as the sidecar untars it.

Files arrive 0644 and directories 0755 (no preserveFileMode), symlinks stay only when they
point inside, made relative. Snapshots let tests see whether the plugin wrote anything.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from .errors import CmpError


def stage_repository(source: Path, parent: Path, *, exclude: Sequence[str] = ()) -> Path:
    """Copy a repository the way the sidecar untars it: `<parent>/_cmp_server/<uuid4>`.

    `exclude` works like the repo-server's plugin tar exclusions: globs on repo-relative
    paths; a matching directory is skipped whole.
    """
    workdir = parent / "_cmp_server" / str(uuid.uuid4())
    workdir.mkdir(parents=True)
    for path in _walk(source, exclude):
        _stage_entry(path, source, workdir)
    for directory in [workdir, *(p for p in workdir.rglob("*") if _is_plain_dir(p))]:
        directory.chmod(0o755)
    return workdir


def _walk(root: Path, exclude: Sequence[str]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not _excluded(here / d, root, exclude))
        for name in sorted(dirnames + filenames):
            path = here / name
            if not _excluded(path, root, exclude):
                yield path


def _excluded(path: Path, root: Path, exclude: Sequence[str]) -> bool:
    relative = str(path.relative_to(root))
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern in exclude)


def _stage_entry(path: Path, source: Path, workdir: Path) -> None:
    """Regular files (0644), directories and in-bound symlinks, made relative; nothing else."""
    target = workdir / path.relative_to(source)
    if path.is_symlink():
        resolved = path.resolve()
        if not resolved.is_relative_to(source.resolve()):
            raise CmpError(f"repository contains out-of-bounds symlinks. file: {path.relative_to(source)}")
        target.parent.mkdir(parents=True, exist_ok=True)
        inside = workdir / resolved.relative_to(source.resolve())
        target.symlink_to(os.path.relpath(inside, target.parent))
    elif path.is_dir():
        target.mkdir(parents=True, exist_ok=True)
    elif path.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        target.chmod(0o644)


def _is_plain_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def app_directory(workdir: Path, source_path: str) -> Path:
    app_dir = Path(os.path.normpath(workdir / source_path))
    if not app_dir.is_relative_to(workdir):
        raise CmpError("illegal appPath: out of workDir bound")
    return app_dir


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under root with its mode, size, content hash or link target."""
    entries: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            entries[str(path.relative_to(root))] = ("link", os.readlink(path))
        elif path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entries[str(path.relative_to(root))] = ("file", info.st_mode, info.st_mtime_ns, digest)
        else:
            entries[str(path.relative_to(root))] = ("dir", info.st_mode)
    return entries


def changed_entries(before: Mapping[str, tuple], after: Mapping[str, tuple]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
