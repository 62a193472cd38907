"""The `release`, `promote`, `rollback` and `lock` commands: the shell around release/edits.py.

This module parses the command line for click; cli/editing.py runs the edit (also for the
fast path in __main__, without click); `release --check-live` first compares the cluster with
the app the use case loaded. On any failure the command raises a BgRenderError
(the CLI group prints it and exits with its code) with stdout empty and both files as they
were. `cli/main.py` registers these commands.
"""

from __future__ import annotations

import os
from functools import partial

import click

from bgrender.app.pipeline import decode_texts, intent_file, load_app, plan_of, read_files
from bgrender.cli.editing import edit, version_and_path
from bgrender.cli.status import connection_options
from bgrender.cli.streams import write_err, write_out
from bgrender.intent.env import options_from_env
from bgrender.release import edits as use_case
from bgrender.release.edits import Outcome, Source, edit_env

DRY_RUN_OPTION = click.option("--dry-run", is_flag=True, help="Print what production would run next beside what it "
                              "runs now, and the unified diffs of the files, instead of writing them.")
OUTPUT_OPTION = click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True,
                             help="The commit message, or a JSON summary: changed or not, the commit message, the "
                                  "files written.")


@click.command("release")
@click.argument("arguments", nargs=-1, metavar="[VERSION] [PATH]")
@DRY_RUN_OPTION
@OUTPUT_OPTION
@click.option("--replace", is_flag=True, help="Replace a pending release (one never promoted) on the idle color.")
@click.option("--check-live", is_flag=True,
              help="First read the cluster (read-only) and refuse if its production color is not spec.active.")
@connection_options
def release(arguments: tuple[str, ...], dry_run: bool, output: str, replace: bool, check_live: bool,
            kubeconfig: str | None, context: str | None, timeout: float) -> None:
    """Release VERSION to the idle color of the app at PATH (default: .), pinned from the
    current base in bluegreen.lock.yaml.

    Without VERSION, the idle color gets the active color's version built from the current
    base: a config-only release. With promotion.mode auto, the color is also made active.
    Refuses to replace a pending release (never promoted) unless --replace. Prints a one-line
    commit message.
    """
    if len(arguments) > 2:
        raise click.UsageError("expected at most VERSION and PATH")
    version, path = version_and_path(arguments)
    if (kubeconfig or context) and not check_live:
        raise click.UsageError("--kubeconfig and --context are only used with --check-live")
    live = partial(_compare_with_cluster, kubeconfig=kubeconfig, context=context, timeout=timeout) \
        if check_live else None
    edit(path, lambda source: use_case.release(source, version, replace), dry_run=dry_run, check_live=live,
         output=output)


@click.command("promote")
@click.argument("path", required=False, default=".")
@DRY_RUN_OPTION
@click.option("--percent", type=click.IntRange(0, 99), metavar="N",
              help="A weighted step: give the idle color N percent of production (1 to 99) in spec.traffic; "
                   "0 takes its share back. Without it, promote completes the switch.")
@OUTPUT_OPTION
def promote(path: str, dry_run: bool, percent: int | None, output: str) -> None:
    """Send production traffic to the idle color of the app at PATH (default: .), or with
    --percent a share of it."""
    edit(path, use_case.promote if percent is None else partial(use_case.promote, percent=percent), dry_run=dry_run,
         output=output)


@click.command("rollback")
@click.argument("path", required=False, default=".")
@DRY_RUN_OPTION
@OUTPUT_OPTION
def rollback(path: str, dry_run: bool, output: str) -> None:
    """Send production back to the release that served it before, if the idle color still
    holds it exactly; otherwise refuse and say how to bring it back. During a weighted step
    (spec.traffic), take the idle color's share back."""
    edit(path, use_case.rollback, dry_run=dry_run, output=output)


@click.command("lock")
@click.argument("path", required=False, default=".")
@DRY_RUN_OPTION
@OUTPUT_OPTION
def lock(path: str, dry_run: bool, output: str) -> None:
    """Pin the colors of the app at PATH (default: .) as they render now, in bluegreen.lock.yaml:
    to adopt an app, or after a deliberate hand edit of a version."""
    edit(path, use_case.lock, dry_run=dry_run, output=output)


def _compare_with_cluster(source: Source, outcome: Outcome, *, kubeconfig: str | None, context: str | None,
                          timeout: float) -> None:
    """Refuse (Drift, exit 3) when the live production color is not the file's active (exit 4
    when the cluster cannot be read); print check_live's note when there is nothing live to
    compare with yet. A first release makes the file valid; the cluster is then compared with
    the new file."""
    from bgrender.live import cluster  # only here: the plain release path never imports kubernetes

    assert outcome.app is not None  # a release that changes something says what it started from
    plan = plan_of(outcome.app.replace(options=options_from_env(os.environ)))  # as `render` would here
    note = cluster.check_live(plan, cluster.Connection(kubeconfig, context, timeout))
    if note:
        write_err(note + "\n")


@click.command("diff")
@click.argument("path", required=False, default=".")
def diff(path: str) -> None:
    """Show what production would run next (the idle color's release, once promoted) beside
    what it runs now: the pod template and the ConfigMaps it mounts, from bluegreen.lock.yaml."""
    intent_path = intent_file(path)
    texts = decode_texts(intent_path, *read_files(intent_path))
    write_out(use_case.diff(Source(os.path.normpath(intent_path), texts,
                                   partial(load_app, intent_path, edit_env(os.environ)))))
