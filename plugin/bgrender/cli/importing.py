"""The `import` command: the shell around importing/importer.py (DESIGN §13).

It refuses an OUT_DIR that exists and is not empty, reads the layout (layouts.py: kustomize
builds or plain files), runs the use case (importer.py: objects in, texts out), then makes
the app whole and proves it before OUT_DIR sees any of it: with deployment.yaml in a scratch
directory, it pins the lock through the `lock` command's own code (release/edits.lock), which
renders the three files as `render` would, limits included. Only then are they written into
OUT_DIR, each atomically, bluegreen.yaml last (a directory holding it is an app). stdout gets
the paths written; stderr what the user should know, and the migration steps. On any failure
the command raises a BgRenderError (exit 1; the CLI group prints it) with stdout empty and
OUT_DIR as it was. `cli/main.py` registers the command.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from functools import partial

import click

from bgrender.app.files import FileChange, undo_files, write_files
from bgrender.app.pipeline import INTENT_FILE, AppTexts, load_app
from bgrender.cli.streams import OutputFailed, write_err, write_out
from bgrender.errors import BgRenderError, InvalidInput, escape
from bgrender.importing.importer import DEPLOYMENT_FILE, Imported, import_layout
from bgrender.importing.layouts import read_layout
from bgrender.lock.lockfile import LOCK_FILE
from bgrender.release import edits as use_case
from bgrender.release.edits import VALIDATION_ENV, EditWouldBeInvalid, Source


class ImportRefused(BgRenderError):
    """OUT_DIR cannot take the app, or the imported app would not render; nothing was written."""


@click.command("import")
@click.argument("source_dir")
@click.argument("out_dir")
def import_command(source_dir: str, out_dir: str) -> None:
    """Turn a kustomize blue/green layout at SOURCE_DIR into an app in OUT_DIR: bluegreen.yaml,
    deployment.yaml and bluegreen.lock.yaml, keeping the layout's names, label keys, header,
    hosts, active color and versions.

    SOURCE_DIR's kustomizations are built with `kustomize build`, else `kubectl kustomize`
    (a layout without any is read as plain YAML files). OUT_DIR must not exist or be empty.
    Prints the files written; the migration steps go to stderr.
    """
    shown_out, shown_source = os.path.normpath(out_dir), os.path.normpath(source_dir)
    require_empty(shown_out)
    imported = import_layout(read_layout(source_dir), shown_source, shown_out)
    files = finished(imported, shown_out)
    require_empty(shown_out)  # again: the builds took a while
    written, created = write_app(shown_out, files)
    write_err("".join(f"{line}\n" for line in (*imported.notes, *imported.steps)))
    _print_or_undo(written, shown_out if created else None)


def require_empty(out_dir: str) -> None:
    if not os.path.lexists(out_dir):
        parent = os.path.dirname(out_dir) or "."
        if not os.path.isdir(parent):
            raise ImportRefused(f"{escape(out_dir)}: its parent directory {escape(parent)} does not exist")
        return
    if not os.path.isdir(out_dir):
        raise ImportRefused(f"{escape(out_dir)}: exists and is not a directory")
    if os.listdir(out_dir):
        raise ImportRefused(f"{escape(out_dir)}: is not empty; import writes only into a new or empty directory, "
                            "so that it overwrites nothing")


def finished(imported: Imported, out_dir: str) -> list[tuple[str, bytes]]:
    """The app's three files, in the order they are written, once they are shown to render:
    the lock pinned by the `lock` command's code, with the base in a scratch directory."""
    scratch = tempfile.mkdtemp(prefix="bgrender-import-")
    try:
        with open(os.path.join(scratch, DEPLOYMENT_FILE), "w", encoding="utf-8", newline="") as file:
            file.write(imported.deployment)
        source = Source(os.path.join(out_dir, INTENT_FILE), AppTexts(imported.intent, None),
                        partial(load_app, os.path.join(scratch, INTENT_FILE), VALIDATION_ENV))
        try:
            lock = use_case.lock(source).lock
            assert lock is not None  # a first lock is always new
        except BgRenderError as err:
            raise _rehomed(err, scratch, out_dir) from err
        return [(DEPLOYMENT_FILE, imported.deployment.encode()), (LOCK_FILE, lock.encode()),
                (INTENT_FILE, imported.intent.encode())]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _rehomed(err: BgRenderError, scratch: str, out_dir: str) -> ImportRefused:
    """The error as if the files were already in OUT_DIR, where the user will look for them,
    under one header of its own."""
    lines = InvalidInput(err.problems).lines() if isinstance(err, EditWouldBeInvalid) else err.lines()
    header = f"{escape(out_dir)}: refusing to write: the imported app would not render:"
    return ImportRefused("\n".join([header] + [line.replace(scratch + os.sep, escape(out_dir) + os.sep)
                                                for line in lines]))


def write_app(out_dir: str, files: list[tuple[str, bytes]]) -> tuple[list[FileChange], bool]:
    """Each file atomically into OUT_DIR, created if absent (and whether it was); on failure,
    OUT_DIR as it was."""
    created = not os.path.lexists(out_dir)
    try:
        if created:
            os.mkdir(out_dir)
    except OSError as err:
        raise ImportRefused(f"{escape(out_dir)}: cannot be created: {err.strerror or err}") from err
    changes = [FileChange(os.path.join(out_dir, name), None, data) for name, data in files]
    try:
        write_files(changes)
    except BgRenderError:
        if created:
            with contextlib.suppress(OSError):
                os.rmdir(out_dir)
        raise
    return changes, created


def _print_or_undo(written: list[FileChange], created: str | None) -> None:
    """The paths written, one a line; if stdout cannot take them, the files go again (and
    OUT_DIR, if the command `created` it)."""
    try:
        write_out("".join(f"{escape(change.path)}\n" for change in written))
    except OutputFailed as err:
        undone = undo_files(written)
        if created and undone:
            with contextlib.suppress(OSError):
                os.rmdir(created)
        reason = getattr(err.__cause__, "strerror", None) or err.__cause__
        raise ImportRefused(f"cannot print the files written ({reason}); "
                            + ("they were removed again" if undone else "and they could not be removed")) from err
