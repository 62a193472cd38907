"""Live state beside Git: the records of what runs live, the report of `bgrender status`,
and whether the two agree.

Pure: the LiveState records (answers.py fills them from the API server's answers, cluster.py
gathers them), their comparison with the Plan, and the report formatted as JSON-ready data
or as a table. It must not import `kubernetes` (only the cluster commands load it) and it
prints nothing: `bgrender status` (cli/status.py) prints the report.

The report holds the cluster's values as they are (JSON escapes what it must); the table
shows every cell and line escaped to printable ASCII, so that no value from the cluster can
start a line of its own (a forged "in sync with Git") or reach the terminal as a control.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bgrender.colors import COLORS, Color, other
from bgrender.errors import escape
from bgrender.labels import RELEASE, release_id, version_label_value
from bgrender.lock.lockfile import UNRELEASED
from bgrender.plan.plan import Plan
from bgrender.routing import expect


@dataclass(frozen=True)
class LiveDeployment:
    """One color's Deployment as the cluster has it."""

    name: str
    version: str | None  # pod template annotation bgrender.io/version, else the version label
    version_source: str | None  # "annotation", "label", or None when neither is there
    replicas: int  # desired: spec.replicas
    ready_replicas: int
    rollout_pending: str | None  # why the rollout is not finished; None when every pod runs the template
    release: str | None = None  # pod template label bgrender.io/release (12 hex of the lock entry's digest)
    images: tuple[tuple[str, str], ...] | None = None  # (container, image) of each container, sorted; None: not read


@dataclass(frozen=True)
class LiveRouting:
    """The app's routing object (VirtualService, HTTPRoute or Service) as the cluster has it."""

    kind: str
    name: str
    found: bool
    api_version: str | None  # the API version that answered
    production: Color | None  # the color it sends production traffic to
    note: str | None  # why production is None (no such object, the API not served, a split, ...)
    share: int = 0  # percent of production the other color gets live (a weighted step, DESIGN §18)


@dataclass(frozen=True)
class LiveAutoscaler:
    """One color's HorizontalPodAutoscaler as the cluster has it."""

    name: str
    min_replicas: int
    max_replicas: int
    current_replicas: int  # status.currentReplicas: the pods it last saw
    desired_replicas: int  # status.desiredReplicas: the pods it last asked for


@dataclass(frozen=True)
class LiveState:
    namespace: str
    deployments: dict[Color, LiveDeployment | None]  # None: no such Deployment
    routing: LiveRouting
    # Only the colors Git gives an HPA (expected_autoscalers); None: no such HPA live.
    autoscalers: dict[Color, LiveAutoscaler | None] = field(default_factory=dict)


def pod_images(pod: dict[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    """(container name, image) of every container and init container of a pod spec, sorted:
    what a `kubectl set image` changes without touching any label or annotation. Malformed
    when the spec is not what the API serves."""
    images = []
    for key in ("initContainers", "containers"):
        for container in expect(pod.get(key) or [], list, f"{where}.{key}"):
            container = expect(container, dict, f"{where}.{key}[]")
            images.append((expect(container.get("name", ""), str, f"{where}.{key}[].name"),
                           expect(container.get("image") or "", str, f"{where}.{key}[].image")))
    return tuple(sorted(images))


def expected_autoscalers(plan: Plan) -> dict[Color, str]:
    """The HPA Git gives each color, by name (its Deployment's): cluster.py reads only these."""
    return {color: git[0] for color in COLORS if (git := _git_autoscaler(plan, color))}


def _git_autoscaler(plan: Plan, color: Color) -> tuple[str, tuple[int, int]] | None:
    """The name and bounds of the HPA Git gives the color: with spec.autoscaling, unless the
    color has no version or runs 0 replicas."""
    cp = plan.colors.get(color)
    return None if cp is None or cp.bounds is None else (plan.deployment_name(color), cp.bounds)


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


def build_report(plan: Plan, live: LiveState, *, unreleased: bool = False) -> dict[str, Any]:
    """The `status --output json` document; `inSync` is true only when nothing drifts.

    `unreleased`: the base or its config holds changes no color runs yet (pipeline.py's
    unreleased_base_changes). That is Git ahead of its own releases, not the cluster apart
    from Git, so it is reported beside the drift and does not count as drift.
    """
    drift = drift_reasons(plan, live)
    return {
        "app": plan.intent.name,
        "namespace": live.namespace,
        "active": {"git": plan.intent.active, "live": live.routing.production},
        "traffic": {"git": weights(plan.intent.active, git_share(plan)),
                    "live": weights(live.routing.production, live.routing.share)},
        "colors": {color: _color_report(plan, live, color) for color in COLORS},
        "inSync": not drift,
        "routing": {
            "kind": live.routing.kind,
            "name": live.routing.name,
            "found": live.routing.found,
            "apiVersion": live.routing.api_version,
            "note": live.routing.note,
        },
        "drift": drift,
        "unreleasedBaseChanges": unreleased,
    }


def _color_report(plan: Plan, live: LiveState, color: Color) -> dict[str, Any]:
    deployment = live.deployments[color]
    return {
        "gitVersion": plan.intent.versions[color],
        "liveVersion": deployment.version if deployment else None,
        "replicas": deployment.replicas if deployment else 0,
        "readyReplicas": deployment.ready_replicas if deployment else 0,
        "deployment": plan.deployment_name(color),
        "found": deployment is not None,
        "rolledOut": deployment is None or deployment.rollout_pending is None,
        "state": _state(plan, live, color),
        "autoscaler": _autoscaler_report(plan, live, color),
    }


def _autoscaler_report(plan: Plan, live: LiveState, color: Color) -> dict[str, Any] | None:
    """The color's HPA in Git and live; None when Git gives the color none."""
    git = _git_autoscaler(plan, color)
    if git is None:
        return None
    name, (low, high) = git
    hpa = live.autoscalers.get(color)
    return {
        "name": name,
        "git": {"minReplicas": low, "maxReplicas": high},
        "live": None if hpa is None else {"minReplicas": hpa.min_replicas, "maxReplicas": hpa.max_replicas,
                                          "currentReplicas": hpa.current_replicas,
                                          "desiredReplicas": hpa.desired_replicas},
    }


def git_share(plan: Plan) -> int:
    """The percent of production Git gives the idle color (spec.traffic; 0 without it)."""
    idle = plan.colors.get(other(plan.intent.active))
    return 0 if idle is None else idle.share


def weights(production: Color | None, share: int) -> dict[str, int] | None:
    """Percent of production per color that gets any: {"blue": 90, "green": 10}; None: unknown."""
    if production is None:
        return None
    return {production: 100 - share, other(production): share} if share else {production: 100}


def _shown_weights(production: Color, share: int) -> str:
    """"blue 90%, green 10%", or "blue 100%"."""
    return ", ".join(f"{color} {percent}%" for color, percent in (weights(production, share) or {}).items())


def _role(routing: LiveRouting, color: Color) -> str:
    if routing.production is not None and routing.share:
        percent = 100 - routing.share if routing.production == color else routing.share
        return f"production {percent}%"
    return "production" if routing.production == color else "idle"


def _state(plan: Plan, live: LiveState, color: Color) -> str:
    """A few words for the table: the live role of the color, then what differs from Git."""
    deployment = live.deployments[color]
    if deployment is None:
        return "missing" if plan.intent.versions[color] else "not deployed"
    words = [_role(live.routing, color)]
    if not _same_version(plan.intent.versions[color], deployment):
        words.append("version differs")
    elif not _same_release(plan, color, deployment):
        words.append("release differs")
    if deployment.rollout_pending:
        words.append("rolling out")
    return ", ".join(words)


def drift_reasons(plan: Plan, live: LiveState) -> list[str]:
    """Every way the cluster differs from Git, one short sentence each; empty when in sync."""
    reasons = _routing_drift(plan, live.routing)
    for color in COLORS:
        reasons += _color_drift(plan, live, color) + _autoscaler_drift(plan, live, color)
    return reasons


def _routing_drift(plan: Plan, routing: LiveRouting) -> list[str]:
    git, share = plan.intent.active, git_share(plan)
    if routing.production == git and routing.share == share:
        return []
    if routing.production is not None and (share or routing.share):
        return [f"production traffic goes {_shown_weights(routing.production, routing.share)} live, but Git says "
                f"{_shown_weights(git, share)}"]
    if routing.production is not None:
        return [f"production traffic goes to {routing.production} live, but Git says active: {git}"]
    return [f"no live production color for Git's active: {git} ({routing.note})"]


def _color_drift(plan: Plan, live: LiveState, color: Color) -> list[str]:
    git = plan.intent.versions[color]
    deployment = live.deployments[color]
    name = plan.deployment_name(color)
    if deployment is None:
        return [f"{color}: Deployment {name} not found, Git has version {git}"] if git else []
    reasons = []
    if not _same_version(git, deployment):
        reasons.append(f"{color}: runs {_show(deployment.version)}, Git has {_show(git)}")
    elif not _same_release(plan, color, deployment):
        reasons.append(f"{color}: runs release {_show(deployment.release, 'none')} of {git} ({RELEASE}), Git has "
                       f"release {_git_release(plan, color)} (a config-only release not synced yet?)")
    else:
        reasons += _image_drift(plan, color, deployment)
    # A template that says the Git version is not yet what users get while old pods remain.
    if deployment.rollout_pending:
        reasons.append(f"{color}: rollout not finished ({deployment.rollout_pending})")
    return reasons


def _autoscaler_drift(plan: Plan, live: LiveState, color: Color) -> list[str]:
    """An HPA Git gives the color that is missing live, or that scales within other bounds (the
    idle color's, say, on the color that now serves production)."""
    git = _git_autoscaler(plan, color)
    if git is None:
        return []
    name, bounds = git
    hpa = live.autoscalers.get(color)
    if hpa is None:
        return [f"{color}: HorizontalPodAutoscaler {name} not found, Git has one scaling {_range(bounds)}"]
    if (hpa.min_replicas, hpa.max_replicas) != bounds:
        return [f"{color}: HorizontalPodAutoscaler {name} scales {_range((hpa.min_replicas, hpa.max_replicas))} "
                f"live, Git has {_range(bounds)}"]
    return []


def _range(bounds: tuple[int, int]) -> str:
    return f"{bounds[0]}-{bounds[1]}"


def _same_version(git: str | None, deployment: LiveDeployment) -> bool:
    """A Deployment without the version annotation is compared by its label, where a digest is
    shortened."""
    if git is None or deployment.version is None:
        return git == deployment.version
    if deployment.version_source == "label":
        return deployment.version == version_label_value(git)
    return deployment.version == git


def _git_release(plan: Plan, color: Color) -> str | None:
    cp = plan.colors.get(color)
    return None if cp is None else release_id(cp.entry.digest)


def _same_release(plan: Plan, color: Color, deployment: LiveDeployment) -> bool:
    """Whether the live pod template is the release Git pins (two releases of one version differ
    only here)."""
    git = _git_release(plan, color)
    return git is None or deployment.release == git


def _image_drift(plan: Plan, color: Color, deployment: LiveDeployment) -> list[str]:
    """Containers whose live image is not the one the color's release pins: a `kubectl set
    image` keeps every label and annotation, so only the images tell."""
    cp = plan.colors.get(color)
    if cp is None or deployment.images is None:
        return []
    pinned = dict(pod_images(cp.entry.template.get("spec") or {}, "template.spec"))
    return [f"{color}: container {name} runs {image}, Git has {pinned.get(name, 'no such container')}"
            for name, image in deployment.images if pinned.get(name) != image] + [
            f"{color}: container {name} is not running live, Git has {image}"
            for name, image in sorted(pinned.items()) if name not in dict(deployment.images)]


def _show(version: str | None, none: str = "no version") -> str:
    return version if version is not None else none


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
    autoscaled = any(report["colors"][color]["autoscaler"] for color in COLORS)
    header = ["COLOR", "GIT VERSION", "LIVE VERSION", "READY"] + (["HPA"] if autoscaled else []) + ["STATE"]
    lines += _align([header] + [[_cell(cell) for cell in _color_row(color, report, autoscaled)] for color in COLORS])
    lines.append("")
    if report["inSync"]:
        lines.append("in sync with Git")
    else:
        lines.append("NOT in sync with Git:")
        lines += [f"  - {_cell(reason, LINE_LIMIT)}" for reason in report["drift"]]
    if report["unreleasedBaseChanges"]:
        lines.append(f"note: {UNRELEASED}")
    return "\n".join(lines)


def _cell(text: str, limit: int = CELL_LIMIT) -> str:
    """Text for one cell of the table: one line of printable ASCII, cut short."""
    return escape(text if len(text) <= limit else text[:limit] + "...")


def _production_cell(report: dict[str, Any]) -> str:
    route = report["routing"]
    where = f"{route['kind']} {route['name']}, {route['apiVersion']}" if route["found"] else ""
    where = "; ".join(part for part in (where, route["note"]) if part)
    git, live = (_percents(report["traffic"][side]) for side in ("git", "live"))
    return f"git: {git or report['active']['git']}  live: {live or report['active']['live'] or '-'}  ({where})"


def _percents(weights: dict[str, int] | None) -> str | None:
    """"blue 90%, green 10%" for a split; None for one color or none (shown by name)."""
    if not weights or len(weights) == 1:
        return None
    return ", ".join(f"{color} {percent}%" for color, percent in weights.items())


def _color_row(color: Color, report: dict[str, Any], autoscaled: bool) -> list[str]:
    row = report["colors"][color]
    ready = f"{row['readyReplicas']}/{row['replicas']}" if row["found"] else "-"
    hpa = [_autoscaler_cell(row["autoscaler"])] if autoscaled else []
    return [color, row["gitVersion"] or "-", row["liveVersion"] or "-", ready, *hpa, row["state"]]


def _autoscaler_cell(autoscaler: dict[str, Any] | None) -> str:
    """current/desired replicas (min-max), as the HPA has them live."""
    if autoscaler is None:
        return "-"
    live = autoscaler["live"]
    if live is None:
        return "missing"
    return f"{live['currentReplicas']}/{live['desiredReplicas']} ({live['minReplicas']}-{live['maxReplicas']})"


def _align(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
