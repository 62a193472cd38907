"""The `import` command: the shell around importer.py (DESIGN §13).

It refuses an OUT_DIR that exists and is not empty, reads the layout (layouts.py: kustomize
builds or plain files), runs the use case (importer.py: objects in, texts out), then makes
the app whole and proves it before OUT_DIR sees any of it: in a scratch directory it writes
bluegreen.yaml and deployment.yaml, pins the lock through the `lock` command's own code
(release.lock), and renders the three files as Argo CD will. Only then are they written into
OUT_DIR, each atomically, bluegreen.yaml last (a directory holding it is an app). stdout gets
the paths written; stderr what the user should know, and the migration steps. On any failure
the command raises a BgRenderError (exit 1; the CLI group prints it) with stdout empty and
OUT_DIR as it was. `cli.py` registers the command.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from functools import partial

import click

from . import release as use_case
from .dump import dump_yaml
from .errors import BgRenderError, escape
from .files import FileChange, undo_files, write_files
from .importer import DEPLOYMENT_FILE, Imported, import_layout
from .layouts import read_layout
from .lock import LOCK_FILE
from .pipeline import INTENT_FILE, AppTexts, load_app, render_app
from .release import Source
from .release_cli import VALIDATION_ENV
from .render_cli import MAX_OUTPUT_BYTES


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
    for line in (*imported.notes, *imported.steps):
        click.echo(line, err=True)
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
    the lock pinned by the `lock` command's code, in a scratch directory."""
    scratch = tempfile.mkdtemp(prefix="bgrender-import-")
    try:
        intent_path = os.path.join(scratch, INTENT_FILE)
        _write_text(os.path.join(scratch, DEPLOYMENT_FILE), imported.deployment)
        _write_text(intent_path, imported.intent)
        source = Source(os.path.join(out_dir, INTENT_FILE), AppTexts(imported.intent, None),
                        partial(load_app, intent_path, VALIDATION_ENV))
        try:
            lock = use_case.lock(source).lock
            assert lock is not None  # a first lock is always new
            _write_text(os.path.join(scratch, LOCK_FILE), lock)
            _check_renders(intent_path)
        except BgRenderError as err:
            raise _rehomed(err, scratch, out_dir) from err
        return [(DEPLOYMENT_FILE, imported.deployment.encode()), (LOCK_FILE, lock.encode()),
                (INTENT_FILE, imported.intent.encode())]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as file:
        file.write(text)


def _check_renders(intent_path: str) -> None:
    text = dump_yaml(render_app(intent_path, VALIDATION_ENV))
    if len(text.encode()) > MAX_OUTPUT_BYTES:
        raise ImportRefused(f"{intent_path}: would render more than {MAX_OUTPUT_BYTES // 2**20} MiB")


def _rehomed(err: BgRenderError, scratch: str, out_dir: str) -> ImportRefused:
    """The error as if the files were already in OUT_DIR, where the user will look for them."""
    lines = [line.replace(scratch + os.sep, escape(out_dir) + os.sep) for line in err.lines()]
    header = f"{escape(out_dir)}: refusing to write: the imported app would not render:"
    return ImportRefused("\n".join([header] + [line for line in lines if line != header]))


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
        if sys.stdout is None:
            raise OSError("stdout is closed")
        sys.stdout.write("".join(f"{escape(change.path)}\n" for change in written))
        sys.stdout.flush()
    except OSError as err:
        if sys.stdout is not None:  # drop what is buffered, or the exit would try to flush it again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        undone = undo_files(written)
        if created and undone:
            with contextlib.suppress(OSError):
                os.rmdir(created)
        raise ImportRefused(f"cannot print the files written ({getattr(err, 'strerror', None) or err}); "
                            + ("they were removed again" if undone else "and they could not be removed")) from err
