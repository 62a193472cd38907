"""The names an imported app gets (importer.py): its metadata.name, the base name of its two
Deployments, the layout's Deployment names, and why the Deployments are renamed, when they are.

Pure: the recognized layout in, Names out. The layout's names are kept where bgrender can
keep them (`<base>-blue` and `<base>-green`); where the old selectors held more than the app
labels and the color (kustomize's commonLabels put the version there), the new Deployments get
new names, since a selector cannot change. migration.py tells the user what the names mean
for the move.
"""

from __future__ import annotations

from bgrender.colors import COLORS, Color
from bgrender.errors import escape
from bgrender.importing.recognize import Recognized
from bgrender.intent import spec
from bgrender.names import bounded_name
from bgrender.record import Record

RENAMED_SUFFIX = "-bg"


class Names(Record):
    app: str  # metadata.name
    base: str  # the base Deployment's: the colors are <base>-blue and <base>-green
    old: dict[Color, str]  # the live Deployments'
    renamed: str | None  # why the Deployments get new names; None: they keep theirs


def choose_names(found: Recognized) -> Names:
    old = {c: found.deployments[c].name for c in COLORS}
    cut = old["blue"].removesuffix("-blue")
    stem = cut if old["blue"] != cut and old["green"] == f"{cut}-green" and _fits(cut) else None
    app = next((v for k in ("app.kubernetes.io/name", "app") if _fits(v := found.app_labels.get(k, ""))), None)
    app = app or stem or bounded_name(found.service.name, "", spec.NAME_FOR_COLOR)
    if found.selector_changes:
        base = bounded_name(stem or app, RENAMED_SUFFIX, spec.NAME_FOR_COLOR)
        if {f"{base}-blue", f"{base}-green"} & set(old.values()):  # an old name holds -bg already
            base = bounded_name(base, RENAMED_SUFFIX, spec.NAME_FOR_COLOR)
        return Names(app, base, old, _renamed_for_selectors(found, old, base))
    if stem:
        return Names(app, stem, old, None)
    return Names(app, app, old, f"new Deployment names: {app}-blue and {app}-green, as bgrender names a color's "
                                f"Deployment <base>-<color>; the old ones, {escape(old['blue'])} and "
                                f"{escape(old['green'])}, are not named so")


def _fits(name: str) -> bool:
    return bool(name) and len(name) <= spec.NAME_FOR_COLOR and spec.matches(spec.DNS_LABEL, name)


def _renamed_for_selectors(found: Recognized, old: dict[Color, str], base: str) -> str:
    extra = found.extra_selector_keys
    why = " (as kustomize's commonLabels make them)" if found.version_label in extra else ""
    keys = ", ".join(escape(k) for k in extra)
    return (f"new Deployment names: {base}-blue and {base}-green. The old Deployments, {escape(old['blue'])} and "
            f"{escape(old['green'])}, also select on {keys}{why}; bgrender's select only {_braced(found)}, and a "
            "Deployment's selector cannot change: rendering them under the old names would fail the first sync "
            "with `spec.selector: ... field is immutable`")


def _braced(found: Recognized) -> str:
    return "{" + ", ".join(escape(k) for k in [*found.app_labels, found.color_label]) + "}"
