"""The Plan: everything a render needs, resolved from the intent, its base Deployment, the
lock and the environment. `resolve` settles every default; it is pure (no I/O), like the
render after it. Each color's Deployment is settled by deployment.py.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, names
from bgrender.colors import COLORS, other
from bgrender.errors import InvalidInput
from bgrender.intent.base_deployment import pinned_ports, target_port
from bgrender.intent.env import BGRENDER_IMAGE_VAR, unserved_problem
from bgrender.intent.resources import NONE
from bgrender.intent.spec import PROVIDERS
from bgrender.intent.versioned import pinned
from bgrender.lock.lockfile import Lock, production_problems, recorded, share_problems
from bgrender.plan.deployment import ColorPlan, Source, color_plan
from bgrender.record import Record

if TYPE_CHECKING:
    from bgrender.colors import Color
    from bgrender.errors import Problem
    from bgrender.intent.base_deployment import Base
    from bgrender.intent.env import Options
    from bgrender.intent.intent import Intent
    from bgrender.intent.resources import Companions, Resource
    from bgrender.intent.versioned import Versioned
    from bgrender.lock.lockfile import LockFile
    from bgrender.yamlfile.document import Document


class Capacity(Record):
    """The capacity hook (DESIGN §16): with autoscaling and both colors deployed, the color
    about to take production is first scaled to what production runs now."""

    image: str  # the bgrender image it runs: promotion.image, else $BGRENDER_IMAGE
    problems: tuple[Problem, ...]  # why it cannot be rendered: the render reports them (status needs no image)


class Plan(Record):
    """Everything a render needs, resolved: no defaults left, no I/O left."""

    intent: Intent
    base_name: str  # color Deployments are named "<base_name>-<color>"
    namespace: str | None
    routing_api: str  # the apiVersion of the provider's objects, e.g. "networking.istio.io/v1"
    app_labels: dict[str, str]  # the base selector: selects both colors
    port: int  # the Service port
    target_port: int | str  # the container port behind it, or its name: as the active color's release declares it
    target_ports: dict[Color, int | str]  # each deployed color's, as its release declares it
    colors: dict[Color, ColorPlan]  # only the colors that have a version
    resources: tuple[Resource, ...]  # spec.resources, checked, as written (but the versioned ones)
    versions: tuple[Versioned, ...]  # the versions of versioned resources some deployed color runs
    pins: Lock  # the entries the colors render from, and the production history
    locked: bool  # whether the entries come from bluegreen.lock.yaml (else from the base, now)
    hook_image: str | None = None  # the bgrender image, for hook Jobs that run bgrender (the analysis)
    capacity: Capacity | None = None  # the capacity hook, when the app needs one

    @property
    def active(self) -> Color:
        return self.intent.active

    def deployment_name(self, color: Color) -> str:
        return names.color_deployment(self.base_name, color)


def resolve(intent: Intent, intent_doc: Document, base: Base, options: Options,
            lock_file: LockFile | None = None, companions: Companions = NONE) -> Plan:
    """The Plan. With a lock each color takes its pod template and config from its entry, so an
    edit of the base or the config reaches no color; without one (an app not yet released with
    bgrender) each color is pinned from the base and config now, as its first release will pin
    it."""
    problems: list[Problem] = []
    namespace = intent.namespace or options.namespace
    replicas = _replicas(intent, intent_doc, base, problems)
    routing_api = _routing_api(intent, options, problems)
    hook_image = _hook_image(intent, intent_doc, options, problems)
    source = Source(intent, intent_doc, base, namespace, lock_file, companions.config_maps, replicas,
                    companions.versioned)
    colors: dict[Color, ColorPlan] = {}
    for color in COLORS:
        version = intent.versions[color]
        if version is not None:
            cp, color_problems = color_plan(source, color, version)
            problems += color_problems
            if cp is not None:
                colors[color] = cp
    if lock_file is not None and intent.active in colors:
        problems += production_problems(lock_file, intent_doc, intent.active)
    if lock_file is not None and intent.traffic and other(intent.active) in colors:  # a weighted step
        problems += share_problems(lock_file, intent_doc, other(intent.active))
    port, targets = _ports(intent, intent_doc, base, colors, problems)
    versions = _versions(intent_doc, lock_file, companions, colors, problems)
    if problems:
        raise InvalidInput(problems)
    assert port is not None
    pins = lock_file.lock if lock_file else recorded(Lock({c: cp.entry for c, cp in colors.items()}), intent.active)
    return Plan(intent=intent, base_name=base.name, namespace=namespace, routing_api=routing_api,
                app_labels=base.app_labels, port=port, target_port=targets[intent.active], target_ports=targets,
                colors=colors,
                resources=companions.resources, versions=versions, pins=pins, locked=lock_file is not None,
                hook_image=hook_image,
                capacity=_capacity(intent, intent_doc, options, colors))


def _capacity(intent: Intent, intent_doc: Document, options: Options,
              colors: dict[Color, ColorPlan]) -> Capacity | None:
    """The capacity hook of an app with autoscaling whose colors are both deployed; what keeps
    it from being rendered is kept for the render to report, so `status` resolves without it."""
    if intent.autoscaling is None or len(colors) < len(COLORS):
        return None
    image = bgrender_image(intent, options)
    problems: list[Problem] = []
    if image is None:
        problems.append(intent_doc.problem(("spec", "autoscaling"), "needs the bgrender image for its capacity hook "
                                           "(a Sync hook that scales the color taking production up to what "
                                           "production runs before traffic moves): set spec.promotion.image, or "
                                           f"{BGRENDER_IMAGE_VAR} where bgrender renders (argocd-cm-patch sets it on "
                                           "the sidecar)", key=True))
    return Capacity(image or "", tuple(problems))


def _ports(intent: Intent, intent_doc: Document, base: Base, colors: dict[Color, ColorPlan],
           problems: list[Problem]) -> tuple[int | None, dict[Color, int | str]]:
    """The Service port and, per color, the container port behind it, as each color's release
    declares it (DESIGN §15): a port edited in the base reaches a Service only with a release,
    and a rollback brings the old one back. The base is checked too: the next release pins it."""
    field = ("spec", "service", "port" if intent.target_port is None else "targetPort")
    pinned = {color: pinned_ports(base, cp.entry.template, intent.image) for color, cp in colors.items()}
    active = pinned.get(intent.active, base)
    port = intent.port or active.container_port
    if port is None:
        problems.append(intent_doc.problem(("spec",), "no port to route to: set spec.service.port (the app "
                                                      "container does not declare exactly one containerPort)"))
    targets: dict[Color, int | str] = {}
    _, reason = target_port(base, intent.target_port, intent.port or base.container_port)
    if reason:
        problems.append(intent_doc.problem(field, reason))
        return port, targets
    for color, ports in pinned.items():
        target, reason = target_port(ports, intent.target_port, port)
        if reason:
            problems.append(intent_doc.problem(field, f"{reason}, in the release {color} runs ({colors[color].version}"
                                               "); a port changes with a release: release and promote, or undo "
                                               "the change"))
        elif target is not None:
            targets[color] = target
    return port, targets


def _versions(intent_doc: Document, lock_file: LockFile | None, companions: Companions,
              colors: dict[Color, ColorPlan], problems: list[Problem]) -> tuple[Versioned, ...]:
    """The versions of the versioned resources the deployed colors run: each must still be in
    spec.resources, since the lock holds only its digest (intent/versioned.py)."""
    def locate(color: str, hashed: str, message: str) -> Problem:
        if lock_file is None:  # without a lock, colors run the current versions: never missing
            return intent_doc.problem(("spec", "resources"), message)
        return lock_file.doc.problem(("colors", color, "versioned", hashed), message, key=True)

    found, missing = pinned({c: cp.entry.versioned for c, cp in colors.items()}, companions.versioned, locate)
    problems += missing
    return tuple(found)


def _routing_api(intent: Intent, options: Options, problems: list[Problem]) -> str:
    """The newest API version of the routing provider's objects that the destination serves."""
    provider = PROVIDERS[intent.provider]
    api = options.api_version(provider.group, provider.versions)
    if api is None:
        problems.append(unserved_problem(provider.api, provider.product, provider.group, provider.versions))
    return api or ""


def bgrender_image(intent: Intent, options: Options) -> str | None:
    """The image of the hook Jobs that run bgrender: promotion.image, else $BGRENDER_IMAGE."""
    return intent.bgrender_image or options.bgrender_image


def _hook_image(intent: Intent, intent_doc: Document, options: Options, problems: list[Problem]) -> str | None:
    """The image of the analysis Jobs: promotion.image, else $BGRENDER_IMAGE; none is an error
    when an analysis needs one (fail closed: a gate that cannot run must not vanish)."""
    if intent.analysis is None:
        return None
    image = bgrender_image(intent, options)
    if image is None:
        problems.append(intent_doc.problem(("spec", "promotion", "analysis"), "needs the bgrender image to run its "
                                           "Jobs: set spec.promotion.image, or BGRENDER_IMAGE in the render's "
                                           "environment (the bgrender sidecar's)", key=True))
    return image


def _replicas(intent: Intent, intent_doc: Document, base: Base, problems: list[Problem]) -> int:
    """Replicas of the active color: spec.autoscaling.minReplicas, else spec.replicas, else the
    base's (null counts as absent), else 1; never 0, since the active color serves production."""
    if intent.autoscaling is not None:
        return intent.autoscaling.min_replicas
    if intent.replicas is not None:
        replicas, doc = intent.replicas, intent_doc
    else:
        from_base = base.manifest["spec"].get("replicas")
        replicas, doc = (1 if from_base is None else from_base), base.doc
    if replicas == 0:
        problems.append(doc.problem(("spec", "replicas"), "the active color serves production traffic and "
                                                          "needs at least 1 replica"))
    return replicas
