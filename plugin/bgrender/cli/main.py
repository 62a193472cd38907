"""The `bgrender` command line (DESIGN §6). Exit codes: 0 ok, 1 invalid or refused, 2 usage,
3 the cluster disagrees with Git (drift), 4 the cluster could not be read. Errors are one
line each on stderr; tracebacks only with --debug.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from bgrender import __version__
from bgrender.cli.render import report, run_render, run_validate
from bgrender.cli.streams import write_err, write_out
from bgrender.errors import BgRenderError, escape

# Commands in modules of their own, imported only when named: `render` and `validate` do not
# pay for the release editor or the status report.
_LAZY_COMMANDS = {
    "analyze": ".analyze:analyze",
    "release": ".release:release",
    "promote": ".release:promote",
    "rollback": ".release:rollback",
    "lock": ".release:lock",
    "diff": ".release:diff",
    "status": ".status:status",
    "import": ".importing:import_command",
    "scale-up": ".capacity:scale_up",
}


class _Group(click.Group):
    """Turns every error into a message and an exit code, in this one place."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _LAZY_COMMANDS:
            return super().get_command(ctx, name)
        import importlib

        module, attribute = _LAZY_COMMANDS[name].split(":")
        return getattr(importlib.import_module(module, __package__), attribute)

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
            write_err(f"bgrender: internal error: {type(err).__name__}: {escape(str(err))} (rerun with --debug)\n")
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(__version__, prog_name="bgrender")
def cli(debug: bool) -> None:
    """Blue/green releases for Argo CD and Istio from one bluegreen.yaml."""


@cli.command()
@click.argument("path", default=".")
@click.option("--output", "-o", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True,
              help="A YAML stream, or one JSON Kubernetes List.")
def render(path: str, output: str) -> None:
    """Print the manifests for the app at PATH (a directory or an intent file)."""
    sys.exit(run_render(path, output, os.environ))


@cli.command()
@click.argument("paths", nargs=-1)
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Lines on stderr only, or also a JSON summary on stdout (each app valid, or its problems).")
def validate(paths: tuple[str, ...], output: str) -> None:
    """Check apps, and the files they name, without rendering.

    Each PATH is a bluegreen.yaml, or a directory to search for its own bluegreen.yaml and
    every one below it (hidden and symlinked directories are skipped); default `.`.
    Exit 1 when any app is invalid or a directory holds none."""
    sys.exit(run_validate(paths or (".",), os.environ, output))


@cli.command()
def schema() -> None:
    """Print the JSON Schema of bluegreen.yaml (for yaml-language-server)."""
    from bgrender.intent.schema import json_schema

    write_out(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n")
