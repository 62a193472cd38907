"""Live state beside Git: the report of `bgrender status`, and whether the two agree.

Pure. `cluster.py` reads the cluster into a LiveState; this module compares it with the Plan
and formats the report as JSON-ready data or as a table. It must not import `kubernetes`
(only cluster.py talks to a cluster) and it prints nothing.

The report holds the cluster's values as they are (JSON escapes what it must); the table
shows every cell and line escaped to printable ASCII, so that no value from the cluster can
start a line of its own (a forged "in sync with Git") or reach the terminal as a control.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from .colors import COLORS, Color
from .errors import escape
from .plan import Plan


@dataclass(frozen=True)
class LiveDeployment:
    """One color's Deployment as the cluster has it."""

    name: str
    version: str | None  # pod template annotation bgrender.io/version, else the version label
    version_source: str | None  # "annotation", "label", or None when neither is there
    replicas: int  # desired: spec.replicas
    ready_replicas: int
    rollout_pending: str | None  # why the rollout is not finished; None when every pod runs the template


@dataclass(frozen=True)
class LiveRouting:
    """The app's routing object (VirtualService, HTTPRoute or Service) as the cluster has it."""

    kind: str
    name: str
    found: bool
    api_version: str | None  # the API version that answered
    production: Color | None  # the color it sends production traffic to
    note: str | None  # why production is None (no such object, the API not served, a split, ...)


@dataclass(frozen=True)
class LiveState:
    namespace: str
    deployments: dict[Color, LiveDeployment | None]  # None: no such Deployment
    routing: LiveRouting


def rollout_pending(*, replicas: int, generation: int, observed_generation: int | None,
                    updated: int, current: int, available: int) -> str | None:
    """Why a Deployment's rollout is not finished, in the order `kubectl rollout status` checks; None when it is."""
    if observed_generation is None or observed_generation < generation:
        return "the Deployment controller has not seen the latest spec yet"
    if updated < replicas:
        return f"{updated} of {replicas} pods updated"
    if current > updated:
        old = current - updated
        return f"{old} old pod{'' if old == 1 else 's'} still terminating"
    if available < updated:
        return f"{available} of {updated} updated pods available"
    return None


# Maps a full version from Git to the value rendered into the version label (digests are
# shortened there), so that a Deployment without the annotation can still be compared.
LabelValue = Callable[[str], str]


def build_report(plan: Plan, live: LiveState, label_value: LabelValue = str) -> dict[str, Any]:
    """The `status --output json` document; `inSync` is true only when nothing drifts."""
    drift = drift_reasons(plan, live, label_value)
    return {
        "app": plan.intent.name,
        "namespace": live.namespace,
        "active": {"git": plan.intent.active, "live": live.routing.production},
        "colors": {color: _color_report(plan, live, color, label_value) for color in COLORS},
        "inSync": not drift,
        "routing": {
            "kind": live.routing.kind,
            "name": live.routing.name,
            "found": live.routing.found,
            "apiVersion": live.routing.api_version,
            "note": live.routing.note,
        },
        "drift": drift,
    }


def _color_report(plan: Plan, live: LiveState, color: Color, label_value: LabelValue) -> dict[str, Any]:
    deployment = live.deployments[color]
    return {
        "gitVersion": plan.intent.versions[color],
        "liveVersion": deployment.version if deployment else None,
        "replicas": deployment.replicas if deployment else 0,
        "readyReplicas": deployment.ready_replicas if deployment else 0,
        "deployment": plan.deployment_name(color),
        "found": deployment is not None,
        "rolledOut": deployment is None or deployment.rollout_pending is None,
        "state": _state(plan, live, color, label_value),
    }


def _state(plan: Plan, live: LiveState, color: Color, label_value: LabelValue) -> str:
    """A few words for the table: the live role of the color, then what differs from Git."""
    deployment = live.deployments[color]
    if deployment is None:
        return "missing" if plan.intent.versions[color] else "not deployed"
    words = ["production" if live.routing.production == color else "idle"]
    if not _same_version(plan.intent.versions[color], deployment, label_value):
        words.append("version differs")
    if deployment.rollout_pending:
        words.append("rolling out")
    return ", ".join(words)


def drift_reasons(plan: Plan, live: LiveState, label_value: LabelValue = str) -> list[str]:
    """Every way the cluster differs from Git, one short sentence each; empty when in sync."""
    reasons = _routing_drift(plan, live.routing)
    for color in COLORS:
        reasons += _color_drift(plan, live, color, label_value)
    return reasons


def _routing_drift(plan: Plan, routing: LiveRouting) -> list[str]:
    git = plan.intent.active
    if routing.production == git:
        return []
    if routing.production is not None:
        return [f"production traffic goes to {routing.production} live, but Git says active: {git}"]
    return [f"no live production color for Git's active: {git} ({routing.note})"]


def _color_drift(plan: Plan, live: LiveState, color: Color, label_value: LabelValue) -> list[str]:
    git = plan.intent.versions[color]
    deployment = live.deployments[color]
    name = plan.deployment_name(color)
    if deployment is None:
        return [f"{color}: Deployment {name} not found, Git has version {git}"] if git else []
    reasons = []
    if not _same_version(git, deployment, label_value):
        reasons.append(f"{color}: runs {_show(deployment.version)}, Git has {_show(git)}")
    # A template that says the Git version is not yet what users get while old pods remain.
    if deployment.rollout_pending:
        reasons.append(f"{color}: rollout not finished ({deployment.rollout_pending})")
    return reasons


def _same_version(git: str | None, deployment: LiveDeployment, label_value: LabelValue) -> bool:
    if git is None or deployment.version is None:
        return git == deployment.version
    if deployment.version_source == "label":
        return deployment.version == label_value(git)
    return deployment.version == git


def _show(version: str | None) -> str:
    return version if version is not None else "no version"


def format_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2)


# A cell holds at most this many characters of a value (a version is at most 128 in Git).
CELL_LIMIT = 130
LINE_LIMIT = 400


def format_table(report: dict[str, Any]) -> str:
    """A header, one aligned row per color, and a verdict with the reasons for any drift."""
    lines = _align([
        ["app", report["app"]],
        ["namespace", _cell(report["namespace"])],
        ["production", _cell(_production_cell(report), LINE_LIMIT)],
    ])
    lines.append("")
    lines += _align([["COLOR", "GIT VERSION", "LIVE VERSION", "READY", "STATE"]]
                    + [[_cell(cell) for cell in _color_row(color, report)] for color in COLORS])
    lines.append("")
    if report["inSync"]:
        lines.append("in sync with Git")
    else:
        lines.append("NOT in sync with Git:")
        lines += [f"  - {_cell(reason, LINE_LIMIT)}" for reason in report["drift"]]
    return "\n".join(lines)


def _cell(text: str, limit: int = CELL_LIMIT) -> str:
    """Text for one cell of the table: one line of printable ASCII, cut short."""
    return escape(text if len(text) <= limit else text[:limit] + "...")


def _production_cell(report: dict[str, Any]) -> str:
    route = report["routing"]
    live = report["active"]["live"] or "-"
    where = f"{route['kind']} {route['name']}, {route['apiVersion']}" if route["found"] else ""
    where = "; ".join(part for part in (where, route["note"]) if part)
    return f"git: {report['active']['git']}  live: {live}  ({where})"


def _color_row(color: Color, report: dict[str, Any]) -> list[str]:
    row = report["colors"][color]
    ready = f"{row['readyReplicas']}/{row['replicas']}" if row["found"] else "-"
    return [color, row["gitVersion"] or "-", row["liveVersion"] or "-", ready, row["state"]]


def _align(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
