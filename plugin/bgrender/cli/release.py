"""The `release`, `promote`, `rollback` and `lock` commands: the shell around release/edits.py.

This module parses the command line, holds the app's edit lock from the first read to the
last write, runs the use case (release/edits.py: texts in, texts out), and writes the lock,
then bluegreen.yaml, atomically (app/files.py); `release --check-live` first compares the
cluster with the app the use case loaded. On any failure the command raises a BgRenderError
(the CLI group prints it and exits with its code) with stdout empty and both files as they
were. `cli/main.py` registers these commands.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial

import click

from bgrender.app.files import BOM, EditLock, FileChange, undo_files, write_files
from bgrender.app.pipeline import decode_texts, intent_file, load_app, lock_file, plan_of, read_files
from bgrender.cli.status import connection_options
from bgrender.cli.streams import OutputFailed, write_err, write_out
from bgrender.intent.env import options_from_env
from bgrender.release import edits as use_case
from bgrender.release.edits import VALIDATION_ENV, Outcome, Source

DRY_RUN_OPTION = click.option("--dry-run", is_flag=True, help="Print what production would run next beside what it "
                              "runs now, and the unified diffs of the files, instead of writing them.")


@click.command("release")
@click.argument("arguments", nargs=-1, metavar="[VERSION] [PATH]")
@DRY_RUN_OPTION
@click.option("--replace", is_flag=True, help="Replace a pending release (one never promoted) on the idle color.")
@click.option("--check-live", is_flag=True,
              help="First read the cluster (read-only) and refuse if its production color is not spec.active.")
@connection_options
def release(arguments: tuple[str, ...], dry_run: bool, replace: bool, check_live: bool, kubeconfig: str | None,
            context: str | None, timeout: float) -> None:
    """Release VERSION to the idle color of the app at PATH (default: .), pinned from the
    current base in bluegreen.lock.yaml.

    Without VERSION, the idle color gets the active color's version built from the current
    base: a config-only release. With promotion.mode auto, the color is also made active.
    Refuses to replace a pending release (never promoted) unless --replace. Prints a one-line
    commit message.
    """
    version, path = _version_and_path(arguments)
    if (kubeconfig or context) and not check_live:
        raise click.UsageError("--kubeconfig and --context are only used with --check-live")
    live = partial(_compare_with_cluster, kubeconfig=kubeconfig, context=context, timeout=timeout) \
        if check_live else None
    edit(path, lambda source: use_case.release(source, version, replace), dry_run=dry_run, check_live=live)


@click.command("promote")
@click.argument("path", required=False, default=".")
@DRY_RUN_OPTION
def promote(path: str, dry_run: bool) -> None:
    """Send production traffic to the idle color of the app at PATH (default: .)."""
    edit(path, use_case.promote, dry_run=dry_run)


@click.command("rollback")
@click.argument("path", required=False, default=".")
@DRY_RUN_OPTION
def rollback(path: str, dry_run: bool) -> None:
    """Send production back to the release that served it before, if the idle color still
    holds it exactly; otherwise refuse and say how to bring it back."""
    edit(path, use_case.rollback, dry_run=dry_run)


@click.command("lock")
@click.argument("path", required=False, default=".")
@DRY_RUN_OPTION
def lock(path: str, dry_run: bool) -> None:
    """Pin the colors of the app at PATH (default: .) as they render now, in bluegreen.lock.yaml:
    to adopt an app, or after a deliberate hand edit of a version."""
    edit(path, use_case.lock, dry_run=dry_run)


def _version_and_path(arguments: tuple[str, ...]) -> tuple[str | None, str]:
    """`release VERSION PATH`, `release VERSION`, `release PATH` or `release`: one argument is
    PATH when it names an app (a directory holding bluegreen.yaml, or a .yaml file)."""
    if len(arguments) > 2:
        raise click.UsageError("expected at most VERSION and PATH")
    if len(arguments) == 2:
        return arguments[0], arguments[1]
    if not arguments:
        return None, "."
    one = arguments[0]
    if one.endswith((".yaml", ".yml")) or os.path.isfile(os.path.join(one, "bluegreen.yaml")):
        return None, one
    return one, "."


def edit(path: str, decide: Callable[[Source], Outcome], *, dry_run: bool,
         check_live: Callable[[Source, Outcome], None] | None = None) -> None:
    intent_path = intent_file(path)
    shown, shown_lock = os.path.normpath(intent_path), os.path.normpath(lock_file(intent_path))
    with EditLock(os.path.dirname(intent_path) or "."):
        intent_bytes, lock_bytes = read_files(intent_path)
        texts = decode_texts(intent_path, intent_bytes, lock_bytes)
        source = Source(shown, texts, partial(load_app, intent_path, VALIDATION_ENV))
        outcome = decide(source)
        if check_live and outcome.changed:
            check_live(source, outcome)
        if not outcome.changed:
            write_err(outcome.summary + "\n")
            return
        for note in outcome.notes:
            write_err(f"note: {note}\n")
        bom = BOM if intent_bytes.startswith(BOM) else b""
        changes = [FileChange(p, old, new) for p, old, new in (
            (shown_lock, lock_bytes, _bytes(outcome.lock)),
            (shown, intent_bytes, _bytes(outcome.intent, bom)),
        ) if new is not None]
        if dry_run:
            write_out(outcome.diff + "".join(unified_diff(c.path, c.old, c.new) for c in changes))
            write_err(f"would commit: {outcome.summary}\n")
            return
        write_files(changes)
        _print_or_undo(outcome.summary, changes)


def _bytes(text: str | None, bom: bytes = b"") -> bytes | None:
    return None if text is None else bom + text.encode("utf-8")


def _print_or_undo(summary: str, changes: list[FileChange]) -> None:
    """Print the commit message; if stdout cannot take it (closed, full), put the files back,
    so that a failing command leaves them as they were (CI would not commit half a release)."""
    try:
        write_out(summary + "\n")
    except OutputFailed as err:
        undone = undo_files(changes)
        raise OutputFailed(f"cannot print the commit message ({err}); "
                           + ("the files are as they were" if undone else "and the files could not be put back")
                           ) from err


def unified_diff(file: str, old: bytes | None, new: bytes | None) -> str:
    """A `git apply`-able diff, including the marker for a last line without a line break."""
    import difflib

    before = "/dev/null" if old is None else file if os.path.isabs(file) else f"a/{file}"
    after = file if os.path.isabs(file) else f"b/{file}"
    lines = difflib.unified_diff(_lines(old), _lines(new), before, after)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _lines(data: bytes | None) -> list[str]:
    # Split on "\n" only: str.splitlines would also split inside a line at "\x0c" or "\u2028".
    parts = (data or b"").decode("utf-8").split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _compare_with_cluster(source: Source, outcome: Outcome, *, kubeconfig: str | None, context: str | None,
                          timeout: float) -> None:
    """Refuse (ClusterError, exit 3) when the live production color is not the file's active;
    print check_live's note when there is nothing live to compare with yet. A first release
    makes the file valid; the cluster is then compared with the new file."""
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
                                   partial(load_app, intent_path, VALIDATION_ENV))))
