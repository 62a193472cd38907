"""Writing to stdout and stderr, for every command.

Text goes out as UTF-8 bytes whatever the locale (`PYTHONIOENCODING=ascii` must not turn a
manifest holding "é" into a traceback), and a stdout that is closed (`>&-`), full
(`>/dev/full`) or gone (`| head`) is a failure: OutputFailed (exit 1, one line on stderr; the
reader of a broken pipe has left, so that one says nothing), never a traceback nor the
interpreter's exit code 120 for a failed flush at exit.
"""

from __future__ import annotations

import errno
import os
import sys

from bgrender import TYPE_CHECKING
from bgrender.errors import BgRenderError

if TYPE_CHECKING:
    from typing import Any


class OutputFailed(BgRenderError):
    """stdout could not take the output; nothing more is written to it."""

    def __init__(self, message: str, *, quiet: bool = False):
        super().__init__(message)
        self.quiet = quiet

    def lines(self) -> list[str]:
        return [] if self.quiet else [str(self)]


def write_out(text: str) -> None:
    """`text` on stdout, flushed: all of it, or OutputFailed."""
    stream = sys.stdout
    try:
        if stream is None:
            raise OSError(errno.EBADF, "stdout is closed")
        _write(stream, text)
    except (OSError, ValueError) as err:
        discard_stdout()
        broken = isinstance(err, BrokenPipeError)
        reason = getattr(err, "strerror", None) or str(err)
        raise OutputFailed(f"cannot write to stdout: {reason}", quiet=broken) from err


def write_err(text: str) -> None:
    """`text` on stderr, as well as it goes: there is nowhere left to report a failure."""
    stream = sys.stderr
    try:
        if stream is not None:
            _write(stream, text)
    except (OSError, ValueError):
        pass


def _write(stream: Any, text: str) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a text stream without bytes below it (a test's StringIO)
        stream.write(text)
        stream.flush()
        return
    stream.flush()  # what click or print may have left in the text layer goes first
    buffer.write(text.encode("utf-8", "surrogateescape"))
    buffer.flush()


def discard_stdout() -> None:
    """Point stdout at /dev/null, dropping what is buffered, so that the interpreter's flush at
    exit cannot fail a second time."""
    if sys.stdout is None:
        return
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
