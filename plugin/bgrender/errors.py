"""Problems and errors. The CLI turns a BgRenderError into its exit code in one place.

A Problem is a value: it knows where it is (file, line, column, field path) and how to
print itself in the `FILE:LINE:COL: FIELD.PATH: message` form of DESIGN §3.
"""

from __future__ import annotations

from bgrender.record import Record


class Problem(Record):
    file: str  # as shown to the user; "" for the environment
    line: int  # 1-based; 0 when the problem has no position in a file
    column: int
    path: str  # dotted field path, e.g. "spec.blue.version"; "" for the whole file
    message: str

    def __str__(self) -> str:
        """One line of printable ASCII, whatever the file name, keys and values: the file and
        field path come from input and are escaped here; the message quotes its values
        (`quote`), and anything it still holds outside printable ASCII is escaped too."""
        file = escape(self.file)
        parts = [f"{file}:{self.line}:{self.column}" if self.line else file, escape(self.path)]
        return ": ".join([p for p in parts if p] + [_printable(self.message)])


def line_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of the character at `offset` in `text`."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def escape(text: str) -> str:
    """`text` safe to show on one line of a terminal or of Argo CD's UI: every character
    outside printable ASCII is written as an escape. A newline cannot start a forged line,
    an ANSI or bidi control cannot reach the terminal, and a confusable letter (a Cyrillic
    "е" in "blue") shows as what it is, "blu\\u0435"."""
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text
    return "".join(c if " " <= c <= "~" and c != "\\" else _escaped(c) for c in text)


def _printable(text: str) -> str:
    """Like `escape`, but backslashes stay: for text whose values were already quoted."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(c if " " <= c <= "~" else _escaped(c) for c in text)


def _escaped(char: str) -> str:
    code = ord(char)
    named = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named:
        return named
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def quote(value: object, limit: int = 80) -> str:
    """A value from input or from a cluster, for a message: double-quoted, escaped to one
    line of printable ASCII (see `escape`), and cut short."""
    text = value if isinstance(value, str) else repr(value)
    text = text if len(text) <= limit else text[:limit] + "..."
    return '"' + escape(text).replace('"', '\\"') + '"'


def quote_labels(labels: dict[str, str]) -> str:
    """Labels for a message: {"key": "value", ...}, sorted, each quoted."""
    return "{" + ", ".join(f"{quote(k, 64)}: {quote(v, 64)}" for k, v in sorted(labels.items())) + "}"


class BgRenderError(Exception):
    """Something the user must fix; exit code 1 unless a subclass says otherwise."""

    exit_code = 1

    def lines(self) -> list[str]:
        return [str(self)]


# Enough to fix a file in one pass; a file with 10,000 unknown keys still gives a short error
# (Argo CD shows the whole of stderr in its UI).
MAX_PROBLEMS_SHOWN = 20


class InvalidInput(BgRenderError):
    """The intent, a file it names, or the environment is invalid: one or more problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        shown = [str(p) for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        hidden = len(self.problems) - len(shown)
        return shown + ([f"... and {hidden} more problem{'s' if hidden > 1 else ''}"] if hidden else [])


class RefusedEdit(BgRenderError):
    """A release, promote or rollback that would be wrong; the file is left as it is."""


# The two ways the cluster can fail a command, apart, so that CI can tell an outage from drift.
EXIT_DRIFT = 3
EXIT_CLUSTER_UNREADABLE = 4


class Drift(BgRenderError):
    """The cluster was read, and it disagrees with Git (status not in sync; `release
    --check-live` finding production on another color than `active`)."""

    exit_code = EXIT_DRIFT


class ClusterError(BgRenderError):
    """The cluster could not be read (or written): unreachable, credentials refused or
    forbidden, out of time, a malformed answer, the client not installed."""

    exit_code = EXIT_CLUSTER_UNREADABLE
