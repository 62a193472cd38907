"""What `bgrender import` tells the user (importer.py): what it read and found, what changes
for the app and why, what it leaves behind, and the steps that move the app from the old
Applications to one without dropping a request (the README's migration guide explains them).

Pure: values in, lines out; every value from the layout is escaped to one line of printable
ASCII.
"""

from __future__ import annotations

from bgrender.colors import COLORS, other
from bgrender.errors import escape
from bgrender.images import image_reference
from bgrender.importing.layouts import Layout
from bgrender.importing.naming import Names
from bgrender.importing.recognize import Recognized
from bgrender.labels import version_label_value
from bgrender.yamlfile.document import get_in

STEPS_HEADER = 'to migrate (the README\'s "Coming from a kustomize blue/green layout" explains each step):'


def summary(found: Recognized, layout: Layout, source: str) -> str:
    count = len(layout.roots)
    read = f"built {count} kustomization" if layout.built_with else f"read {count} file"
    active, idle = found.routes.active, other(found.routes.active)
    return (f"{escape(source)}: {read}{'s' if count > 1 else ''}: {', '.join(map(escape, layout.roots))}; "
            f"{active} {escape(found.versions[active])} serves production, {idle} {escape(found.versions[idle])} "
            f"is idle (color label {escape(found.color_label)}, VirtualService {escape(found.virtual_service.name)})")


def label_notes(found: Recognized) -> list[str]:
    notes = []
    for color in COLORS:
        live = get_in(found.deployments[color].data, ("spec", "template", "metadata", "labels", found.version_label))
        new = version_label_value(found.versions[color])
        if live is not None and live != new:
            notes.append(f"{color}'s pods are labeled {escape(found.version_label)}: {escape(str(live))}, and will be "
                         f"labeled {escape(found.version_label)}: {escape(new)} (bgrender's value for version "
                         f"{escape(found.versions[color])})")
    return notes


def image_notes(found: Recognized) -> list[str]:
    """A tag beside the digest: bgrender's image reference holds only the version, the digest."""
    notes = []
    for color, d in found.deployments.items():
        containers = (d.data["spec"]["template"]["spec"].get("containers") or [])
        image = next((c.get("image") for c in containers if isinstance(c, dict) and c.get("name") == found.container),
                     None)
        if isinstance(image, str) and image != image_reference(found.image, found.versions[color]):
            notes.append(f"{color} runs {escape(image)}; bgrender writes it "
                         f"{escape(image_reference(found.image, found.versions[color]))}, the same image")
    return notes


def difference_notes(found: Recognized, differences: list[str]) -> list[str]:
    if not differences:
        return []
    active = found.routes.active
    shown = ", ".join(differences[:8]) + (", ..." if len(differences) > 8 else "")
    return [f"{other(active)}'s Deployment differs from {active}'s at {shown}; both colors render from "
            f"{active}'s (the active color's), so {other(active)}'s pods will run {active}'s settings there"]


def left_out(found: Recognized, layout: Layout) -> list[str]:
    notes = [f"not carried over: {d}" for d in found.dropped]
    if found.others:
        shown = ", ".join(m.describe() for m in found.others[:10]) + (", ..." if len(found.others) > 10 else "")
        notes.append(f"not imported: {shown}; they stay in the cluster when the old Applications go (step 2), "
                     "managed by none: keep them in spec.resources or in an Application of their own")
    notes += [f"skipped {escape(f)}: it holds no Kubernetes object" for f in layout.skipped]
    return notes


def migration_steps(found: Recognized, names: Names, layout: Layout, out_dir: str) -> list[str]:
    """The order that moves the app to one Application without dropping a request."""
    shared = f"Service {escape(found.service.name)} and VirtualService {escape(found.virtual_service.name)}"
    new = f"{names.base}-blue and {names.base}-green"
    old = f"{escape(names.old['blue'])} {escape(names.old['green'])}"
    namespace = found.namespace or "NAMESPACE"
    synced = [escape(d) for d in layout.synced]
    where = " and ".join(synced) if len(synced) < 3 else ", ".join(synced[:-1]) + " and " + synced[-1]
    # A layout does not say what its Applications are called: the paths find them.
    steps = [f"Review {escape(out_dir)} and commit it; nothing in the cluster changes yet.",
             f"Delete the Applications that sync {where} WITHOUT cascading, so that every object they made stays "
             "and keeps serving: `argocd app delete APP --cascade=false` for each (`argocd app list` shows each "
             "Application's name beside its PATH).",
             f"Create one Application for {escape(out_dir)} with the plugin bgrender-v1, under a name none of the "
             "old ones had (Argo CD knows an Application's objects by its name: under an old one, with prune, it "
             f"would delete what the old one made and this app does not render), and sync it. It adopts the "
             f"{shared} under their names"]
    if names.renamed:
        steps[-1] += (f", and starts the Deployments {new} beside the old ones; the old pods keep serving with the "
                      "new ones meanwhile, since the Services select a color's pods of both.")
        steps.append(f"Once both new Deployments are ready (`bgrender status {escape(out_dir)}`), delete the old ones:"
                     f" `kubectl -n {escape(namespace)} delete deployment {old}`.")
    else:
        steps[-1] += (f", and the Deployments {new} too (same names, same selectors); a rolling update replaces "
                      "their pods once (the pod template gains bgrender's annotation bgrender.io/version).")
    steps.append(f"Delete the DestinationRule {escape(found.destination_rule.name)}: bgrender routes by host, so no "
                 f"route names its subsets any more: `kubectl -n {escape(namespace)} delete destinationrule "
                 f"{escape(found.destination_rule.name)}`.")
    steps.append("Remove the old layout and its Applications' manifests from Git.")
    return [STEPS_HEADER, *(f"  {n}. {step}" for n, step in enumerate(steps, 1))]
