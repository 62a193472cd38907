"""Problems and errors. The CLI turns a BgRenderError into its exit code in one place.

A Problem is a value: it knows where it is (file, line, column, field path) and how to
print itself in the `FILE:LINE:COL: FIELD.PATH: message` form of DESIGN §3.
"""

from __future__ import annotations

from .record import Record


class Problem(Record):
    file: str  # as shown to the user; "" for the environment
    line: int  # 1-based; 0 when the problem has no position in a file
    column: int
    path: str  # dotted field path, e.g. "spec.blue.version"; "" for the whole file
    message: str

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}:{self.column}" if self.line else self.file, self.path]
        return ": ".join([p for p in parts if p] + [self.message])


def quote(value: object, limit: int = 80) -> str:
    """A value for a message: double-quoted, control characters escaped (a newline must not
    start a fake line in Argo CD's UI), and cut short."""
    text = value if isinstance(value, str) else repr(value)
    text = text if len(text) <= limit else text[:limit] + "..."
    import json  # only on the error path

    return json.dumps(text, ensure_ascii=False)


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


class ClusterError(BgRenderError):
    """The live cluster could not be read, or it disagrees with Git."""

    exit_code = 3
