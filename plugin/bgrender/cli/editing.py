"""Running `release`, `promote`, `rollback` and `lock`: holds the app's edit lock from the first
read to the last write, runs the use case (release/edits.py: texts in, texts out), and writes
the lock, then bluegreen.yaml, atomically (app/files.py). On any failure it raises a
BgRenderError with stdout empty and both files as they were. Without click: the click commands
(cli/release.py) and the fast path in __main__ (`run_edit`) both call it.
"""

from __future__ import annotations

import os

from bgrender import TYPE_CHECKING
from bgrender.app.files import BOM, EditLock, FileChange, undo_files, write_files
from bgrender.app.pipeline import boundary, decode_texts, intent_file, load_app, lock_file, read_files
from bgrender.cli.streams import OutputFailed, write_err, write_out
from bgrender.errors import BgRenderError, InvalidInput, Problem, escape
from bgrender.release import edits as use_case
from bgrender.release.edits import Outcome, Source, edit_env

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def run_edit(command: str, arguments: Sequence[str], dry_run: bool) -> int:
    """`command` (release, promote, rollback or lock) with its PATH (and VERSION) arguments, as
    the click command runs it; the exit code."""
    from bgrender.cli.render import report

    version, path = version_and_path(arguments) if command == "release" else (None, arguments[0] if arguments else ".")
    try:
        if command == "release":
            edit(path, lambda source: use_case.release(source, version), dry_run=dry_run)
        else:
            edit(path, getattr(use_case, command), dry_run=dry_run)
    except BgRenderError as err:
        return report(err)
    return 0


def version_and_path(arguments: Sequence[str]) -> tuple[str | None, str]:
    """`release VERSION PATH`, `release VERSION`, `release PATH` or `release` (the caller
    refuses more arguments): one argument is PATH when it names an app (a directory holding
    bluegreen.yaml, or a .yaml file)."""
    if len(arguments) == 2:
        return arguments[0], arguments[1]
    if not arguments:
        return None, "."
    one = arguments[0]
    if one.endswith((".yaml", ".yml")) or os.path.isfile(os.path.join(one, "bluegreen.yaml")):
        return None, one
    return one, "."


def edit(path: str, decide: Callable[[Source], Outcome], *, dry_run: bool,
         check_live: Callable[[Source, Outcome], None] | None = None, output: str = "text") -> None:
    """Run the edit; with `output` "json", stdout gets `edit_json` instead of the commit message
    (or the dry run's diffs), and stderr is the same."""
    intent_path = intent_file(path)
    shown, shown_lock = os.path.normpath(intent_path), os.path.normpath(lock_file(intent_path))
    app_dir = os.path.dirname(intent_path) or "."
    if not os.path.isdir(app_dir):  # as reading the file would say, before the lock on its directory
        raise InvalidInput([Problem(shown, 0, 0, "", "file not found")])
    with EditLock(app_dir, waiting=lambda: write_err(f"waiting for another bgrender edit of {escape(app_dir)}\n")):
        within = boundary(intent_path)  # bluegreen.yaml and the lock are read, and written, inside it
        intent_bytes, lock_bytes = read_files(intent_path, within)
        texts = decode_texts(intent_path, intent_bytes, lock_bytes)
        env = edit_env(os.environ)  # (functools.partial would cost the edit an import)
        source = Source(shown, texts, lambda texts, doc: load_app(intent_path, env, texts, doc))
        outcome = decide(source)
        if check_live and outcome.changed:
            check_live(source, outcome)
        if not outcome.changed:
            write_err(outcome.summary + "\n")
            if output == "json":
                write_out(edit_json(outcome, [], dry_run))
            return
        for note in outcome.notes:
            write_err(f"note: {note}\n")
        bom = BOM if intent_bytes.startswith(BOM) else b""
        changes = [FileChange(p, old, new, within) for p, old, new in (
            (shown_lock, lock_bytes, _bytes(outcome.lock)),
            (shown, intent_bytes, _bytes(outcome.intent, bom)),
        ) if new is not None]
        if dry_run:
            diff = outcome.diff() + "".join(unified_diff(c.path, c.old, c.new) for c in changes)
            write_out(edit_json(outcome, changes, dry_run, diff) if output == "json" else diff)
            write_err(f"would commit: {outcome.summary}\n")
            return
        write_files(changes)
        _print_or_undo(edit_json(outcome, changes, dry_run) if output == "json" else outcome.summary + "\n", changes)


def edit_json(outcome: Outcome, changes: Sequence[FileChange], dry_run: bool, diff: str | None = None) -> str:
    """The outcome for scripts, on one line, keys sorted: `changed` (false: nothing to do,
    `reason` says why), the `commitMessage`, the `files` written (or, with `dryRun`, that would
    be, and the `diff`), and the `notes` shown on stderr."""
    import json

    summary: dict[str, object] = {
        "changed": outcome.changed, "dryRun": dry_run, "files": [c.path for c in changes],
        "commitMessage": outcome.summary if outcome.changed else None,
        "reason": None if outcome.changed else outcome.summary, "notes": list(outcome.notes),
    }
    if diff is not None:
        summary["diff"] = diff
    return json.dumps(summary, sort_keys=True) + "\n"


def _bytes(text: str | None, bom: bytes = b"") -> bytes | None:
    return None if text is None else bom + text.encode("utf-8")


def _print_or_undo(text: str, changes: list[FileChange]) -> None:
    """Print the commit message; if stdout cannot take it (closed, full), put the files back,
    so that a failing command leaves them as they were (CI would not commit half a release)."""
    try:
        write_out(text)
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
