"""The app's objects beside its Deployments (DESIGN §11): spec.resources, spec.configMaps, an
HPA and a PodDisruptionBudget per color.

- intent.py builds the spec records below and asks `relation_problems` for the rules that
  relate fields (spec.py checks the shape);
- pipeline.py calls `load_companions` after the base: the one place their files are read,
  through files.py and yamldoc.py, with the base's guards and one budget for all of them;
- render.py calls `companion_objects` with the objects it generated.

Nothing here reads the cluster; only `load_companions` reads files.
"""

from __future__ import annotations

import os

from bgrender import TYPE_CHECKING, waves
from bgrender.app.files import read_named_file, shown_beside, unsafe_path_reason
from bgrender.errors import InvalidInput, Problem, quote
from bgrender.intent.configmaps import MAX_DATA_BYTES, ConfigMap, data_bytes, hashed_name
from bgrender.intent.resources import Resource, check_documents, emitted
from bgrender.intent.spec import CONFIG_KEY, METRIC_TYPES, matches
from bgrender.labels import SYNC_OPTIONS, metadata, selector_labels
from bgrender.record import Record
from bgrender.yamlfile.document import Document, load_streams
from bgrender.yamlfile.dump import MAX_OUTPUT_BYTES

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from bgrender.intent.base_deployment import Base
    from bgrender.intent.intent import Intent
    from bgrender.plan.plan import ColorPlan, Plan

    Get = Callable[..., Any]  # rules.Fields.get: a value by path, None if missing or broken

# Everything spec.resources and spec.configMaps read, together. It all ends up in the render,
# whose output is capped, so more could never render; the cap keeps a list of a hundred 1 MiB
# files from being read at all.
MAX_COMPANION_BYTES = MAX_OUTPUT_BYTES


class ConfigMapSpec(Record):
    name: str
    files: tuple[str, ...]
    data: dict[str, str]


class Autoscaling(Record):
    min_replicas: int
    max_replicas: int
    metrics: list[dict[str, Any]] | None
    behavior: dict[str, Any] | None


class Companions(Record):
    """The companion files, read and checked."""

    config_maps: dict[str, ConfigMap]  # by the name the pod template uses
    resources: tuple[Resource, ...]


NONE = Companions({}, ())


# --- from bluegreen.yaml ----------------------------------------------------------------------


def config_map_specs(raw: list[dict[str, Any]]) -> tuple[ConfigMapSpec, ...]:
    return tuple(ConfigMapSpec(c["name"], tuple(c.get("files", ())), dict(c.get("data", {}))) for c in raw)


def autoscaling_of(raw: dict[str, Any] | None) -> Autoscaling | None:
    if raw is None:
        return None
    return Autoscaling(raw["minReplicas"], raw["maxReplicas"], raw.get("metrics"), raw.get("behavior"))


# The rules relating fields of spec.configMaps, spec.resources, spec.autoscaling and
# spec.podDisruptionBudget; rules.py collects them with the others.


def path_problems(doc: Document, paths: Any, at: tuple = ("spec", "resources")) -> list[Problem]:
    if not isinstance(paths, list):
        return []
    return [doc.problem(at + (i,), reason) for i, path in enumerate(paths)
            if isinstance(path, str) and (reason := unsafe_path_reason(path))]


def config_map_problems(doc: Document, config_maps: Any) -> list[Problem]:
    if not isinstance(config_maps, list):
        return []
    problems, names = [], {}
    for i, entry in enumerate(config_maps):
        at = ("spec", "configMaps", i)
        if not isinstance(entry, dict):
            continue
        if entry.get("files") is None and entry.get("data") is None:
            problems.append(doc.problem(at, "set files, data or both"))
        if isinstance(entry.get("name"), str) and names.setdefault(entry["name"], i) != i:
            problems.append(doc.problem(at + ("name",), f"{quote(entry['name'])} is declared twice (also at "
                                                        f"spec.configMaps[{names[entry['name']]}])"))
        problems += path_problems(doc, entry.get("files"), at + ("files",)) + _key_problems(doc, entry, at)
    return problems


def _key_problems(doc: Document, entry: dict[str, Any], at: tuple) -> list[Problem]:
    """Each file is stored under its file name, which must be a ConfigMap key no other file or
    data entry of the ConfigMap uses."""
    files, data = entry.get("files"), entry.get("data")
    keys = set(data) if isinstance(data, dict) else set()
    problems = []
    for i, path in enumerate(files if isinstance(files, list) else []):
        key = os.path.basename(path) if isinstance(path, str) else None
        if key is None or unsafe_path_reason(path):
            continue
        if not matches(CONFIG_KEY, key) or key in (".", ".."):
            problems.append(doc.problem(at + ("files", i), f"the file name {quote(key)} is its key in the "
                                        'ConfigMap, and must be one (letters, digits, "-", "_", ".")'))
        elif key in keys:
            problems.append(doc.problem(at + ("files", i), f"the key {quote(key)} is used twice in this ConfigMap"))
        keys.add(key)
    return problems


def autoscaling_problems(doc: Document, get: Get) -> list[Problem]:
    scaling = get("spec", "autoscaling")
    if not isinstance(scaling, dict):
        return []
    at = ("spec", "autoscaling")
    problems = []
    low, high = get(*at, "minReplicas"), get(*at, "maxReplicas")
    if isinstance(low, int) and isinstance(high, int) and high < low:
        problems.append(doc.problem(at + ("maxReplicas",), f"must be at least minReplicas ({low}), got {high}"))
    if get("spec", "replicas") is not None:
        problems.append(doc.problem(("spec", "replicas"), "is set by the HPA with spec.autoscaling (from minReplicas "
                                                          "to maxReplicas); remove it"))
    for i, metric in enumerate(get("spec", "autoscaling", "metrics") or []):
        problems += _metric_problems(doc, metric, at + ("metrics", i))
    return problems


def _metric_problems(doc: Document, metric: Any, at: tuple) -> list[Problem]:
    """A metric holds exactly the field its type names, and a target the value its type names."""
    if not isinstance(metric, dict) or metric.get("type") not in METRIC_TYPES:
        return []
    field = METRIC_TYPES[metric["type"]]
    problems = [doc.problem(at + (other,), f"does not go with type {metric['type']} (which reads {field})", key=True)
                for other in METRIC_TYPES.values() if other != field and other in metric]
    if field not in metric:
        return problems + [doc.problem(at, f"type {metric['type']} needs {field}")]
    target = metric[field].get("target") if isinstance(metric[field], dict) else None
    wanted = {"Utilization": "averageUtilization", "Value": "value", "AverageValue": "averageValue"}
    needed = wanted.get(target["type"]) if isinstance(target, dict) and isinstance(target.get("type"), str) else None
    if needed is not None and needed not in target:
        problems.append(doc.problem(at + (field, "target"), f"type {target['type']} needs {needed}"))
    return problems


def budget_problems(doc: Document, budget: Any) -> list[Problem]:
    if isinstance(budget, dict) and ("minAvailable" in budget) == ("maxUnavailable" in budget):
        return [doc.problem(("spec", "podDisruptionBudget"), "set exactly one of minAvailable and maxUnavailable")]
    return []


# --- reading the files ------------------------------------------------------------------------


class _Reader:
    """Reads companion files like the base (confined, regular, limited, UTF-8), under one budget
    for all of them; a file that cannot be read is reported at the line of bluegreen.yaml that
    names it."""

    def __init__(self, intent: Intent, intent_doc: Document, app_dir: str):
        self.intent, self.intent_doc, self.app_dir = intent, intent_doc, app_dir
        self.spent = 0
        self.problems: list[Problem] = []

    def read(self, rel: str, at: tuple) -> str | None:
        if self.spent > MAX_COMPANION_BYTES:
            return None
        try:
            text = read_named_file(self.app_dir, rel, shown_beside(self.intent.file, rel),
                                   lambda message: self.intent_doc.problem(at, message))
        except InvalidInput as err:
            self.problems += err.problems
            return None
        self.spent += len(text)
        if self.spent > MAX_COMPANION_BYTES:
            self.problems.append(self.intent_doc.problem(at, f"spec.resources and spec.configMaps read more than "
                                                             f"{MAX_COMPANION_BYTES // 2**20} MiB in all; that "
                                                             "cannot render (keep large data out of Git manifests)"))
            return None
        return text


def load_companions(intent: Intent, intent_doc: Document, base: Base, app_dir: str) -> Companions:
    """Read and check spec.configMaps' files and spec.resources; InvalidInput with every problem."""
    if not intent.config_maps and not intent.resources:
        return NONE
    reader = _Reader(intent, intent_doc, app_dir)
    config_maps = {spec.name: _config_map(reader, spec, i) for i, spec in enumerate(intent.config_maps)}
    read = [(i, shown_beside(intent.file, rel), reader.read(rel, ("spec", "resources", i)))
            for i, rel in enumerate(intent.resources)]
    read = [(i, file, text) for i, file, text in read if text is not None]
    try:
        streams = load_streams([(text, file) for _, file, text in read])
    except InvalidInput as err:  # report the files that could not be read along with those that did not parse
        raise InvalidInput(reader.problems + err.problems) from err
    problems = reader.problems + [intent_doc.problem(("spec", "resources", i), f"{file}: holds no Kubernetes object")
                                  for (i, file, _), docs in zip(read, streams) if not docs]
    resources, found = check_documents([d for docs in streams for d in docs], intent.namespace, base.app_labels,
                                       base.name)
    if problems or found:
        raise InvalidInput(problems + found)
    return Companions({k: v for k, v in config_maps.items() if v is not None}, tuple(resources))


def _config_map(reader: _Reader, spec: ConfigMapSpec, index: int) -> ConfigMap | None:
    at = ("spec", "configMaps", index)
    data = dict(spec.data)
    for i, rel in enumerate(spec.files):
        text = reader.read(rel, at + ("files", i))
        if text is not None:
            data[os.path.basename(rel)] = text
    if data_bytes(data) > MAX_DATA_BYTES:
        reader.problems.append(reader.intent_doc.problem(at, f"holds more than {MAX_DATA_BYTES // 2**20} MiB, the "
                                                             "most a ConfigMap may hold"))
        return None
    return ConfigMap(spec.name, hashed_name(spec.name, data), data, reader.intent_doc.problem(at + ("name",), ""))


# --- the objects --------------------------------------------------------------------------------


def companion_objects(plan: Plan, generated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ConfigMaps the colors pin, an HPA and a PDB per color, and spec.resources, checked
    against `generated` (the objects bgrender makes besides these)."""
    ours = config_map_objects(plan) + [obj for cp in plan.colors.values()
                                       for obj in (autoscaler(plan, cp), disruption_budget(plan, cp)) if obj]
    return ours + emitted(list(plan.resources), plan.namespace, generated + ours)


def _meta(plan: Plan, name: str, wave: int, labels: dict[str, str]) -> dict[str, Any]:
    return metadata(name, plan.namespace, labels, wave)


def config_map_objects(plan: Plan) -> list[dict[str, Any]]:
    """Each ConfigMap some deployed color's entry pins, once per hashed name, before any pod
    mounts it. Immutable: its name changes with its content, so its content never changes."""
    pinned = {name: data for cp in plan.colors.values() for name, data in cp.entry.config_maps.items()}
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": _config_map_metadata(plan, name),
             "immutable": True, "data": dict(data)} for name, data in sorted(pinned.items())]


def _config_map_metadata(plan: Plan, name: str) -> dict[str, Any]:
    meta = _meta(plan, name, waves.SHARED, plan.app_labels)
    # Once no color pins it, the sync that replaces its pods prunes it: last, after every wave is
    # healthy, so a pod of the old release that restarts its container meanwhile still finds it.
    meta["annotations"][SYNC_OPTIONS] = "PruneLast=true"
    return meta


def autoscaler(plan: Plan, cp: ColorPlan) -> dict[str, Any] | None:
    """The color's HPA, in its Deployment's wave: the active color's scales within
    spec.autoscaling's bounds, the idle color's is held at idleReplicas."""
    scaling = plan.intent.autoscaling
    if scaling is None or cp.bounds is None:
        return None
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": plan.deployment_name(cp.color)},
        "minReplicas": cp.bounds[0],
        "maxReplicas": cp.bounds[1],
    }
    if scaling.metrics:
        spec["metrics"] = scaling.metrics
    if scaling.behavior:
        spec["behavior"] = scaling.behavior
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": _meta(plan, plan.deployment_name(cp.color), cp.wave, _color_labels(plan, cp)), "spec": spec}


def disruption_budget(plan: Plan, cp: ColorPlan) -> dict[str, Any] | None:
    budget = plan.intent.disruption_budget
    if budget is None:
        return None
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": _meta(plan, plan.deployment_name(cp.color), cp.wave, _color_labels(plan, cp)),
            "spec": {**budget, "selector": {"matchLabels": dict(cp.entry.selector)}}}


def _color_labels(plan: Plan, cp: ColorPlan) -> dict[str, str]:
    return selector_labels(plan.app_labels, plan.intent.color_label, cp.color)
