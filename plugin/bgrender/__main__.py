"""Entry point of the `bgrender` command.

`bgrender render [PATH]` is what Argo CD runs for every app on every new commit, and
`bgrender validate [PATH...]` what a pre-commit hook runs for every commit: those forms,
`render` with one `--output yaml|json` (`-o`), and the edits (`release [VERSION] [PATH]`,
`promote`, `rollback`, `lock`, with or without `--dry-run`) skip importing click (~20 ms,
about half of a render) and call the functions the click commands call, with the same
messages and exit codes. Every other command line goes through click.
"""

from __future__ import annotations

import gc
import os
import sys


def main(argv: list[str] | None = None) -> None:
    """The console script's entry point; with `argv`, a caller's (which gets SystemExit)."""
    args = sys.argv[1:] if argv is None else argv
    plain = _plain_command(args)
    if plain is not None:
        code = _run_plain(*plain)
        if argv is None:
            _end_process(code)
        sys.exit(code)
    from bgrender.cli.main import cli

    cli.main(args=args, prog_name="bgrender")


_OUTPUTS = ("yaml", "json")
# The commands the fast path runs, and the most arguments each takes (None: any number).
_MOST_ARGUMENTS = {"render": 1, "validate": None, "release": 2, "promote": 1, "rollback": 1, "lock": 1}


def _plain_command(args: list[str]) -> tuple[str, list[str], str] | None:
    """(command, arguments, option) for the forms the fast path runs, else None (click decides,
    and reports usage errors): `validate [PATH...]`; `render [PATH]` with at most one `-o
    FORMAT`, `-oFORMAT`, `--output FORMAT` or `--output=FORMAT` (option: the format); `release
    [VERSION] [PATH]`, `promote`, `rollback` and `lock [PATH]`, with or without `--dry-run`
    (option: "dry-run" or ""). Options may come before or after the arguments."""
    if not args or args[0] not in _MOST_ARGUMENTS:
        return None
    command, rest, option = args[0], args[1:], ""
    if command == "render":
        rest, option = _without_output(rest)
        if option not in _OUTPUTS:
            return None
    elif command != "validate":
        option = "dry-run" if "--dry-run" in rest else ""
        rest = [a for a in rest if a != "--dry-run"]
    most = _MOST_ARGUMENTS[command]
    if any(a.startswith("-") for a in rest) or (most is not None and len(rest) > most):
        return None
    return command, rest, option


def _without_output(args: list[str]) -> tuple[list[str], str]:
    """`args` without its one output option, and the format it names ("" when unsure)."""
    at = [i for i, a in enumerate(args) if a.startswith(("-o", "--output"))]
    if not at:
        return args, "yaml"
    i = at[0]
    if len(at) > 1 or "--" in args[:i]:
        return args, ""
    option = args[i]
    if option in ("-o", "--output"):
        return args[:i] + args[i + 2:], args[i + 1] if i + 1 < len(args) else ""
    if option.startswith("--output="):
        return args[:i] + args[i + 1:], option[len("--output="):]
    return args[:i] + args[i + 1:], option[2:] if option[1] == "o" else ""


def _run_plain(command: str, arguments: list[str], option: str) -> int:
    # Its data is plain dicts and lists, which hold no cycles, so a collection would only walk
    # live objects (with a 1 MiB base, a quarter of the time); the process ends right after.
    gc.disable()
    try:
        if command == "render":
            from bgrender.cli.render import run_render

            return run_render(arguments[0] if arguments else ".", option, os.environ)
        if command == "validate":
            from bgrender.cli.render import run_validate

            return run_validate(arguments or ["."], os.environ)
        from bgrender.cli.editing import run_edit

        return run_edit(command, arguments, dry_run=option == "dry-run")
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
