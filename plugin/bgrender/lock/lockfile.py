"""bluegreen.lock.yaml: what each color runs, pinned when it is released (DESIGN §9).

A color is an immutable release. plan/pod_template.py builds a color's pod template from the
current base when bgrender releases it, and pins the ConfigMaps it refers to with it; the
render afterwards takes both from the lock, so an edit of the base or of the config reaches a color only
through the next release and production only through promotion. The lock also keeps the production
history that rollback needs: the release serving now and the one before it.

Both directions of the file live here: writing entries and history, and reading them back
(render), with the checks that make a render fail closed when the lock and bluegreen.yaml
disagree.
Pure: texts and values in, values and texts out; `files.py` reads and writes the file.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.colors import COLORS, Color
from bgrender.digest import canonical_json, sha256_hex
from bgrender.errors import InvalidInput, Problem, quote, quote_labels
from bgrender.intent import spec
from bgrender.intent.base_deployment import labels_problems, order_problems, template_problems
from bgrender.intent.configmaps import name_matches_data
from bgrender.intent.intent import Intent
from bgrender.intent.versioned import name_matches_digest
from bgrender.labels import VERSION_ANNOTATION
from bgrender.record import Record
from bgrender.yamlfile.document import Document, Path

if TYPE_CHECKING:
    from typing import Any

LOCK_FILE = "bluegreen.lock.yaml"


def lock_name(intent_name: str) -> str:
    """The lock of the intent file `intent_name`, beside it: bluegreen.yaml's is LOCK_FILE, and
    each other intent file in a directory has its own (api.yaml: api.lock.yaml, api.yml:
    api.lock.yml), so that releasing one app never rewrites another's pins. (An intent file
    may not have a lock's name: pipeline.read_files refuses it.)"""
    stem, dot, extension = intent_name.rpartition(".")
    return f"{stem}.lock.{extension}" if dot and extension in ("yaml", "yml") else f"{intent_name}.lock"


def is_lock_name(name: str) -> bool:
    return name.endswith((".lock.yaml", ".lock.yml", ".lock"))
KIND = "BlueGreenLock"
HEADER = """\
# Written by bgrender (release, promote, rollback, lock): do not edit by hand.
# Each color renders from its entry below, so a change to the base Deployment reaches a color
# only through `bgrender release`. Commit it with bluegreen.yaml and review its diff: it shows
# what the released color will run.
"""


# What `validate` and `status` say when the base holds changes no color runs yet (app.pipeline.unreleased_base_changes).
UNRELEASED = ("the base or its config holds changes no color runs yet (released by the next `bgrender release`, "
              "to production only by promotion)")


class Entry(Record):
    """What one color runs: its version, its Deployment selector, its whole pod template and
    the ConfigMaps that template refers to."""

    version: str
    selector: dict[str, str]  # spec.selector.matchLabels
    template: dict[str, Any]  # spec.template, as rendered at release
    digest: str  # of the fields above and below, as written in the lock
    config_maps: dict[str, dict[str, str]] = {}  # hashed name -> data: spec.configMaps the template refers to
    # hashed name -> digest: the versioned resources the template refers to (their content never
    # enters the lock; intent/versioned.py)
    versioned: dict[str, str] = {}

    def content_digest(self) -> str:
        return digest_of(_content(self.version, self.selector, self.template, self.config_maps, self.versioned))

    def intact(self) -> bool:
        """As bgrender wrote it: the digest matches the content, each ConfigMap's name its data,
        each versioned resource's name its digest."""
        return self.content_digest() == self.digest and all(
            name_matches_data(name, data) for name, data in self.config_maps.items()) and all(
            name_matches_digest(name, digest) for name, digest in self.versioned.items())


class Release(Record):
    """A release that served production: which color, which version, which entry."""

    color: Color
    version: str
    digest: str


class Lock(Record):
    colors: dict[Color, Entry]  # only released colors
    current: Release | None = None  # serving production now
    previous: Release | None = None  # served production before it; what rollback returns to
    rolled_back: Release | None = None  # what the last rollback took production away from
    pending: Release | None = None  # released to the idle color by `release` and not promoted since
    shared: Release | None = None  # the idle release `promote --percent` gave a share of production (DESIGN §18)

    def release(self, color: Color) -> Release:
        entry = self.colors[color]
        return Release(color, entry.version, entry.digest)

    def pending_on(self, color: Color) -> bool:
        """Whether `color` holds a release `bgrender release` put there that never took production."""
        return self.pending is not None and color in self.colors and self.pending == self.release(color)


class LockFile(Record):
    """A lock as read, with the positions its problems are reported at."""

    lock: Lock
    doc: Document
    history_digest: str | None = None  # production.digest (None: written before the history had one)

    @property
    def sealed(self) -> bool:
        """Whether the history carries its digest and matches it: only such a history is
        trusted to say what served production (rollback, the pending check). A lock written
        before the history had a digest renders, and the next bgrender edit adds it."""
        return self.history_digest == digest_of(_history(self.lock))


def digest_of(content: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of `content` (keys sorted, no spaces, UTF-8): what a
    render checks for every color."""
    return "sha256:" + sha256_hex(canonical_json(content).encode("utf-8", "surrogatepass"))


def new_entry(version: str, selector: dict[str, str], template: dict[str, Any],
              config_maps: dict[str, dict[str, str]] | None = None, versioned: dict[str, str] | None = None) -> Entry:
    config_maps, versioned = config_maps or {}, versioned or {}
    return Entry(version, selector, template,
                 digest_of(_content(version, selector, template, config_maps, versioned)),
                 config_maps=config_maps, versioned=versioned)


def _content(version: str, selector: dict[str, str], template: dict[str, Any],
             config_maps: dict[str, dict[str, str]], versioned: dict[str, str]) -> dict[str, Any]:
    """What an entry's digest covers. ConfigMaps and versioned resources count only when there
    are some, so the digest of an entry without them is what it was before they existed."""
    content: dict[str, Any] = {"version": version, "selector": selector, "template": template}
    if config_maps:
        content["configMaps"] = config_maps
    if versioned:
        content["versioned"] = versioned
    return content


# --- reading a lock back --------------------------------------------------------------------


def _history(lock: Lock) -> dict[str, Any]:
    """What the history's digest covers: every release it names, by key."""
    return {key: {"color": r.color, "version": r.version, "digest": r.digest}
            for key, r in (("current", lock.current), ("previous", lock.previous), ("rolledBack", lock.rolled_back),
                           ("pending", lock.pending), ("shared", lock.shared))
            if r is not None}


def _release_spec(what: str) -> spec.Mapping:
    return spec.Mapping(what, {
        "color": spec.Scalar(str, "The color it ran on.", enum=COLORS),
        "version": spec.Scalar(str, "Its version.", pattern=spec.VERSION, hint="must be a version"),
        "digest": spec.Scalar(str, "Its entry's digest.", pattern=spec.DIGEST_PATTERN, hint="must be a sha256 digest"),
    }, required=("color", "version", "digest"))


_ENTRY = spec.Mapping("What a color runs.", {
    "version": spec.Scalar(str, "The version.", pattern=spec.VERSION, hint="must be a version"),
    "digest": spec.Scalar(str, "sha256 of the entry.", pattern=spec.DIGEST_PATTERN, hint="must be a sha256 digest"),
    "selector": spec.Mapping("The Deployment's selector.", {"matchLabels": spec.Object("Selector labels.")},
                             required=("matchLabels",)),
    "template": spec.Object("The pod template."),
    "configMaps": spec.Map("The ConfigMaps the template refers to, by hashed name.",
                           spec.dns_subdomain("A hashed name."),
                           spec.Map("Its data.", spec.Scalar(str, "A key.", pattern=spec.CONFIG_KEY, max_length=253,
                                                             hint=spec.CONFIG_KEY_HINT),
                                    spec.Scalar(str, "A value."))),
    "versioned": spec.Map("The versioned resources the template refers to: hashed name -> digest.",
                          spec.dns_subdomain("A hashed name."),
                          spec.Scalar(str, "Its digest.", pattern=spec.DIGEST_PATTERN, hint="must be a sha256 digest")),
}, required=("version", "digest", "selector", "template"))

LOCK = spec.Mapping("bluegreen.lock.yaml.", {
    "apiVersion": spec.Scalar(str, f"Always {spec.API_VERSION}.", enum=(spec.API_VERSION,)),
    "kind": spec.Scalar(str, f"Always {KIND}.", enum=(KIND,)),
    "production": spec.Mapping("The production history.", {
        "current": _release_spec("The release serving production."),
        "previous": _release_spec("The release that served production before it."),
        "rolledBack": _release_spec("The release the last rollback took production away from."),
        "pending": _release_spec("The release on the idle color that was never promoted."),
        "shared": _release_spec("The idle release a weighted step gave a share of production."),
        "digest": spec.Scalar(str, "sha256 of the history.", pattern=spec.DIGEST_PATTERN,
                              hint="must be a sha256 digest"),
    }),
    "colors": spec.Mapping("The released colors.", {"blue": _ENTRY, "green": _ENTRY}),
}, required=("apiVersion", "kind", "colors"))


def read_lock(doc: Document) -> LockFile:
    problems = spec.check(LOCK, doc.data, (), doc)
    if problems:
        raise InvalidInput(problems)
    data = doc.data
    colors = {color: _entry(data["colors"][color]) for color in COLORS if data["colors"].get(color)}
    history = data.get("production") or {}
    return LockFile(Lock(colors, _release(history.get("current")), _release(history.get("previous")),
                         _release(history.get("rolledBack")), _release(history.get("pending")),
                         _release(history.get("shared"))), doc,
                    history.get("digest"))


def _entry(raw: dict[str, Any]) -> Entry:
    return Entry(raw["version"], raw["selector"]["matchLabels"], raw["template"], raw["digest"],
                 config_maps=raw.get("configMaps") or {}, versioned=raw.get("versioned") or {})


def _release(raw: dict[str, Any] | None) -> Release | None:
    return Release(raw["color"], raw["version"], raw["digest"]) if raw else None


def pinned_entry(lock_file: LockFile, intent: Intent, intent_doc: Document, color: Color,
                 selector: dict[str, str]) -> tuple[Entry | None, list[Problem]]:
    """The entry a render takes `color` from, or why it may not: fail closed when the lock
    and bluegreen.yaml disagree, naming the command that fixes it."""
    version = intent.versions[color]
    entry = lock_file.lock.colors.get(color)
    doc, where = lock_file.doc, ("colors", color)
    if entry is None:
        return None, [intent_doc.problem(("spec", color, "version"), f"{quote(version)} has no entry in {LOCK_FILE}; "
                                         "versions change with `bgrender release`; to pin a hand edit, run "
                                         "`bgrender lock`")]
    if entry.version != version:
        return None, [intent_doc.problem(("spec", color, "version"), f"{quote(version)} differs from the version "
                                         f"{LOCK_FILE} pins for {color}, {quote(entry.version)}; versions change "
                                         "with `bgrender release`; to pin a hand edit, run `bgrender lock`")]
    if entry.content_digest() != entry.digest:
        return None, [doc.problem(where + ("digest",), f"does not match the {color} entry's content: the lock was "
                                  f"edited by hand; restore it from Git, or run `bgrender lock` to pin {color} "
                                  "again from the current base")]
    renamed = next((n for n, data in sorted(entry.config_maps.items()) if not name_matches_data(n, data)), None)
    if renamed is not None:
        return None, [doc.problem(where + ("configMaps", renamed), "the name's hash does not match the data: the lock "
                                  "was edited by hand; restore it from Git, or run `bgrender lock` to pin "
                                  f"{color} again from the current base", key=True)]
    moved = next((n for n, digest in sorted(entry.versioned.items()) if not name_matches_digest(n, digest)), None)
    if moved is not None:
        return None, [doc.problem(where + ("versioned", moved), "the name's hash does not match the digest: the lock "
                                  "was edited by hand; restore it from Git, or run `bgrender lock` to pin "
                                  f"{color} again from the current base", key=True)]
    if entry.selector != selector:
        return None, [doc.problem(where + ("selector",), f"the pinned selector {quote_labels(entry.selector)} differs "
                                  f"from the one bluegreen.yaml and the base now give, {quote_labels(selector)}; a "
                                  "Deployment's selector cannot change: undo the change to the selector labels "
                                  "or spec.labels.color")]
    problems = _template_problems(entry, doc, where + ("template",), intent, color)
    return (None, problems) if problems else (entry, [])


def _template_problems(entry: Entry, doc: Document, at: Path, intent: Intent, color: Color) -> list[Problem]:
    """The base's checks, on the pod template an entry pins: its digest proves only that the
    entry was not changed since it was made, not that bgrender made it."""
    problems = template_problems(entry.template, doc, at)
    if problems:
        return problems
    problems = labels_problems(entry.template, entry.selector, doc, at) + order_problems(
        entry.template["metadata"], doc, at + ("metadata",))
    annotations = entry.template["metadata"].get("annotations") or {}
    if annotations.get(VERSION_ANNOTATION) != entry.version:
        problems.append(doc.problem(at + ("metadata", "annotations"), f"must hold {VERSION_ANNOTATION}: "
                                    f"{quote(entry.version)}, the entry's version, as every pod template bgrender "
                                    f"pins does: restore the lock from Git, or run `bgrender lock` to pin {color} "
                                    "again from the current base"))
    return problems


# --- the production history -----------------------------------------------------------------


def production_problems(lock_file: LockFile, intent_doc: Document, active: Color) -> list[Problem]:
    """Why the history forbids rendering `active` as production (DESIGN §15): a history whose
    digest does not match it, or an active color whose entry is neither the release serving
    production nor the one before it (a hand edit back to that one is a break-glass, and
    renders). Two pull requests that are each right, a promote and a release, can merge in Git
    into a state that would roll production in place to a build that never served."""
    lock, doc = lock_file.lock, lock_file.doc
    if lock_file.history_digest is not None and not lock_file.sealed:
        return [doc.problem(("production", "digest"), "does not match the production history: the lock was edited "
                            "by hand; restore it from Git, or run `bgrender lock` to record what serves production "
                            "now")]
    if lock.current is None:
        return [doc.problem((), "records no release serving production (production.current); restore the lock from "
                            "Git, or run `bgrender lock` to record what serves production now")]
    now = lock.release(active)
    if now in (lock.current, lock.previous):
        return []
    before = f", before it {describe(lock.previous)}" if lock.previous else ""
    return [intent_doc.problem(("spec", "active"), f"{active} {quote(now.version)} is not a release {LOCK_FILE} "
                               f"records as serving production (it records {describe(lock.current)}{before}): a "
                               "release takes production only through `bgrender promote`, and two pull requests "
                               "made from one state can merge into this; restore spec.active and the lock from "
                               "Git, then release and promote")]


def share_problems(lock_file: LockFile, intent_doc: Document, idle: Color) -> list[Problem]:
    """Why spec.traffic may not give `idle` a share (DESIGN §18): the lock must record that share
    for the release the idle color holds. A step pull request and a release pull request made
    from one state merge cleanly in bluegreen.yaml into a share for a build nobody stepped to."""
    lock = lock_file.lock
    if idle in lock.colors and lock.shared == lock.release(idle):
        return []
    given = f"it records one for {describe(lock.shared)}" if lock.shared else "it records none"
    return [intent_doc.problem(("spec", "traffic"), f"{LOCK_FILE} records no share of production for "
                               f"{idle}'s release ({given}): a release takes a share only through `bgrender "
                               "promote --percent N`, and two pull requests made from one state can merge into "
                               f"this; restore the files from Git, or run `bgrender lock` to give the share to the "
                               f"release {idle} holds now (review its diff)",
                               key=True)]


def describe(release: Release) -> str:
    return f"{release.color} {quote(release.version)}"


def disagrees(lock: Lock, active: Color) -> bool:
    """Whether spec.active was moved by hand to the release that served before (a break-glass)."""
    return lock.current is not None and active in lock.colors and lock.release(active) != lock.current


def promoted(lock: Lock, old_active: Color, new_active: Color) -> Lock:
    """The history after production moved from `old_active` to `new_active` by a promotion: the
    memory of a rollback goes, since production moves on."""
    return lock.replace(current=lock.release(new_active), previous=lock.release(old_active), rolled_back=None,
                        pending=None, shared=None)


def after_rollback(lock: Lock, active: Color, idle: Color) -> Lock:
    """The history after a rollback from `active` to `idle`: no earlier release (so a second
    rollback is refused), and the release rolled back from is remembered."""
    return lock.replace(current=lock.release(idle), previous=None, rolled_back=lock.release(active), pending=None,
                        shared=None)


def recorded(lock: Lock, active: Color) -> Lock:
    """The history once it records that `active` serves production (no change if it does)."""
    now = lock.release(active)
    if lock.current == now:
        return lock
    return lock.replace(current=now, previous=lock.current)


# --- writing --------------------------------------------------------------------------------


def dump_lock(lock: Lock) -> str:
    """The lock's text: deterministic, the production history (with its digest) first, then each color's entry
    with the pinned objects' keys sorted, in block style, so that its diff in a pull request
    shows line by line what a color will run."""
    from bgrender.yamlfile.dump import dump_document

    data: dict[str, Any] = {"apiVersion": spec.API_VERSION, "kind": KIND}
    history = _history(lock)
    if history:
        data["production"] = {**history, "digest": digest_of(history)}
    data["colors"] = {color: _dumped_entry(e) for color, e in sorted(lock.colors.items())}
    return HEADER + dump_document(data)


def _dumped_entry(entry: Entry) -> dict[str, Any]:
    from bgrender.yamlfile.dump import sorted_keys

    out = {"version": entry.version, "digest": entry.digest, "selector": {"matchLabels": sorted_keys(entry.selector)},
           "template": sorted_keys(entry.template)}
    if entry.config_maps:
        out["configMaps"] = sorted_keys(entry.config_maps)
    if entry.versioned:
        out["versioned"] = sorted_keys(entry.versioned)
    return out
