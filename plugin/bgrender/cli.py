"""The `bgrender` command line (DESIGN §6). Exit codes: 0 ok, 1 invalid or refused,
2 usage, 3 cluster. Errors are one line each on stderr; tracebacks only with --debug.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from . import __version__
from .errors import BgRenderError
from .run import report, run_render, run_validate


class _Group(click.Group):
    """Turns every error into a message and an exit code, in this one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BgRenderError as err:
            if ctx.params.get("debug"):
                raise
            ctx.exit(report(err))
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as err:  # a bug: still no traceback in Argo CD's UI, still no output
            if ctx.params.get("debug"):
                raise
            click.echo(f"bgrender: internal error: {type(err).__name__}: {err} (rerun with --debug)", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(__version__, prog_name="bgrender")
def cli(debug: bool) -> None:
    """Blue/green releases for Argo CD and Istio from one bluegreen.yaml."""


@cli.command()
@click.argument("path", default=".")
@click.option("--output", "-o", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True,
              help="A YAML stream, or one JSON object per line.")
def render(path: str, output: str) -> None:
    """Print the manifests for the app at PATH (a directory or an intent file)."""
    sys.exit(run_render(path, output, os.environ))


@cli.command()
@click.argument("paths", nargs=-1)
def validate(paths: tuple[str, ...]) -> None:
    """Check intent files, and the files they name, without rendering."""
    sys.exit(run_validate(paths or (".",), os.environ))


@cli.command()
def schema() -> None:
    """Print the JSON Schema of bluegreen.yaml (for yaml-language-server)."""
    from .schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2, sort_keys=True))


def _add_commands() -> None:
    # Each lives in its own module; `status` imports the kubernetes client only when it runs.
    from .release_cli import promote, release, rollback
    from .status_cli import status

    for command in (release, promote, rollback, status):
        cli.add_command(command)


_add_commands()
