"""release, promote, rollback and lock: what each changes in bluegreen.yaml and its lock, and
what each refuses (DESIGN §6, §9).

A pure use case: the texts of the two files and a loader (which reads the base Deployment
through the core) in; the new texts and a one-line commit message out, or a refusal
(RefusedEdit) or the problems of the files (InvalidInput). Both new texts are rendered by the
core before they are returned, so what a command would write always renders. `release_cli.py`
parses the command line, holds the edit lock and writes the files.
"""

from __future__ import annotations

from collections.abc import Callable

from bgrender.app.pipeline import App, AppTexts, plan_of
from bgrender.colors import COLORS, Color, other
from bgrender.errors import InvalidInput, Problem, RefusedEdit
from bgrender.lock.lockfile import LOCK_FILE, Entry, Lock, dump_lock, promoted, recorded
from bgrender.plan.plan import Plan
from bgrender.record import Record
from bgrender.render.render import render
from bgrender.yamlfile.document import Document, get_in, load_document
from bgrender.yamlfile.dump import dump_output
from bgrender.yamlfile.edit import set_scalar

Load = Callable[[AppTexts], App]  # parse and check an app from its texts (pipeline.load_app, bound)
# The files are validated as they would render with no build environment: whether an edit is
# allowed must not depend on the variables of the machine that runs it.
VALIDATION_ENV: dict[str, str] = {}


class Source(Record):
    """An app's files as read, and how to load texts of them: the use case's only way to
    the base Deployment (pipeline.load_app bound to the app's path and environment)."""

    file: str  # bluegreen.yaml as messages name it
    texts: AppTexts
    load: Load

    def state(self) -> State:
        return read_state(self.texts.intent, self.file)

    def current(self) -> tuple[App, Plan]:
        """The app as its files are now, which must render: a command starts from a valid state."""
        app = self.load(self.texts)
        plan = plan_of(app)
        render(plan)
        return app, plan


class State(Record):
    """The fields of bluegreen.yaml that decide a command, read even from a file that does
    not validate yet (one without any version, before its first release)."""

    doc: Document
    name: str
    active: Color
    versions: dict[Color, str | None]
    mode: str

    @property
    def idle(self) -> Color:
        return other(self.active)

    def refusal(self, color: Color, message: str) -> RefusedEdit:
        """A refusal naming the color's version, at its line, else its block's, else `active`'s."""
        where = next((p for p in (("spec", color, "version"), ("spec", color), ("spec", "active"))
                      if self.doc.node(p) is not None), ("spec",))
        line, column = self.doc.position(where)
        return RefusedEdit(str(Problem(self.doc.file, line, column, f"spec.{color}.version", message)))

    def describe(self, color: Color) -> str:
        version = self.versions[color]
        return f"{color} {version}" if version else color


class Edit(Record):
    """Set the string at `path`; if the key is missing, insert it after the first of `after`."""

    path: tuple[str, ...]
    value: str
    after: tuple[str, ...] = ()


class Outcome(Record):
    """What a command writes (None: that file stays as it is) and the line that says what it did."""

    intent: str | None
    lock: str | None
    summary: str

    @property
    def changed(self) -> bool:
        return self.intent is not None or self.lock is not None


class EditWouldBeInvalid(RefusedEdit):
    """The edit would leave files that do not render; nothing was written."""

    def __init__(self, err: InvalidInput, file: str):
        self.problems = err.problems
        self.header = f"{file}: refusing to write: the edited files would not validate:"
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [self.header, *InvalidInput(self.problems).lines()]


def read_state(text: str, file: str) -> State:
    """Name, active, versions and mode; InvalidInput when they cannot be read."""
    doc = load_document(text, file)
    problems: list[Problem] = []

    def string_at(*path: str, required: bool = False) -> str | None:
        node = doc.node(path)
        if node is None:
            if required:
                problems.append(Problem(file, 0, 0, ".".join(path), "is required"))
            return None
        value = get_in(doc.data, path)
        if not isinstance(value, str):
            problems.append(doc.problem(path, "must be a string"))
            return None
        return value

    name = string_at("metadata", "name", required=True)
    active = string_at("spec", "active", required=True)
    versions = {color: string_at("spec", color, "version") for color in COLORS}
    mode = string_at("spec", "promotion", "mode") or "manual"
    if active is not None and active not in COLORS:
        problems.append(doc.problem(("spec", "active"), 'must be "blue" or "green"'))
    if problems:
        raise InvalidInput(problems)
    return State(doc, name or "", active, versions, mode)




# --- the commands ---------------------------------------------------------------------------


def release(source: Source, version: str | None) -> Outcome:
    """Release `version` (default: the active color's, i.e. the current base with the same
    image) to the idle color, pinned from the current base; with mode auto, also promote it.

    The first release into a file without versions goes to the active color. A release the
    idle color already holds changes nothing; one that production already runs is refused,
    since both colors would then be the same and the rollback target lost.
    """
    state = source.state()
    if not any(state.versions.values()):
        return _first_release(source, state, version)
    app, plan = source.current()
    active, idle = state.active, state.idle
    given, version = version is not None, version or plan.colors[active].version
    entry = _pin(app, plan, idle, version)
    held = plan.pins.colors.get(idle)
    if held is not None and held.digest == entry.digest and state.versions[idle] == version:
        return Outcome(None, None, f"{state.name}: {version} built from the current base is already on {idle} "
                                   f"(idle); nothing to release (`bgrender promote` sends production to it)")
    if version == plan.colors[active].version and _pin(app, plan, active, version).digest == plan.pins.colors[
            active].digest:
        raise state.refusal(active, f"{version} built from the current base already serves production on {active}; "
                                    "releasing it again would put one release on both colors and lose the rollback "
                                    "target")
    lock = plan.pins.replace(colors={**plan.pins.colors, idle: entry})
    edits = [_set_version(idle, version)] if state.versions[idle] != version else []
    what = version if given and edits else f"{version} with the current base"
    if state.mode == "auto":
        edits.append(_set_active(idle))
        lock = promoted(lock, active, idle)
        summary = f"release {state.name} {what} to {idle} and promote it ({state.describe(active)} becomes idle)"
    else:
        summary = f"release {state.name} {what} to {idle} (production stays on {active})"
    return _outcome(source, state, edits, lock, summary)


def _first_release(source: Source, state: State, version: str | None) -> Outcome:
    active = state.active
    if version is None:
        raise state.refusal(active, "no color has a version yet: name the first one (bgrender release VERSION)")
    edits = [_set_version(active, version)]
    plan = plan_of(source.load(AppTexts(_edited(state.doc, edits), None)))
    summary = f"release {state.name} {version} to {active} (first release; {active} serves production)"
    return _outcome(source, state, edits, plan.pins, summary)


def promote(source: Source) -> Outcome:
    """Send production to the idle color: the new release goes live. No pod template changes."""
    state, (_, plan) = source.state(), source.current()
    _require_version(state, "promote")
    lock = promoted(plan.pins, state.active, state.idle)
    summary = f"promote {state.name} {state.describe(state.idle)} to production ({state.describe(state.active)} " \
              "becomes idle)"
    return _outcome(source, state, [_set_active(state.idle)], lock, summary)


def rollback(source: Source) -> Outcome:
    """Send production back to the release that served it before, which the idle color must
    still hold, digest for digest; refuse otherwise (a second rollback too)."""
    state, (_, plan) = source.state(), source.current()
    _require_version(state, "roll back to")
    pins, active, idle = plan.pins, state.active, state.idle
    if not plan.locked or pins.previous is None:
        raise state.refusal(idle, f"{LOCK_FILE} records no earlier production release to return to (a rollback "
                                  "goes back one release, to what served before the last `bgrender promote`); to "
                                  f"send production to {state.describe(idle)} anyway, run `bgrender promote`")
    if pins.current is None or pins.current.digest != pins.colors[active].digest:
        raise state.refusal(active, f"the production history in {LOCK_FILE} does not match spec.active ({active}); "
                                    "was active changed by hand? `bgrender lock` records what serves production now")
    if pins.colors[idle].digest != pins.previous.digest:
        before = pins.previous
        raise state.refusal(idle, f"{idle} no longer holds the release that served production before ({before.version}"
                                  f" on {before.color}); rolling back would put an untested build on production; "
                                  f"`bgrender release {before.version}` brings that version back through blue/green, "
                                  "built from the current base")
    lock = pins.replace(current=pins.previous, previous=None)  # so a second rollback is refused
    summary = f"roll back {state.name} to {state.describe(idle)} ({state.describe(active)} becomes idle)"
    return _outcome(source, state, [_set_active(idle)], lock, summary)


def lock(source: Source) -> Outcome:
    """Pin the colors as they render now: each deployed color keeps an entry that still
    matches bluegreen.yaml and is intact; one that does not (no lock yet, a hand-edited
    version, a hand-edited entry) is pinned from the current base."""
    state = source.state()
    app = source.load(source.texts)
    fresh = plan_of(app.replace(lock=None))  # every deployed color pinned from the base now
    old = app.lock.lock if app.lock else Lock({})
    colors, pinned = {}, []
    for color, color_plan in fresh.colors.items():
        kept = old.colors.get(color)
        if kept and kept.version == color_plan.version and kept.intact():
            if kept.selector != color_plan.entry.selector:
                raise state.refusal(color, f"the selector pinned for {color} differs from the one bluegreen.yaml and "
                                           "the base now give; a Deployment's selector cannot change: undo the change "
                                           "to the selector labels or spec.labels.color")
            colors[color] = kept
        else:
            colors[color] = color_plan.entry
            pinned.append(f"{color} {color_plan.version}")
    new = recorded(old.replace(colors=colors), state.active)
    if app.lock is not None and new == old:
        return Outcome(None, None, f"{state.name}: {LOCK_FILE} already pins what bluegreen.yaml says; nothing to do")
    what = f"pin {' and '.join(pinned)} from the current base" if pinned else "record what serves production"
    return _outcome(source, state, [], new, f"lock {state.name}: {what}")


# --- shared steps ---------------------------------------------------------------------------


def _pin(app: App, plan: Plan, color: Color, version: str) -> Entry:
    entry, problems = app.pin(plan.namespace, color, version)
    if problems:
        raise InvalidInput(problems)
    assert entry is not None
    return entry


def _require_version(state: State, verb: str) -> None:
    if not state.versions[state.idle]:
        raise state.refusal(state.idle, f"cannot {verb} {state.idle}: it has no version (release one first: "
                                        "bgrender release VERSION)")


def _set_version(color: Color, version: str) -> Edit:
    # A new color block goes next to its sibling: blue right after `active`, green after blue.
    return Edit(("spec", color, "version"), version, ("blue", "active") if color == "green" else ("active",))


def _set_active(color: Color) -> Edit:
    return Edit(("spec", "active"), color)


def _edited(doc: Document, edits: list[Edit]) -> str:
    """The text after `edits`, each touching only its own lines (the text is parsed again
    between edits, since an edit moves every position after it)."""
    text = doc.text
    for n, step in enumerate(edits):
        if n:
            doc = load_document(text, doc.file)
        text = set_scalar(doc, step.path, step.value, step.after)
    return text


def _outcome(source: Source, state: State, edits: list[Edit], lock: Lock, summary: str) -> Outcome:
    """The new texts, rendered by the core before anyone writes them."""
    intent = _edited(state.doc, edits)
    deployed = {c for c in COLORS if state.versions[c]} | {e.path[1] for e in edits if e.path[-1] == "version"}
    lock_text = dump_lock(lock.replace(colors={c: e for c, e in lock.colors.items() if c in deployed}))
    try:
        dump_output(render(plan_of(source.load(AppTexts(intent, lock_text)))), "yaml", source.file)
    except InvalidInput as err:
        raise EditWouldBeInvalid(err, source.file) from err
    return Outcome(intent if intent != source.texts.intent else None,
                   lock_text if lock_text != source.texts.lock else None, summary)
