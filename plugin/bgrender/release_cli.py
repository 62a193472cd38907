"""The `release`, `promote` and `rollback` commands: read, decide, validate, write.

`release.py` decides and `edit.py` edits, both pure; this module does the I/O around them.
The edited text is rendered by the core before anything is written, the write is atomic,
and on any failure the commands raise a BgRenderError (the CLI group prints it and exits with
its code) with stdout empty and the file untouched. `cli.py` registers these commands.
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from bgrender import pipeline
from bgrender.errors import BgRenderError, InvalidInput, Problem, RefusedEdit
from bgrender.files import read_app_file
from bgrender.release import (
    Change,
    State,
    apply_change,
    decide_promote,
    decide_release,
    decide_rollback,
    read_state,
)
from bgrender.status_cli import connection_options

# The file is validated as it would render with no build environment: whether a release is
# allowed must not depend on the variables of the machine that runs it.
VALIDATION_ENV: Mapping[str, str] = {}


class EditWouldBeInvalid(RefusedEdit):
    """The edit would leave a file that does not validate; nothing was written."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = sorted(set(problems))
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        header = f"{self.file}: refusing to write: the edited file would not validate:"
        return [header, *map(str, self.problems)]


class WriteFailed(BgRenderError):
    """The new text could not be written; the file is as it was."""


@dataclass(frozen=True)
class IntentFile:
    """bluegreen.yaml as read: its path, its bytes and their text."""

    path: Path
    data: bytes
    text: str

    @property
    def file(self) -> str:
        return os.path.normpath(self.path)  # as the core shows it in its messages


PATH_ARGUMENT = click.argument("path", required=False, default=".", type=click.Path(path_type=Path))
DRY_RUN_OPTION = click.option(
    "--dry-run", is_flag=True, help="Print the unified diff instead of writing the file."
)


@click.command("release")
@click.argument("version")
@PATH_ARGUMENT
@DRY_RUN_OPTION
@click.option(
    "--check-live",
    is_flag=True,
    help="First read the cluster (read-only) and refuse if its production color is not spec.active.",
)
@connection_options
def release(
    version: str,
    path: Path,
    dry_run: bool,
    check_live: bool,
    kubeconfig: str | None,
    context: str | None,
    timeout: float,
) -> None:
    """Put VERSION on the idle color of the app at PATH (default: .).

    With promotion.mode auto, also make that color active. The first release into a file
    without versions goes to the active color. Prints a one-line commit message.
    """
    if (kubeconfig or context) and not check_live:
        raise click.UsageError("--kubeconfig and --context are only used with --check-live")
    intent = read_intent_file(path)
    state, valid = read_valid_state(intent, allow_no_versions=True)
    change = decide_release(state, version)
    new_text = edited_text(intent, change)
    if check_live and change.edits:
        # A first release makes the file valid; the cluster is compared with that file.
        live_text = intent.text if valid else new_text
        compare_with_cluster(intent, live_text, kubeconfig, context, timeout)
    finish(intent, change, new_text, dry_run=dry_run)


@click.command("promote")
@PATH_ARGUMENT
@DRY_RUN_OPTION
def promote(path: Path, dry_run: bool) -> None:
    """Send production traffic to the idle color of the app at PATH (default: .)."""
    switch_active(path, decide_promote, dry_run=dry_run)


@click.command("rollback")
@PATH_ARGUMENT
@DRY_RUN_OPTION
def rollback(path: Path, dry_run: bool) -> None:
    """Send production traffic back to the idle color, which holds the previous release."""
    switch_active(path, decide_rollback, dry_run=dry_run)


def switch_active(path: Path, decide: Callable[[State], Change], *, dry_run: bool) -> None:
    intent = read_intent_file(path)
    state, _ = read_valid_state(intent, allow_no_versions=False)
    change = decide(state)
    finish(intent, change, edited_text(intent, change), dry_run=dry_run)


def read_intent_file(path: Path) -> IntentFile:
    """The file's bytes and text, read with the core's checks (size, file type, symlinks, UTF-8)."""
    intent_path = pipeline.find_intent(path)
    shown = os.path.normpath(intent_path)
    text = read_app_file(intent_path.parent, intent_path.name, shown)
    try:
        data = intent_path.read_bytes()
    except OSError as err:
        raise InvalidInput([Problem(shown, 0, 0, "", f"cannot be read: {err.strerror or err}")]) from err
    # The core drops a byte-order mark; keep it, so that it is written back.
    if data.startswith(codecs.BOM_UTF8):
        text = "\ufeff" + text
    if text.encode("utf-8") != data:
        raise WriteFailed(f"{shown}: changed on disk while being read; nothing written, run again")
    return IntentFile(intent_path, data, text)


def read_valid_state(intent: IntentFile, *, allow_no_versions: bool) -> tuple[State, bool]:
    """The state of a file the core validates, and whether it did.

    A file without any version is invalid (its active color has none) until its first
    release, so `release` may go on with one; the edited text is validated all the same.
    """
    try:
        validate(intent, intent.text)
    except InvalidInput:
        if not allow_no_versions or not _has_no_versions(intent):
            raise
        return read_state(intent.text, intent.file), False
    return read_state(intent.text, intent.file), True


def _has_no_versions(intent: IntentFile) -> bool:
    try:
        state = read_state(intent.text, intent.file)
    except BgRenderError:
        return False  # the core's problems say more
    return not any(state.versions.values())


def validate(intent: IntentFile, text: str) -> None:
    """Render `text` as if it were the file's content; InvalidInput when it does not render."""
    pipeline.render_app(intent.path, VALIDATION_ENV, intent_text=text)


def edited_text(intent: IntentFile, change: Change) -> str:
    """The text after `change`, rendered once to prove it valid before anyone writes it."""
    if not change.edits:
        return intent.text
    new_text = apply_change(intent.text, change, intent.file)
    try:
        validate(intent, new_text)
    except InvalidInput as err:
        raise EditWouldBeInvalid(intent.file, err.problems) from err
    return new_text


def compare_with_cluster(
    intent: IntentFile, text: str, kubeconfig: str | None, context: str | None, timeout: float
) -> None:
    """Refuse (ClusterError, exit 3) when the live production color is not the file's active."""
    from bgrender import cluster  # only here: the plain release path never imports kubernetes

    plan = pipeline.plan_app(intent.path, os.environ, intent_text=text)
    cluster.check_live(plan, cluster.Connection(kubeconfig, context, timeout))


def finish(intent: IntentFile, change: Change, new_text: str, *, dry_run: bool) -> None:
    if not change.edits:
        click.echo(change.summary, err=True)
    elif dry_run:
        click.echo(unified_diff(intent.file, intent.text, new_text), nl=False)
        click.echo(f"would commit: {change.summary}", err=True)
    else:
        write_atomically(intent, new_text.encode("utf-8"))
        click.echo(change.summary)


def unified_diff(file: str, old: str, new: str) -> str:
    """A `git apply`-able diff, including the marker for a last line without a line break."""
    before, after = (file, file) if os.path.isabs(file) else (f"a/{file}", f"b/{file}")
    lines = difflib.unified_diff(_lines(old), _lines(new), before, after)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _lines(text: str) -> list[str]:
    # Split on "\n" only: str.splitlines would also split inside a line at "\x0c" or "\u2028".
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def write_atomically(intent: IntentFile, data: bytes) -> None:
    """Replace the file with `data` in one rename, keeping its mode; or leave it as it was."""
    target = Path(os.path.realpath(intent.path))  # write through a symlink, not over it
    try:
        if target.read_bytes() != intent.data:
            raise WriteFailed(f"{intent.file}: changed on disk during the edit; nothing written, run again")
        mode = stat.S_IMODE(target.stat().st_mode)
        _replace_file(target, data, mode)
    except OSError as err:
        raise WriteFailed(f"{intent.file}: cannot write: {err.strerror or err}; the file is unchanged") from err


def _replace_file(target: Path, data: bytes, mode: int) -> None:
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        _write_durably(fd, data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(target.parent)


def _write_durably(fd: int, data: bytes) -> None:
    try:
        handle = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; some file systems cannot, which is no reason to fail."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
