"""One GenerateManifest request, end to end: stage, run init and generate, parse, clean up."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import PluginConfig
from .environment import Application, build_env
from .errors import CmpError
from .output import parse_manifests
from .process import CommandResult, command_error, run_command
from .workdir import app_directory, changed_entries, snapshot, stage_repository

# What Argo CD allows by default: 60 s from the controller, less the sidecar's 100 ms buffer.
DEFAULT_DEADLINE_SECONDS = 60.0 - 0.1


@dataclass(frozen=True)
class Response:
    manifests: list[dict[str, Any]]
    result: CommandResult
    changed_in_repo_copy: list[str]  # anything the plugin wrote into its repository copy


def generate(
    config: PluginConfig,
    repository: Path,
    app: Application,
    *,
    workdir_parent: Path,
    sidecar_env: Mapping[str, str],
    deadline: float = DEFAULT_DEADLINE_SECONDS,
    user: int | None = None,
    group: int | None = None,
    overrides: Mapping[str, str] | None = None,
    exclude: Sequence[str] = (),
) -> Response:
    """GenerateManifest: stage, run init then generate in the app dir, parse, clean up.

    `overrides` replace variables after Argo CD's own; Argo CD has no such thing, it lets
    tests send what Argo CD never would (malformed parameters, say).
    """
    started = time.monotonic()
    workdir = stage_repository(repository, workdir_parent, exclude=exclude)
    try:
        if user is not None:
            _chown_tree(workdir, user, group)  # the sidecar user untars, so it owns the copy
        app_dir = app_directory(workdir, app.path)
        env = {**build_env(app, sidecar_env), **(overrides or {})}
        before = snapshot(workdir)
        for argv in filter(None, (config.init, config.generate)):
            remaining = deadline - (time.monotonic() - started)
            result = run_command(argv, cwd=app_dir, env=env, deadline=remaining, user=user, group=group)
            if result.returncode != 0:
                raise CmpError(command_error(result))
        changed = changed_entries(before, snapshot(workdir))
        return Response(parse_manifests(result.stdout), result, changed)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _chown_tree(root: Path, user: int, group: int | None) -> None:
    for path in [root, *root.rglob("*")]:
        os.chown(path, user, -1 if group is None else group, follow_symlinks=False)
