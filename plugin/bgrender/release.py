"""What `release`, `promote` and `rollback` change in bluegreen.yaml, and what they refuse.

Pure decisions over the text: `read_state` reads the few fields the decisions need (with
their positions, for messages), `decide_*` return a Change (the scalars to set and the
one-line commit message) or raise RefusedEdit, and `apply_change` makes the edits with
`edit.set_scalar`. `release_cli.py` does the I/O and validates the result with the core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from yaml.nodes import Node, ScalarNode

from bgrender import edit
from bgrender.colors import COLORS, Color, other
from bgrender.errors import InvalidInput, Problem, RefusedEdit

STR_TAG = edit.STR_TAG


@dataclass(frozen=True)
class State:
    """The fields of bluegreen.yaml that decide a release, and where each one is."""

    file: str
    name: str
    active: Color
    versions: dict[Color, str | None]
    mode: str
    positions: dict[str, tuple[int, int]]  # field path -> (line, column), 1-based

    @property
    def idle(self) -> Color:
        return other(self.active)

    def refusal(self, path: str, message: str) -> RefusedEdit:
        line, column = self._nearest_position(path)
        return RefusedEdit(str(Problem(self.file, line, column, path, message)))

    def _nearest_position(self, path: str) -> tuple[int, int]:
        """The position of `path`, else of its closest present parent (spec.active at worst)."""
        parts = path.split(".")
        while parts:
            found = self.positions.get(".".join(parts))
            if found:
                return found
            parts.pop()
        return self.positions["spec.active"]


@dataclass(frozen=True)
class Edit:
    """Set the string at `path`; if the key is missing, insert it after the first of `after`."""

    path: tuple[str, ...]
    value: str
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """The edits a command makes (none: nothing to do) and the line that describes them."""

    edits: tuple[Edit, ...]
    summary: str


def read_state(text: str, file: str) -> State:
    """Read name, active, versions and mode; InvalidInput when they cannot be read.

    The rest of the file is the core's to validate, on the edited text.
    """
    doc = edit.parse(text, file)
    problems: list[Problem] = []
    positions: dict[str, tuple[int, int]] = {}

    def string_at(path: str, *, required: bool) -> str | None:
        node = edit.lookup(doc, path.split("."))
        if node is None:
            if required:
                problems.append(Problem(file, 0, 0, path, "is required"))
            return None
        positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if not _is_string(node):
            problems.append(doc.problem(node.start_mark, path.split("."), "must be a string"))
            return None
        return node.value

    for color in COLORS:
        _note_position(doc, f"spec.{color}", positions)
    name = string_at("metadata.name", required=True)
    active = string_at("spec.active", required=True)
    versions = {color: string_at(f"spec.{color}.version", required=False) for color in COLORS}
    mode = string_at("spec.promotion.mode", required=False) or "manual"
    if active is not None and active not in COLORS:
        line, column = positions["spec.active"]
        problems.append(Problem(file, line, column, "spec.active", 'must be "blue" or "green"'))
    if problems:
        raise InvalidInput(problems)
    return State(file, name or "", cast(Color, active), versions, mode, positions)


def _is_string(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == STR_TAG


def _note_position(doc: edit.Document, path: str, positions: dict[str, tuple[int, int]]) -> None:
    node = edit.lookup(doc, path.split("."))
    if node is not None:
        positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)


def decide_release(state: State, version: str) -> Change:
    """Put `version` on the idle color (and, in auto mode, make it active).

    The first release into a file without versions goes to the active color. Releasing the
    version the idle color already has changes nothing; releasing the one production runs
    is refused, since both colors would then be the same and the rollback target lost.
    """
    name, active, idle = state.name, state.active, state.idle
    if not any(state.versions.values()):
        return Change(
            (_set_version(active, version),),
            f"release {name} {version} to {active} (first release; {active} serves production)",
        )
    if state.versions[idle] == version:
        return Change(
            (),
            f"{name}: {version} is already on {idle} (idle); nothing to release "
            f"(`bgrender promote` sends production to it)",
        )
    if state.versions[active] == version:
        raise state.refusal(
            f"spec.{active}.version",
            f"{version} already serves production on {active}; releasing it again would put it on "
            f"both colors and lose the rollback target",
        )
    if state.mode == "auto":
        return Change(
            (_set_version(idle, version), _set_active(idle)),
            f"release {name} {version} to {idle} and promote it "
            f"({_describe(state, active)} becomes idle)",
        )
    return Change(
        (_set_version(idle, version),),
        f"release {name} {version} to {idle} (production stays on {active})",
    )


def decide_promote(state: State) -> Change:
    """Send production to the idle color: the new release goes live."""
    return _switch_to_idle(state, "promote", f"promote {state.name} {_describe(state, state.idle)} to production")


def decide_rollback(state: State) -> Change:
    """Send production back to the idle color, which holds the previous release.

    The same edit as promote; the name and the message say why it is made."""
    return _switch_to_idle(state, "roll back to", f"roll back {state.name} to {_describe(state, state.idle)}")


def _switch_to_idle(state: State, verb: str, summary: str) -> Change:
    _require_version(state, state.idle, verb)
    return Change((_set_active(state.idle),), f"{summary} ({_describe(state, state.active)} becomes idle)")


def _require_version(state: State, color: Color, verb: str) -> None:
    if not state.versions[color]:
        raise state.refusal(
            f"spec.{color}.version",
            f"cannot {verb} {color}: it has no version (release one first: bgrender release VERSION)",
        )


def _describe(state: State, color: Color) -> str:
    version = state.versions[color]
    return f"{color} {version}" if version else color


def _set_version(color: Color, version: str) -> Edit:
    # A new color block goes next to its sibling: blue right after `active`, green after blue.
    after = ("blue", "active") if color == "green" else ("active",)
    return Edit(("spec", color, "version"), version, after)


def _set_active(color: Color) -> Edit:
    return Edit(("spec", "active"), color)


def apply_change(text: str, change: Change, file: str) -> str:
    """The text after the change's edits, each one touching only its own lines."""
    for step in change.edits:
        text = edit.set_scalar(text, step.path, step.value, file=file, after=step.after)
    return text
