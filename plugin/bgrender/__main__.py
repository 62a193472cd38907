"""Entry point of the `bgrender` command.

`bgrender render [PATH]` is what Argo CD runs for every app on every new commit, so that
exact form skips importing click (~20 ms, about half of a render) and calls the same
function the click command calls. Every other command line goes through click.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if _is_plain_render(args):
        from .render_cli import run_render

        sys.exit(run_render(args[1] if len(args) == 2 else ".", "yaml", os.environ))
    from .cli import cli

    cli.main(args=args, prog_name="bgrender")


def _is_plain_render(args: list[str]) -> bool:
    return 1 <= len(args) <= 2 and args[0] == "render" and not any(a.startswith("-") for a in args[1:])


if __name__ == "__main__":
    main()
