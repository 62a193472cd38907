"""Where an app's files may come from: its repository, never beyond (DESIGN §19).

A path in bluegreen.yaml may leave the app directory (`../../base/deployment.yaml`, so that
environments share one base) but what it resolves to, through ".." and symlinks alike, must stay
inside the repository. Which directory that is:

- In Argo CD (ARGOCD_APP_NAME is set), the working directory less $ARGOCD_APP_SOURCE_PATH: the
  sidecar unpacks the repository into a fresh directory and runs the plugin in
  `<that>/<spec.source.path>` (argocd-cmp-contract §10). When the variable does not name the end
  of the working directory (absolute, climbing with "..", or simply another path), the root is
  unknown and the boundary is the app directory: the narrowest safe choice, which still renders
  every app whose files are its own, and fails closed with a message naming the variable for one
  that reaches out.
- Elsewhere, the Git top level: the nearest directory above the app holding `.git` (a directory,
  or the file of a worktree), found by walking up, with no subprocess. Without one, the app
  directory.

The boundary is a real path (symlinks resolved), so a repository reached through a symlink
confines like any other.
"""

from __future__ import annotations

import os

from bgrender import TYPE_CHECKING
from bgrender.errors import quote
from bgrender.intent.env import under_argocd
from bgrender.record import Record

if TYPE_CHECKING:
    from collections.abc import Mapping

SOURCE_PATH_VAR = "ARGOCD_APP_SOURCE_PATH"


class Boundary(Record):
    """A directory no file read or written may resolve outside of, and how messages name it."""

    root: str  # a real path
    name: str  # "the repository", "the app directory", ...

    def holds(self, path: str) -> bool:
        """Whether the real path `path` is the root or below it."""
        return os.path.commonpath([self.root, path]) == self.root


def app_directory(app_dir: str, why: str = "") -> Boundary:
    return Boundary(os.path.realpath(app_dir), "the app directory" + (f" ({why})" if why else ""))


def repository(app_dir: str, env: Mapping[str, str] | None = None) -> Boundary:
    """The boundary for the app in `app_dir`: see the module's docstring."""
    if env is not None and under_argocd(env):
        return _argocd_root(app_dir, env.get(SOURCE_PATH_VAR, ""))
    top = _git_top_level(os.path.abspath(app_dir))
    if top is None:
        return app_directory(app_dir, "no Git repository holds it")
    return Boundary(os.path.realpath(top), "the repository")


def _argocd_root(app_dir: str, source_path: str) -> Boundary:
    cwd = os.getcwd()  # the kernel's answer: a real path, whatever $PWD says
    parts = [p for p in os.path.normpath(source_path or ".").split("/") if p != "."]
    if source_path.startswith("/") or ".." in parts:
        return app_directory(app_dir, _unknown_root(source_path))
    root = cwd
    for part in reversed(parts):
        head, tail = os.path.split(root)
        if tail != part:
            return app_directory(app_dir, _unknown_root(source_path))
        root = head
    return Boundary(os.path.realpath(root), "the repository")


def _unknown_root(source_path: str) -> str:
    return (f"${SOURCE_PATH_VAR} {quote(source_path)} does not end the working directory, so the "
            "repository's root is unknown")


def _git_top_level(directory: str) -> str | None:
    while True:
        if os.path.lexists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
