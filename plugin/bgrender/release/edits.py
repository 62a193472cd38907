"""release, promote, rollback and lock: what each changes in bluegreen.yaml and its lock, and
what each refuses (DESIGN §6, §9).

A pure use case: the texts of the two files and a loader (which reads the base Deployment
through the core) in; the new texts and a one-line commit message out, or a refusal
(RefusedEdit) or the problems of the files (InvalidInput). bluegreen.yaml is parsed once: what
decides a command (name, active color, versions, mode) is read from the validated Intent, and
edits and refusals take their positions from the same Document. A file without any version
does not validate yet; a first release tells it by the validation's problems. The text is
parsed again after each edit (the next edit needs its positions, the result is validated),
and both new texts are rendered by the core before they are returned, so what a command would
write always renders. `cli/release.py` parses the command line, holds the edit lock and
writes the files.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.app.pipeline import App, AppTexts, plan_of
from bgrender.colors import COLORS, Color, other
from bgrender.errors import InvalidInput, Problem, RefusedEdit
from bgrender.intent.env import BGRENDER_IMAGE_VAR, NAMESPACE_VAR, SIDECAR_IMAGE
from bgrender.lock.changes import brought_back
from bgrender.lock.lockfile import (
    LOCK_FILE,
    Entry,
    Lock,
    Release,
    after_rollback,
    describe,
    dump_lock,
    promoted,
    recorded,
)
from bgrender.record import Record
from bgrender.release.diff import Side, production_diff
from bgrender.render.render import render
from bgrender.yamlfile.document import Document, get_in, load_document
from bgrender.yamlfile.dump import dump_output
from bgrender.yamlfile.edit import remove_entry, set_scalar

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Protocol

    from bgrender.intent.intent import Intent
    from bgrender.plan.plan import Plan

    class Load(Protocol):
        """Parse and check an app from its texts (pipeline.load_app, bound to the app's path and
        environment); `intent_doc` is texts.intent when the caller has parsed it already."""

        def __call__(self, texts: AppTexts, intent_doc: Document | None = None) -> App: ...

# The files are validated as they would render with no build environment but the sidecar's
# own image: whether an edit is allowed must not depend on the variables of the machine that runs it.
VALIDATION_ENV: dict[str, str] = {BGRENDER_IMAGE_VAR: SIDECAR_IMAGE}


def edit_env(environ: Mapping[str, str]) -> dict[str, str]:
    """VALIDATION_ENV, and $ARGOCD_APP_NAMESPACE when it is set: the render honours it, and a
    release pins pod templates expanded with it ({{ namespace }}), so an edit must read it too."""
    namespace = environ.get(NAMESPACE_VAR)
    return {**VALIDATION_ENV, NAMESPACE_VAR: namespace} if namespace is not None else VALIDATION_ENV


class Source(Record):
    """An app's files as read, and how to load texts of them: the use case's only way to
    the base Deployment (pipeline.load_app bound to the app's path and environment)."""

    file: str  # bluegreen.yaml as messages name it
    texts: AppTexts
    load: Load

    def document(self) -> Document:
        """bluegreen.yaml parsed: the one parse of the file as it is."""
        return load_document(self.texts.intent, self.file)

    def open(self, doc: Document | None = None) -> State:
        """The app as its files are now, checked (InvalidInput otherwise)."""
        doc = self.document() if doc is None else doc
        return State(doc, self.load(self.texts, doc))


class State(Record):
    """An app as a command finds it: bluegreen.yaml's Document (where edits go and refusals
    point) and the app loaded from it, whose validated Intent says what decides a command."""

    doc: Document
    app: App

    @property
    def intent(self) -> Intent:
        return self.app.intent

    @property
    def name(self) -> str:
        return self.intent.name

    @property
    def active(self) -> Color:
        return self.intent.active

    @property
    def idle(self) -> Color:
        return other(self.active)

    def plan(self) -> Plan:
        """The app's plan, which must render: a command starts from a valid state."""
        plan = plan_of(self.app)
        render(plan)
        return plan

    def history(self, plan: Plan) -> Lock:
        """The lock's production history as it is: a hand edit of spec.active back to the
        release that served before (a break-glass, which renders) is recorded as a promotion."""
        return recorded(plan.pins, self.active)

    @property
    def sealed(self) -> bool:
        """Whether the lock's history carries a digest that matches it (see LockFile.sealed)."""
        return self.app.lock is not None and self.app.lock.sealed

    def refusal(self, color: Color, message: str) -> RefusedEdit:
        return _refusal(self.doc, color, message)

    def describe(self, color: Color) -> str:
        version = self.intent.versions[color]
        return f"{color} {version}" if version else color


class Edit(Record):
    """Set the string or integer at `path`; if the key is missing, insert it after the first of
    `after`. None: remove the entry at `path`."""

    path: tuple[str, ...]
    value: str | int | None
    after: tuple[str, ...] = ()


class Outcome(Record):
    """What a command writes (None: that file stays as it is), the line that says what it did,
    and the app it started from as it renders (a first release: as it will be, since the file
    did not validate before), which `release --check-live` compares with the cluster."""

    intent: str | None
    lock: str | None
    summary: str
    app: App | None = None
    compared: tuple[Side, Side] | None = None  # what production runs now, and what it would run next
    notes: tuple[str, ...] = ()  # what a reviewer must know besides (a change that was rolled back returns)

    def diff(self) -> str:
        """`compared` as release/diff.py shows it, with the notes (for a dry run: the diff costs
        difflib, which an edit that is written never needs)."""
        return "" if self.compared is None else production_diff(*self.compared, notes=self.notes)

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


# --- the commands ---------------------------------------------------------------------------


def release(source: Source, version: str | None, replace: bool = False) -> Outcome:
    """Release `version` (default: the active color's, i.e. the current base with the same
    image) to the idle color, pinned from the current base; with mode auto, also promote it.

    The first release into a file without versions goes to the active color. A release the
    idle color already holds changes nothing; one that production already runs is refused,
    since both colors would then be the same and the rollback target lost; one over a pending
    release (never promoted) is refused unless `replace`.
    """
    doc = source.document()
    try:
        state = source.open(doc)
    except InvalidInput as err:
        return _first_release(source, doc, err, version)
    app, plan = state.app, state.plan()
    active, idle, versions, pins = state.active, state.idle, state.intent.versions, state.history(plan)
    if state.intent.traffic:
        raise share_refusal(state, "a release to it would replace a color serving users")
    given, version = version is not None, version or plan.colors[active].version
    entry = _pin(app, plan, idle, version)
    held = pins.colors.get(idle)
    if held is not None and held.digest == entry.digest and versions[idle] == version:
        return Outcome(None, None, f"{state.name}: {version} built from the current base is already on {idle} "
                                   f"(idle); nothing to release (`bgrender promote` sends production to it)")
    if version == plan.colors[active].version and _pin(app, plan, active, version).digest == pins.colors[
            active].digest:
        raise state.refusal(active, f"{version} built from the current base already serves production on {active}; "
                                    "releasing it again would put one release on both colors and lose the rollback "
                                    "target")
    if pins.pending_on(idle) and not replace:
        assert held is not None
        raise state.refusal(idle, f"{idle} holds {held.version}, released and never promoted: a pending release; "
                                  "this release would replace it untested: `bgrender promote` sends production to "
                                  "it, `bgrender release --replace` replaces it")
    lock = pins.replace(colors={**pins.colors, idle: entry}, pending=Release(idle, version, entry.digest))
    edits = [_set_version(idle, version)] if versions[idle] != version else []
    what = version if given and edits else f"{version} with the current base"
    if state.intent.mode == "auto":
        edits.append(_set_active(idle))
        lock = promoted(lock, active, idle)
        summary = f"release {state.name} {what} to {idle} and promote it ({state.describe(active)} becomes idle)"
    else:
        summary = f"release {state.name} {what} to {idle} (production stays on {active})"
    notes = _returning(pins, active, held, entry)
    compared = (Side(active, pins.colors[active]), Side(idle, entry))
    return _outcome(source, state, edits, lock, summary).replace(compared=compared, notes=notes)


def _returning(pins: Lock, active: Color, held: Entry | None, candidate: Entry) -> tuple[str, ...]:
    """A note when the candidate brings back what production was rolled back from (while the
    idle color still holds that release, the lock can tell what it changed)."""
    undone = pins.rolled_back
    if undone is None or held is None or held.digest != undone.digest:
        return ()
    back = brought_back(pins.colors[active], held, candidate)
    if not back:
        return ()
    return (f"this release brings back changes production was rolled back from ({describe(undone)}): "
            f"{back.summary()}",)


def _first_release(source: Source, doc: Document, err: InvalidInput, version: str | None) -> Outcome:
    """A file that does not validate only because no color has a version yet gets its first
    release, on the active color; any other file's problems are raised."""
    active = _unreleased(doc, err)
    if version is None:
        raise _refusal(doc, active, "no color has a version yet: name the first one (bgrender release VERSION)")
    if remaining := [p for p in err.problems if p.path not in ("spec.active", f"spec.{active}.version")]:
        raise InvalidInput(remaining) from err
    text = _edited(doc, [_set_version(active, version)])
    released = Source(source.file, AppTexts(text, None), source.load).open()
    summary = f"release {released.name} {version} to {active} (first release; {active} serves production)"
    pins = plan_of(released.app).pins
    compared = (Side(active, None), Side(active, pins.colors[active]))
    return _outcome(source, released, [], pins, summary).replace(compared=compared)


def _unreleased(doc: Document, err: InvalidInput) -> Color:
    """The active color of a file whose colors have no version yet (before its first release);
    `err`, the file's problems, for any other file."""
    active = get_in(doc.data, ("spec", "active"))
    if active not in COLORS or any(get_in(doc.data, ("spec", c, "version")) not in (None, "") for c in COLORS):
        raise err
    return active


def promote(source: Source, percent: int | None = None) -> Outcome:
    """Send production to the idle color: the new release goes live, and a weighted step
    (spec.traffic) ends. With `percent`, give the idle color that share of production instead
    (DESIGN §18; 0 takes a share back). No pod template changes."""
    state = source.open()
    if percent is not None:
        return weighted_step(source, state, percent)
    plan = state.plan()
    _require_version(state, "promote")
    pins = state.history(plan)
    lock = promoted(pins, state.active, state.idle)
    summary = f"promote {state.name} {state.describe(state.idle)} to production ({state.describe(state.active)} " \
              "becomes idle)"
    compared = (Side(state.active, pins.colors[state.active]), Side(state.idle, pins.colors[state.idle]))
    return _outcome(source, state, [_set_active(state.idle), *_end_share(state)], lock, summary).replace(
        compared=compared)


# --- weighted steps (DESIGN §18) ---------------------------------------------------------------

TRAFFIC = ("spec", "traffic")


def weighted_step(source: Source, state: State, percent: int) -> Outcome:
    """Give the idle color `percent` of production (spec.traffic), or with 0 take its share
    back. The lock's pins stay as they are (a share promotes nothing, and no pod template
    changes); its history records which release holds the share, so that a release merged
    beside the step cannot take it (lockfile.share_problems)."""
    if not 0 <= percent <= 99:
        raise state.refusal(state.idle, f"a share of production is 1 to 99 percent (0 takes it back, `bgrender "
                                        f"promote` without --percent completes the switch), got {percent}")
    pins = state.history(state.plan())
    had = state.intent.traffic or 0
    if percent == had:
        now = f"{state.idle} holds {had}%" if had else f"{state.describe(state.active)} serves all"
        return Outcome(None, None, f"{state.name}: {now} of production already; nothing to do")
    if percent == 0:
        summary = f"take back {state.idle}'s {had}% of {state.name} production ({state.describe(state.active)} " \
                  "serves all of it)"
        return _outcome(source, state, _end_share(state), pins.replace(shared=None), summary)
    _require_version(state, "give a share of production to")
    if state.intent.provider == "service":
        raise _refusal_at(state, ("spec", "routing", "provider"), "routing.provider service cannot split production "
                          "traffic (the app's Service selects one color): a weighted step needs istio or gateway-api")
    if state.intent.idle_replicas == 0:
        raise _refusal_at(state, ("spec", "idleReplicas"), f"is 0: {state.idle} runs no pods to take a share of "
                          "production; remove idleReplicas: 0 (a color holding a share runs the active color's "
                          "replicas)")
    summary = f"step {state.name} {state.describe(state.idle)} to {percent}% of production " \
              f"({state.describe(state.active)} serves {100 - percent}%)"
    compared = (Side(state.active, pins.colors[state.active]), Side(state.idle, pins.colors[state.idle]))
    edit = Edit(TRAFFIC + ("percent",), percent, ("green", "blue", "active"))
    lock = pins.replace(shared=pins.release(state.idle))  # what the share is for: a merge cannot move it
    return _outcome(source, state, [edit], lock, summary).replace(compared=compared)


def _end_share(state: State) -> list[Edit]:
    return [Edit(TRAFFIC, None)] if state.intent.traffic else []


def rollback(source: Source) -> Outcome:
    """Send production back to the release that served it before, which the idle color must
    still hold, digest for digest; refuse otherwise (a second rollback too). During a weighted
    step, the active color still serves what served before: the idle color's share is taken back."""
    state = source.open()
    if state.intent.traffic:  # during a weighted step: production goes back to the active color alone
        return weighted_step(source, state, 0)
    plan = state.plan()
    _require_version(state, "roll back to")
    pins, active, idle = state.history(plan), state.active, state.idle
    if not plan.locked or pins.previous is None:
        raise state.refusal(idle, f"{LOCK_FILE} records no earlier production release to return to (a rollback "
                                  "goes back one release, to what served before the last `bgrender promote`); to "
                                  f"send production to {state.describe(idle)} anyway, run `bgrender promote`")
    if not state.sealed:
        raise state.refusal(idle, f"the production history in {LOCK_FILE} has no digest (written by an older "
                                  "bgrender), so it cannot be trusted to say what served before; `bgrender lock` "
                                  "adds it (review its diff), then roll back")
    if pins.colors[idle].digest != pins.previous.digest:
        before = pins.previous
        raise state.refusal(idle, f"{idle} no longer holds the release that served production before ({before.version}"
                                  f" on {before.color}); rolling back would put an untested build on production; "
                                  f"`bgrender release {before.version}` brings that version back through blue/green, "
                                  "built from the current base")
    lock = after_rollback(pins, active, idle)  # no earlier release: a second rollback is refused
    summary = f"roll back {state.name} to {state.describe(idle)} ({state.describe(active)} becomes idle)"
    compared = (Side(active, pins.colors[active]), Side(idle, pins.colors[idle]))
    return _outcome(source, state, [_set_active(idle)], lock, summary).replace(compared=compared)


def lock(source: Source) -> Outcome:
    """Pin the colors as they render now: each deployed color keeps an entry that still
    matches bluegreen.yaml and is intact; one that does not (no lock yet, a hand-edited
    version, a hand-edited entry) is pinned from the current base."""
    state = source.open()  # not rendered: a lock that no longer matches is what this command mends
    app = state.app
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
    if not new.pending_on(state.idle):  # a pending release re-pinned here is no longer the one released
        new = new.replace(pending=None)
    # A share (spec.traffic) goes to the release the idle color holds now: a hand edit accepted.
    new = new.replace(shared=new.release(state.idle) if state.intent.traffic and state.idle in new.colors else None)
    if app.lock is not None and new == old and app.lock.sealed:
        return Outcome(None, None, f"{state.name}: {LOCK_FILE} already pins what bluegreen.yaml says; nothing to do")
    what = f"pin {' and '.join(pinned)} from the current base" if pinned else "record what serves production"
    return _outcome(source, state, [], new, f"lock {state.name}: {what}")


def diff(source: Source) -> str:
    """What production would run after `bgrender promote` beside what it runs now; with no lock
    yet, or no release on the idle color, says so."""
    state = source.open()
    plan = state.plan()
    if not plan.locked:
        return (f"{state.name}: no {LOCK_FILE} yet, so no release is pinned to compare; `bgrender lock` pins what "
                "the colors run now\n")
    pins, active, idle = state.history(plan), state.active, state.idle
    if idle not in pins.colors:
        return f"{state.name}: {idle} holds no release; production runs {state.describe(active)}, and nothing waits\n"
    notes = _returning(pins, active, None, pins.colors[idle])
    return production_diff(Side(active, pins.colors[active]), Side(idle, pins.colors[idle]), notes=notes)


# --- shared steps ---------------------------------------------------------------------------


def _pin(app: App, plan: Plan, color: Color, version: str) -> Entry:
    entry, problems = app.pin(plan.namespace, color, version)
    if problems:
        raise InvalidInput(problems)
    assert entry is not None
    return entry


def share_refusal(state: State, why: str) -> RefusedEdit:
    """A refusal while spec.traffic gives the idle color a share of production, at that field."""
    message = (f"{state.idle} holds {state.intent.traffic}% of production (a weighted step): {why}; `bgrender "
               "promote` completes the switch, `bgrender rollback` takes the share back")
    return _refusal_at(state, TRAFFIC, message, key=True)


def _refusal_at(state: State, path: tuple[str, ...], message: str, key: bool = False) -> RefusedEdit:
    where = path if state.doc.node(path) is not None else ("spec",)
    line, column = state.doc.position(where, key=key)
    return RefusedEdit(str(Problem(state.doc.file, line, column, ".".join(path), message)))


def _refusal(doc: Document, color: Color, message: str) -> RefusedEdit:
    """A refusal naming the color's version, at its line, else its block's, else `active`'s."""
    where = next((p for p in (("spec", color, "version"), ("spec", color), ("spec", "active"))
                  if doc.node(p) is not None), ("spec",))
    line, column = doc.position(where)
    return RefusedEdit(str(Problem(doc.file, line, column, f"spec.{color}.version", message)))


def _require_version(state: State, verb: str) -> None:
    if not state.intent.versions[state.idle]:
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
        text = remove_entry(doc, step.path) if step.value is None else set_scalar(doc, step.path, step.value,
                                                                                  step.after)
    return text


def _outcome(source: Source, state: State, edits: list[Edit], lock: Lock, summary: str) -> Outcome:
    """The new texts, rendered by the core before anyone writes them."""
    intent = _edited(state.doc, edits)
    deployed = {c for c in COLORS if state.intent.versions[c]} | {e.path[1] for e in edits if e.path[-1] == "version"}
    lock_text = dump_lock(lock.replace(colors={c: e for c, e in lock.colors.items() if c in deployed}))
    try:
        doc = load_document(intent, source.file) if edits else state.doc  # unedited: parsed already
        dump_output(render(plan_of(source.load(AppTexts(intent, lock_text), doc))), "yaml", source.file)
    except InvalidInput as err:
        raise EditWouldBeInvalid(err, source.file) from err
    return Outcome(intent if intent != source.texts.intent else None,
                   lock_text if lock_text != source.texts.lock else None, summary, state.app)
