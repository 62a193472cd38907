"""The pipeline in one place: find → load → validate → resolve → render.

Callers (the CLI, the edit commands, tests) use these functions and never the stages
directly, so every path applies the same checks in the same order. The app's files are read
here, through app/files.py and app/reading.py; an edit command that has new texts in hand passes them as AppTexts.
"""

from __future__ import annotations

import os

from bgrender import TYPE_CHECKING
from bgrender.app.files import MAX_FILE_BYTES, decode_text, read_app_bytes
from bgrender.app.reading import read_base, read_companions
from bgrender.app.repository import Boundary, repository
from bgrender.colors import other
from bgrender.errors import InvalidInput, Problem, escape, quote
from bgrender.intent.base_deployment import Base, check_base
from bgrender.intent.env import Options, options_from_env
from bgrender.intent.intent import Intent, parse_intent
from bgrender.intent.resources import Companions
from bgrender.lock.lockfile import LOCK_FILE, Entry, LockFile, describe, disagrees, is_lock_name, lock_name, read_lock
from bgrender.plan.plan import Plan, resolve
from bgrender.plan.pod_template import pin_color
from bgrender.record import Record
from bgrender.render.render import render
from bgrender.yamlfile.document import Document, load_document

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path
    from typing import Any

    from bgrender.colors import Color

    PathLike = str | os.PathLike[str]

INTENT_FILE = "bluegreen.yaml"


class AppTexts(Record):
    """The texts of bluegreen.yaml and its lock (None: no lock), when a caller has them in hand."""

    intent: str
    lock: str | None


class App(Record):
    """An app loaded and checked, before resolving: what every command starts from."""

    intent: Intent
    intent_doc: Document
    base: Base
    lock: LockFile | None
    options: Options
    companions: Companions  # spec.configMaps and spec.resources, read

    def pin(self, namespace: str | None, color: Color, version: str) -> tuple[Entry | None, list[Problem]]:
        """The entry `color` would get if `version` were released to it from the current files."""
        return pin_color(self.intent, self.base, self.companions.config_maps, namespace, color, version,
                         self.companions.versioned)


def intent_file(path: PathLike) -> str:
    """An app directory → its bluegreen.yaml; a file → itself."""
    path = os.fspath(path) or "."
    return os.path.join(path, INTENT_FILE) if os.path.isdir(path) else path


def find_intent(path: PathLike) -> Path:
    """intent_file as a Path, for callers that want one (pathlib is not on the render path)."""
    from pathlib import Path

    return Path(intent_file(path))


def lock_file(intent_path: PathLike) -> str:
    """Where the lock of the app whose intent is at `intent_path` lives: beside it."""
    intent_path = os.fspath(intent_path)
    return os.path.join(os.path.dirname(intent_path), lock_name(os.path.basename(intent_path)))


def read_texts(intent_path: PathLike, within: Boundary | None = None) -> AppTexts:
    """bluegreen.yaml and, if there is one, its lock, read with the core's checks."""
    return decode_texts(intent_path, *read_files(intent_path, within))


def boundary(intent_path: PathLike, env: Mapping[str, str] | None = None) -> Boundary:
    """What the app's files may resolve to (app/repository.py); `env` tells whether Argo CD runs it."""
    return repository(os.path.dirname(os.fspath(intent_path)) or ".", env)


def read_files(intent_path: PathLike, within: Boundary | None = None) -> tuple[bytes, bytes | None]:
    """The bytes of bluegreen.yaml and, if there is one, of its lock (an edit writes bytes back);
    both confined to `within` (default: the app's repository, found locally)."""
    intent_path = os.fspath(intent_path)
    app_dir = os.path.dirname(intent_path) or "."
    if is_lock_name(os.path.basename(intent_path)):
        raise InvalidInput([Problem(_shown(intent_path), 0, 0, "", "is named like a lock (*.lock.yaml): an intent "
                                    "file's lock is written beside it under that name, so give it another")])
    within = within or boundary(intent_path)
    intent = read_app_bytes(app_dir, os.path.basename(intent_path), _shown(intent_path), within=within)
    assert intent is not None
    lock_path = lock_file(intent_path)
    return intent, read_app_bytes(app_dir, os.path.basename(lock_path), _shown(lock_path), missing_ok=True,
                                  within=within)


def decode_texts(intent_path: PathLike, intent: bytes, lock: bytes | None) -> AppTexts:
    intent_path = os.fspath(intent_path)
    return AppTexts(decode_text(intent, _shown(intent_path)),
                    None if lock is None else decode_text(lock, _shown(lock_file(intent_path))))


def find_apps(path: PathLike) -> tuple[list[str], list[Problem]]:
    """The intent files PATH stands for, and a problem for each directory that could not be
    searched (an app there would go unchecked) or holds no app at all.

    A file: that app (a missing path is left for the reader to report). A directory: its own
    bluegreen.yaml if it has one, and every one below it, in sorted order, so an app nested
    below another (apps/api/canary below apps/api) is never skipped.
    Hidden directories (.git, .github, ...) are skipped, and so are symlinked directories: a link
    can lead out of the tree, back up into it (a walk without end), or to an app already found
    under its own name. Apps are checked where they live, once.
    """
    path = os.fspath(path) or "."
    if not os.path.isdir(path):
        return [intent_file(path)], []
    found: list[str] = []
    unreadable: list[OSError] = []
    for directory, subdirectories, files in os.walk(path, onerror=unreadable.append):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        if INTENT_FILE in files:
            found.append(os.path.join(directory, INTENT_FILE))
    problems = [Problem(os.path.normpath(err.filename or path), 0, 0, "",
                        f"cannot be searched for apps: {err.strerror or err}") for err in unreadable]
    if not found:
        problems.append(Problem(os.path.normpath(path), 0, 0, "", f"no {INTENT_FILE} in this directory or below it "
                                "(hidden and symlinked directories are not searched)"))
    return found, problems


def load_intent(intent_path: PathLike, *, text: str | None = None) -> Intent:
    intent_path = os.fspath(intent_path)
    text = read_texts(intent_path).intent if text is None else text
    return parse_intent(load_document(text, _shown(intent_path)))


def load_app(intent_path: PathLike, env: Mapping[str, str], texts: AppTexts | None = None,
             intent_doc: Document | None = None) -> App:
    """Read (unless `texts` are given), parse and check an app: its intent, base and lock.
    An edit command that has parsed texts.intent already passes it as `intent_doc`."""
    intent_path = os.fspath(intent_path)
    options, env_error = _options(env)
    within = boundary(intent_path, env)
    texts = read_texts(intent_path, within) if texts is None else texts
    try:
        intent_doc = load_document(texts.intent, _shown(intent_path)) if intent_doc is None else intent_doc
        intent = parse_intent(intent_doc)
    except InvalidInput as err:  # report the environment's problems along with the file's
        raise InvalidInput(err.problems + (env_error.problems if env_error else [])) from err
    if env_error:
        raise env_error
    assert options is not None
    app_dir = os.path.dirname(intent_path) or "."
    base = check_base(intent, intent_doc, read_base(intent, intent_doc, app_dir, within))
    companions = read_companions(intent, intent_doc, base, app_dir, within)
    lock = None if texts.lock is None else read_lock(_lock_document(texts.lock, _shown(lock_file(intent_path))))
    return App(intent, intent_doc, base, lock, options, companions)


def _lock_document(text: str, shown: str) -> Document:
    """The lock, held to the size limit of a file read from disk also when an edit command hands
    its new text in: a lock that could not be read back must not be written (ConfigMaps pinned
    for two colors can make it large)."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise InvalidInput([Problem(shown, 0, 0, "", f"would be {size // 1024} KiB, larger than the "
                                    f"{MAX_FILE_BYTES // 1024} KiB bgrender reads; keep large data out of "
                                    "spec.configMaps (the lock pins each color's config)")])
    return load_document(text, shown)


def plan_of(app: App) -> Plan:
    return resolve(app.intent, app.intent_doc, app.base, app.options, app.lock, app.companions)


def plan_app(intent_path: PathLike, env: Mapping[str, str], texts: AppTexts | None = None) -> Plan:
    return plan_of(load_app(intent_path, env, texts))


def render_app(intent_path: PathLike, env: Mapping[str, str], texts: AppTexts | None = None) -> list[dict[str, Any]]:
    return render(plan_app(intent_path, env, texts))




def unreleased_base_changes(app: App, plan: Plan) -> bool:
    """Whether the base holds changes that no color runs yet, i.e. that the next
    `bgrender release` would bring: no deployed color's entry is what the base gives it now."""
    if not plan.locked or not plan.colors:
        return False
    for color, color_plan in plan.colors.items():
        fresh, _ = app.pin(plan.namespace, color, color_plan.version)
        if fresh is not None and fresh.digest == color_plan.entry.digest:
            return False
    return True


def history_notes(app: App, plan: Plan) -> list[str]:
    """What `validate` says about the lock's production history (DESIGN §15): a break-glass
    hand edit of spec.active the history does not record yet, and a base that still holds the
    change production was rolled back from (while the idle color holds that release)."""
    if not plan.locked:
        return []
    from bgrender.lock.changes import brought_back  # validate's, not the render's

    pins, active = plan.pins, plan.active
    notes = []
    if disagrees(pins, active) and pins.current is not None:
        notes.append(f"spec.active was moved by hand back to the release that served before; the history in "
                     f"{LOCK_FILE} disagrees (it records {describe(pins.current)} as serving): the next bgrender "
                     "edit records it as a promotion")
    held, undone = pins.colors.get(other(active)), pins.rolled_back
    if undone is not None and held is not None and held.digest == undone.digest:
        fresh, _ = app.pin(plan.namespace, other(active), plan.colors[active].version)
        back = brought_back(pins.colors[active], held, fresh) if fresh is not None else None
        if back:
            notes.append(f"the base still holds changes production was rolled back from ({describe(undone)}): "
                         f"{back.summary()}")
    return notes


def version_notes(app: App, plan: Plan) -> list[str]:
    """What `validate` says of a version of a versioned resource that no color runs and no
    release would pin (not the last of its name): its document may be removed."""
    running = {v.hashed_name for v in plan.versions}
    return [f"no color runs the version {quote(v.hashed_name)} of the {v.kind} {quote(v.name)} ({escape(v.at.file)}:"
            f"{v.resource.doc.position(('metadata', 'name'))[0]}); its document may be removed from spec.resources"
            for v in app.companions.versioned if not v.current and v.hashed_name not in running]


def config_warnings(app: App, plan: Plan) -> list[Problem]:
    """What `validate` warns about (DESIGN §19): each ConfigMap or Secret a pod template refers
    to that bgrender does not version, in the base (as the next release would pin it) and in
    each color's pinned entry; a change to one reaches both colors at once."""
    from bgrender.intent.config_refs import unversioned  # validate's, not the render's

    templates = []
    for color, color_plan in plan.colors.items():
        fresh, _ = app.pin(plan.namespace, color, color_plan.version)
        if fresh is not None:
            templates.append((fresh.template, _in(app.base.doc, ("spec", "template")), _versioned(fresh)))
    if app.lock is not None:
        templates += [(entry.template, _in(app.lock.doc, ("colors", color, "template")), _versioned(entry))
                      for color, entry in sorted(plan.pins.colors.items()) if color in plan.colors]
    return unversioned(templates)


def _in(doc: Document, at: tuple[str, ...]) -> Callable[[tuple[str | int, ...], str], Problem]:
    return lambda path, message: doc.problem(at + path, message)


def _versioned(entry: Entry) -> frozenset[str]:
    return frozenset((*entry.config_maps, *entry.versioned))


def _shown(path: str) -> str:
    return os.path.normpath(path)


def _options(env: Mapping[str, str]) -> tuple[Options | None, InvalidInput | None]:
    try:
        return options_from_env(env), None
    except InvalidInput as err:
        return None, err
