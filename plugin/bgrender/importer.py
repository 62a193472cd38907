"""`bgrender import`: a kustomize blue/green layout, recognized, as an app's bluegreen.yaml and
base deployment.yaml, with what to tell the user and the steps of the migration (DESIGN §13).

A pure use case: the layout's objects in (layouts.py read them, recognize.py told what each
is), texts out. It keeps the layout's names, label keys, header, hosts and gateways, the
active color and each color's version. The base is the active color's Deployment without
the color and version labels and the image's tag; where the two colors' Deployments differ
by their version or color (an annotation holding the version, an env var naming the color's
ConfigMap) the base says so with a template, so each color renders as it runs. Where the old
selectors held more than the app labels and the color (kustomize's commonLabels put the
version there), the new Deployments get new names: a selector cannot change.

It writes nothing and pins nothing: import_cli.py writes the two texts, pins the lock
through the `lock` command's own code, and renders the result before anything reaches
OUT_DIR.
"""

from __future__ import annotations

import re

from . import spec
from .base import image_reference, image_repository
from .colors import COLORS, Color, other
from .dump import dump_document
from .errors import escape
from .labels import ORDER_ANNOTATIONS, bounded_name, version_label_value
from .layouts import Layout
from .recognize import Recognized, recognize
from .record import Record
from .rules import MESH
from .templating import copy_data
from .yamldoc import Path, dotted

TYPE_CHECKING = False  # the typing module costs ~3 ms at startup; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

DEPLOYMENT_FILE = "deployment.yaml"
RENAMED_SUFFIX = "-bg"
# Fields a live object carries that no manifest in Git should: an export with `kubectl get -o
# yaml` has them, and a base holding them would not apply.
SERVER_FIELDS = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink")
SERVER_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision",
                      "argocd.argoproj.io/tracking-id")
_JINJA_MARKER = re.compile(r"\{[{%#]")
# Shorter than this, a version found inside a longer string could be anything ("1", "v2").
MIN_VERSION_IN_TEXT = 7

STEPS_HEADER = 'to migrate (the README\'s "Coming from a kustomize blue/green layout" explains each step):'
INTENT_HEADER = """\
# Imported by `bgrender import` from a blue/green layout: the layout's names, label keys,
# header and hosts. Before the first sync, read the README's migration guide ("Coming from a
# kustomize blue/green layout"): the old Applications must go first, without cascading.
"""


class Names(Record):
    app: str  # metadata.name
    base: str  # the base Deployment's: the colors are <base>-blue and <base>-green
    old: dict[Color, str]  # the live Deployments'
    renamed: str | None  # why the Deployments get new names; None: they keep theirs


class Imported(Record):
    """The texts to write, and what to tell: notes, then the migration steps."""

    intent: str
    deployment: str
    notes: tuple[str, ...]
    steps: tuple[str, ...]


def import_layout(layout: Layout, source: str, out_dir: str) -> Imported:
    """bluegreen.yaml and deployment.yaml for the app of `layout` (read from `source`), to be
    written into `out_dir` (both as messages show them)."""
    found = recognize(layout)
    names = choose_names(found)
    base, differences = base_deployment(found, names)
    intent, routing_notes = intent_data(found, names, base)
    deployment_text = _deployment_header(found, names) + dump_document(base)
    notes = [_summary(found, layout, source), *([names.renamed] if names.renamed else []),
             *_label_notes(found), *_image_notes(found), *routing_notes, *_difference_notes(found, differences),
             *_left_out(found, layout)]
    return Imported(INTENT_HEADER + dump_document(intent), deployment_text, tuple(notes),
                    tuple(migration_steps(found, names, layout, out_dir)))


# --- names ------------------------------------------------------------------------------------


def choose_names(found: Recognized) -> Names:
    old = {c: found.deployments[c].name for c in COLORS}
    stem = old["blue"].removesuffix("-blue")
    stem = stem if old["blue"] != stem and old["green"] == f"{stem}-green" and _fits(stem) else None
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


# --- the base Deployment ------------------------------------------------------------------------


class _Pair(Record):
    """What tells the two colors apart, for templates in the base."""

    versions: tuple[str, str]  # active's, idle's
    colors: tuple[Color, Color]


def base_deployment(found: Recognized, names: Names) -> tuple[dict[str, Any], list[str]]:
    """The base: both colors' Deployments made color-neutral, merged (the active color's where
    they differ otherwise), renamed; and the paths where the idle color's differs."""
    active, idle = found.routes.active, other(found.routes.active)
    pair = _Pair((found.versions[active], found.versions[idle]), (active, idle))
    differences: list[str] = []
    base = _merged(_neutral(found, active), _neutral(found, idle), pair, (), differences)
    base["metadata"] = {"name": names.base, **{k: v for k, v in base["metadata"].items() if k != "name"}}
    replicas = (found.deployments[active].data.get("spec") or {}).get("replicas")
    if replicas is not None:
        base["spec"] = {"replicas": replicas, **base["spec"]}
    return base, differences


def _neutral(found: Recognized, color: Color) -> dict[str, Any]:
    """A color's Deployment without what is the color's own: its name, namespace, replicas,
    color and version labels, the image's tag; and without fields only a live object has."""
    data = copy_data(found.deployments[color].data)
    data.pop("status", None)
    meta = data["metadata"] = {k: v for k, v in (data.get("metadata") or {}).items()
                               if k not in ("name", "namespace", *SERVER_FIELDS)}
    _drop_keys(meta, "labels", (found.color_label, found.version_label))
    _drop_keys(meta, "annotations", (*SERVER_ANNOTATIONS, *ORDER_ANNOTATIONS))
    deployment_spec = data["spec"] = {k: v for k, v in data["spec"].items() if k != "replicas"}
    deployment_spec["selector"] = {**deployment_spec["selector"], "matchLabels": dict(found.app_labels)}
    template = deployment_spec["template"]
    _drop_keys(template["metadata"], "labels", (found.color_label, found.version_label))
    _drop_keys(template["metadata"], "annotations", tuple(ORDER_ANNOTATIONS))
    pod = template["spec"]
    for key in ("containers", "initContainers"):
        for container in pod.get(key) or []:
            if isinstance(container, dict) and _runs_the_app(found, key, container):
                container["image"] = found.image
    return data


def _runs_the_app(found: Recognized, key: str, container: dict[str, Any]) -> bool:
    if key == "containers":
        return container.get("name") == found.container
    return image_repository(container.get("image")) == found.image  # bgrender sets these to the release too


def _drop_keys(mapping: dict[str, Any], field: str, keys: tuple[str, ...]) -> None:
    if isinstance(mapping.get(field), dict):
        mapping[field] = {k: v for k, v in mapping[field].items() if k not in keys}
        if not mapping[field]:
            del mapping[field]


def _merged(active: Any, idle: Any, pair: _Pair, path: Path, differences: list[str]) -> Any:
    """`active` with every string as a literal for the base's templates, except where the
    colors differ by their version or color: there, a template."""
    if isinstance(active, dict) and isinstance(idle, dict):
        if active.keys() != idle.keys():
            differences += [dotted(path + (k,)) for k in sorted(active.keys() ^ idle.keys())]
        return {k: _merged(v, idle.get(k, v), pair, path + (k,), differences) for k, v in active.items()}
    if isinstance(active, list) and isinstance(idle, list) and len(active) == len(idle):
        return [_merged(a, i, pair, path + (n,), differences) for n, (a, i) in enumerate(zip(active, idle))]
    if isinstance(active, str) and isinstance(idle, str):
        templated = _templated(active, idle, pair)
        if templated is not None:
            return templated
    if active != idle:
        differences.append(dotted(path))
    return _literals(active)


def _templated(active: str, idle: str, pair: _Pair) -> str | None:
    """A template that gives `active` for the active color and `idle` for the idle one."""
    (version, idle_version), (color, idle_color) = pair.versions, pair.colors
    if active == version and idle == idle_version:
        return "{{ version }}"
    short = next((n for n in range(MIN_VERSION_IN_TEXT, len(version)) if active == version[:n]), None)
    if short and version != idle_version and idle == idle_version[:short]:
        return f"{{{{ version[:{short}] }}}}"
    if active == idle:
        return None
    for word, (mine, theirs) in (("version", (version, idle_version)), ("color", (color, idle_color))):
        if word == "version" and len(mine) < MIN_VERSION_IN_TEXT:
            continue
        parts = active.split(mine)
        if len(parts) > 1 and parts == idle.split(theirs):
            return f"{{{{ {word} }}}}".join(_literal(part, in_template=True) for part in parts)
    return None


def _literal(text: str, *, in_template: bool = False) -> str:
    """`text` as it must be written in the base to render as itself: a `{{`, `{%` or `{#` in a
    value would start a template, so it is written as a template giving that text; and as Jinja
    reads a carriage return in a template as a line break, a template writes it the same way."""
    escaped = _JINJA_MARKER.sub(lambda m: '{{ "' + m.group() + '" }}', text)
    if in_template or escaped != text:
        escaped = escaped.replace("\r", '{{ "\\r" }}')
    return escaped


def _literals(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _literals(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_literals(v) for v in data]
    return _literal(data) if isinstance(data, str) else data


def _deployment_header(found: Recognized, names: Names) -> str:
    active = found.routes.active
    return (f"# The base Deployment of both colors, imported by `bgrender import` from {escape(names.old[active])}\n"
            f"# ({active}, the active color) without its color and version labels and its image's tag,\n"
            "# which bgrender sets for each color.\n")


# --- bluegreen.yaml ---------------------------------------------------------------------------------


def intent_data(found: Recognized, names: Names, base: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """bluegreen.yaml's content, with only what differs from bgrender's defaults beyond what
    every app names; and the notes on how routing changes."""
    active = found.routes.active
    metadata = {"name": names.app, **({"namespace": found.namespace} if found.namespace else {})}
    body: dict[str, Any] = {"image": found.image, "active": active,
                            **{c: {"version": found.versions[c]} for c in COLORS}, "deployment": DEPLOYMENT_FILE}
    if len(base["spec"]["template"]["spec"].get("containers") or []) > 1:
        body["container"] = found.container
    idle_replicas = (found.deployments[other(active)].data.get("spec") or {}).get("replicas")
    if idle_replicas is not None and idle_replicas != base["spec"].get("replicas"):
        body["idleReplicas"] = idle_replicas
    labels = {k: v for k, v in (("color", found.color_label), ("version", found.version_label))
              if v != spec.default("labels", k)}
    if labels:
        body["labels"] = labels
    body["service"] = _service_data(found, names)
    routing, notes = _routing_data(found, names)
    if routing:
        body["routing"] = routing
    return {"apiVersion": "bgrender.io/v1alpha1", "kind": "BlueGreen", "metadata": metadata, "spec": body}, notes


def _service_data(found: Recognized, names: Names) -> dict[str, Any]:
    data: dict[str, Any] = {"name": found.service.name} if found.service.name != names.app else {}
    data["port"] = found.port["port"]
    target = found.port.get("targetPort")
    if target is not None and target != found.port["port"]:
        data["targetPort"] = target
    return data


def _routing_data(found: Recognized, names: Names) -> tuple[dict[str, Any], list[str]]:
    routes, notes = found.routes, []
    routing: dict[str, Any] = {}
    if routes.header and routes.header != spec.default("routing", "header"):
        routing["header"] = routes.header
    if not routes.header:
        header = spec.default("routing", "header")
        notes.append(f"the layout has no header routes: bgrender adds one for each color, `{header}: <color>`, "
                     "inside the mesh only (previews of each color); spec.routing.header names another header")
    if list(routes.hosts) != [found.service.name]:
        routing["hosts"] = list(routes.hosts)
    if routes.gateways:
        routing["gateways"] = list(routes.gateways)
        if MESH not in routes.gateways:
            routing["gateways"].append(MESH)
            notes.append(_mesh_note(found))
    lost = sorted((set(routes.preview_gateways) or set(routes.gateways) or {MESH}) - {MESH}) if routes.header else []
    if lost:
        notes.append(f"previews (the header routes) now apply inside the mesh only, no longer at "
                     f"{', '.join(map(escape, lost))}; to keep them there, set spec.routing.preview.gateways "
                     f"(bgrender keeps previews off gateways unless named there)")
    for key, name in (("virtualService", found.virtual_service.name), ("destinationRule", found.destination_rule.name)):
        if name != names.app:
            routing[key] = name
    return routing, notes


def _mesh_note(found: Recognized) -> str:
    gateways = ", ".join(map(escape, found.routes.gateways))
    return (f"spec.routing.gateways gains mesh: the layout's VirtualService applied only at {gateways}, so callers "
            "inside the mesh bypassed it and reached both colors through the Service; with mesh they reach the "
            "active color only. To keep the old behavior instead, remove mesh and set spec.routing.meshRouting: false")


# --- what to tell --------------------------------------------------------------------------------


def _summary(found: Recognized, layout: Layout, source: str) -> str:
    count = len(layout.roots)
    read = f"built {count} kustomization" if layout.built_with else f"read {count} file"
    active, idle = found.routes.active, other(found.routes.active)
    return (f"{escape(source)}: {read}{'s' if count > 1 else ''}: {', '.join(map(escape, layout.roots))}; "
            f"{active} {escape(found.versions[active])} serves production, {idle} {escape(found.versions[idle])} "
            f"is idle (color label {escape(found.color_label)}, VirtualService {escape(found.virtual_service.name)})")


def _label_notes(found: Recognized) -> list[str]:
    notes = []
    for color in COLORS:
        labels = ((found.deployments[color].data["spec"].get("template") or {}).get("metadata") or {}).get("labels")
        live = (labels or {}).get(found.version_label)
        new = version_label_value(found.versions[color])
        if live is not None and live != new:
            notes.append(f"{color}'s pods are labeled {escape(found.version_label)}: {escape(str(live))}, and will be "
                         f"labeled {escape(found.version_label)}: {escape(new)} (bgrender's value for version "
                         f"{escape(found.versions[color])})")
    return notes


def _image_notes(found: Recognized) -> list[str]:
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


def _difference_notes(found: Recognized, differences: list[str]) -> list[str]:
    if not differences:
        return []
    active = found.routes.active
    shown = ", ".join(differences[:8]) + (", ..." if len(differences) > 8 else "")
    return [f"{other(active)}'s Deployment differs from {active}'s at {shown}; both colors render from "
            f"{active}'s (the active color's), so {other(active)}'s pods will run {active}'s settings there"]


def _left_out(found: Recognized, layout: Layout) -> list[str]:
    notes = [f"not carried over: {d}" for d in found.dropped]
    if found.others:
        shown = ", ".join(m.describe() for m in found.others[:10]) + (", ..." if len(found.others) > 10 else "")
        notes.append(f"not imported: {shown}; they stay in the cluster when the old Applications go (step 2), "
                     "managed by none: keep them in spec.resources or in an Application of their own")
    notes += [f"skipped {escape(f)}: it holds no Kubernetes object" for f in layout.skipped]
    return notes


def migration_steps(found: Recognized, names: Names, layout: Layout, out_dir: str) -> list[str]:
    """The order that moves the app to one Application without dropping a request."""
    shared = (f"Service {escape(found.service.name)}, DestinationRule {escape(found.destination_rule.name)} and "
              f"VirtualService {escape(found.virtual_service.name)}")
    new = f"{names.base}-blue and {names.base}-green"
    old = f"{escape(names.old['blue'])} {escape(names.old['green'])}"
    namespace = found.namespace or "NAMESPACE"
    synced = [escape(d) for d in layout.synced]
    where = " and ".join(synced) if len(synced) < 3 else ", ".join(synced[:-1]) + " and " + synced[-1]
    steps = [f"Review {escape(out_dir)} and commit it; nothing in the cluster changes yet.",
             f"Delete the Applications that sync {where} WITHOUT cascading, so that every object they made stays "
             "and keeps serving: `argocd app delete APP --cascade=false` for each.",
             f"Create one Application for {escape(out_dir)} with the plugin bgrender-v1, and sync it. It adopts "
             f"the {shared} under their names"]
    if names.renamed:
        steps[-1] += (f", and starts the Deployments {new} beside the old ones; the old pods keep serving with the "
                      "new ones meanwhile, since the Service and the subsets select both.")
        steps.append(f"Once both new Deployments are ready (`bgrender status {escape(out_dir)}`), delete the old ones:"
                     f" `kubectl -n {escape(namespace)} delete deployment {old}`.")
    else:
        steps[-1] += (f", and the Deployments {new} too (same names, same selectors); a rolling update replaces "
                      "their pods once (the pod template gains bgrender's annotation bgrender.io/version).")
    steps.append("Remove the old layout and its Applications' manifests from Git.")
    return [STEPS_HEADER, *(f"  {n}. {step}" for n, step in enumerate(steps, 1))]
