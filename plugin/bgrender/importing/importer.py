"""`bgrender import`: a kustomize blue/green layout, recognized, as an app's bluegreen.yaml and
base deployment.yaml, with what to tell the user and the steps of the migration (DESIGN §13).

A pure use case: the layout's objects in (layouts.py read them), texts out. recognize.py
tells what each object is; naming.py chooses the names; this module writes bluegreen.yaml,
keeping the layout's names, label keys, header, hosts and gateways, the active color and each
color's version, and says how routing changes; base_from_colors.py makes the base
Deployment; migration.py says what else changes and how to move across.

It writes nothing and pins nothing: cli/importing.py writes the two texts, pins the lock
through the `lock` command's own code, and renders the result before anything reaches
OUT_DIR.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.colors import COLORS, other
from bgrender.errors import escape
from bgrender.importing import migration
from bgrender.importing.base_from_colors import base_deployment
from bgrender.importing.layouts import Layout
from bgrender.importing.naming import Names, choose_names
from bgrender.importing.recognize import Recognized, recognize
from bgrender.intent import spec
from bgrender.intent.spec import MESH
from bgrender.record import Record
from bgrender.yamlfile.dump import dump_document

if TYPE_CHECKING:
    from typing import Any

DEPLOYMENT_FILE = "deployment.yaml"
INTENT_HEADER = """\
# Imported by `bgrender import` from a blue/green layout: the layout's names, label keys,
# header and hosts. Before the first sync, read the README's migration guide ("Coming from a
# kustomize blue/green layout"): the old Applications must go first, without cascading.
"""


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
    base, differences = base_deployment(found, names.base)
    intent, routing_notes = intent_data(found, names, base)
    deployment_text = _deployment_header(found, names) + dump_document(base)
    notes = [migration.summary(found, layout, source), *([names.renamed] if names.renamed else []),
             *migration.label_notes(found), *migration.image_notes(found), *routing_notes,
             *migration.difference_notes(found, differences), *migration.left_out(found, layout)]
    return Imported(INTENT_HEADER + dump_document(intent), deployment_text, tuple(notes),
                    tuple(migration.migration_steps(found, names, layout, out_dir)))


# --- the base Deployment ------------------------------------------------------------------------


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
    return {"apiVersion": spec.API_VERSION, "kind": "BlueGreen", "metadata": metadata, "spec": body}, notes


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
    routing.update(found.carried.routing)  # policy, match, trafficPolicy (route_policy.py)
    return routing, notes + list(found.carried.notes)


def _mesh_note(found: Recognized) -> str:
    gateways = ", ".join(map(escape, found.routes.gateways))
    return (f"spec.routing.gateways gains mesh: the layout's VirtualService applied only at {gateways}, so callers "
            "inside the mesh bypassed it and reached both colors through the Service; with mesh they reach the "
            "active color only. To keep the old behavior instead, remove mesh and set spec.routing.meshRouting: false")


# --- what to tell --------------------------------------------------------------------------------
