"""Entry point of the `bgrender` command.

`bgrender render [PATH]` is what Argo CD runs for every app on every new commit, and
`bgrender validate [PATH...]` what a pre-commit hook runs for every commit: those exact
forms skip importing click (~20 ms, about half of a render) and call the functions the
click commands call, with the same messages and exit codes. Every other command line
goes through click.
"""

from __future__ import annotations

import gc
import os
import sys


def main(argv: list[str] | None = None) -> None:
    """The console script's entry point; with `argv`, a caller's (which gets SystemExit)."""
    args = sys.argv[1:] if argv is None else argv
    if _is_plain(args):
        code = _run_plain(args)
        if argv is None:
            _end_process(code)
        sys.exit(code)
    from bgrender.cli.main import cli

    cli.main(args=args, prog_name="bgrender")


def _is_plain(args: list[str]) -> bool:
    if not args or any(a.startswith("-") for a in args[1:]):
        return False
    return (args[0] == "render" and len(args) <= 2) or args[0] == "validate"


def _run_plain(args: list[str]) -> int:
    # Its data is plain dicts and lists, which hold no cycles, so a collection would only walk
    # live objects (with a 1 MiB base, a quarter of the time); the process ends right after.
    gc.disable()
    try:
        from bgrender.cli.render import run_render, run_validate

        if args[0] == "render":
            return run_render(args[1] if len(args) == 2 else ".", "yaml", os.environ)
        return run_validate(args[1:] or ["."], os.environ)
    except Exception as err:  # a bug: as under click, one line on stderr, no traceback, no output
        from bgrender.cli.streams import write_err
        from bgrender.errors import escape

        write_err(f"bgrender: internal error: {type(err).__name__}: {escape(str(err))} (rerun with --debug)\n")
        return 1


def _end_process(code: int) -> None:
    """Exit without tearing the interpreter down. Teardown frees every object one by one and
    runs a last full collection, a tenth of a render's instructions, for memory the kernel
    takes back at once. Nothing is lost: bgrender registers no exit handler, holds no file
    open, and both streams are flushed here."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: started with the stream closed
                stream.flush()
        except (OSError, ValueError):  # closed or gone: what was written is all there is
            code = code or 1
    os._exit(code)


if __name__ == "__main__":
    main()
