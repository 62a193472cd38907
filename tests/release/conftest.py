"""Helpers for the release tests: the CLI with the release commands, and app directories.

Until cli.py registers `release`, `promote` and `rollback`, tests run them in a copy of the
real group, so errors are still turned into messages and exit codes by the real code.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from bgrender.cli import release as release_cli
from bgrender.cli.main import cli

from ..conftest import REPO, runner_env

HERE = Path(__file__).resolve().parent
BASE_DEPLOYMENT = HERE / "base" / "deployment.yaml"
RELEASE_COMMANDS = (release_cli.release, release_cli.promote, release_cli.rollback)


def bgrender_group() -> click.Group:
    if all(command.name in cli.commands for command in RELEASE_COMMANDS):
        return cli
    group = copy.copy(cli)
    group.commands = dict(cli.commands)
    for command in RELEASE_COMMANDS:
        group.add_command(command)
    return group


def run(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    """`bgrender ARGS` from `cwd`, with no render environment variables set."""
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(bgrender_group(), args, env=runner_env({}))


def make_app(directory: Path, intent: str | bytes, *, base: Path = BASE_DEPLOYMENT) -> Path:
    """An app directory holding `intent` as bluegreen.yaml and the base Deployment."""
    directory.mkdir(parents=True, exist_ok=True)
    data = intent.encode("utf-8") if isinstance(intent, str) else intent
    (directory / "bluegreen.yaml").write_bytes(data)
    shutil.copyfile(base, directory / "deployment.yaml")
    return directory


def copy_example(name: str, destination: Path) -> Path:
    return Path(shutil.copytree(REPO / "examples" / name, destination / name))


MANUAL = """\
apiVersion: bgrender.io/v1alpha1
kind: BlueGreen
metadata:
  name: gorilla-sfx-demo
spec:
  image: 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/gorilla-sfx-demo
  active: blue
  blue:
    version: 3f9c2e1d
  green:
    version: 8a1b0c4e
  deployment: deployment.yaml
"""
