"""What production will run next beside what it runs now (DESIGN §15): `bgrender diff`, and
what `release`, `promote` and `rollback` print with `--dry-run`.

A unified diff between two lock entries, each shown as its pod template (sorted YAML) and the
data of the ConfigMaps it mounts, under a one-line summary (lock/changes.py) of the image,
env vars, config keys and resources that change. Every line is escaped to printable ASCII:
the diff lands in a pull request and a terminal. Pure: entries in, text out.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.errors import escape
from bgrender.lock.changes import changes
from bgrender.record import Record

if TYPE_CHECKING:
    from bgrender.colors import Color
    from bgrender.lock.lockfile import Entry


class Side(Record):
    """One side of the diff: a color and the entry it runs (None: nothing runs yet)."""

    color: Color
    entry: Entry | None

    @property
    def label(self) -> str:
        return escape(f"{self.color} {self.entry.version}") if self.entry else f"{self.color} (nothing)"


def production_diff(now: Side, next_: Side, *, notes: tuple[str, ...] = ()) -> str:
    """The summary line, any notes, then the unified diff from what production runs now to
    what it would run next (empty when they are the same)."""
    assert next_.entry is not None
    if now.entry is not None and now.entry.digest == next_.entry.digest:
        head = f"production: {now.label} -> {next_.label}: the same release, nothing changes\n"
        return head + "".join(f"note: {n}\n" for n in notes)
    head = f"production: {now.label} -> {next_.label}: {changes(now.entry, next_.entry).summary()}\n"
    body = _unified(entry_text(now.entry), entry_text(next_.entry), f"production ({now.label})",
                    f"next ({next_.label})")
    return head + "".join(f"note: {n}\n" for n in notes) + body


def entry_text(entry: Entry | None) -> str:
    """An entry as a reviewer reads it: its pod template and each ConfigMap's data, sorted."""
    if entry is None:
        return ""
    from bgrender.yamlfile.dump import dump_document, sorted_keys

    shown = {"template": sorted_keys(entry.template)}
    if entry.config_maps:
        shown["configMaps"] = sorted_keys(entry.config_maps)
    if entry.versioned:  # digests only: a Secret's values never enter the lock or a diff
        shown["versioned"] = sorted_keys(entry.versioned)
    return dump_document(shown)


def _unified(old: str, new: str, before: str, after: str) -> str:
    import difflib

    lines = difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{before}", f"b/{after}")
    return "".join(escape(line.rstrip("\n")) + "\n" for line in lines)
