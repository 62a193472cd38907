"""The base Deployment of an imported app, made from the two colors' live Deployments, for
`bgrender import` (importer.py).

Each color's Deployment loses what is the color's own (name, namespace, replicas, the color
and version labels, the image's tag) and what only a live object has; the two are then merged.
Where they still differ by the color's version or the color itself (the seed's
`commonAnnotations: {version: <sha>}`, an env var naming the version or a per-color
ConfigMap), the base holds a template (`{{ version }}`, `{{ version[:7] }}`, `{{ color }}`), so
that each color renders what it runs; any other difference is reported and the active color's
value kept. Every other string is written so that it renders as itself. Pure.
"""

from __future__ import annotations

import re

from bgrender import TYPE_CHECKING
from bgrender.colors import Color, other
from bgrender.images import image_repository
from bgrender.importing.recognize import Recognized
from bgrender.labels import ORDER_ANNOTATIONS
from bgrender.plan.templating import is_template
from bgrender.record import Record
from bgrender.yamlfile.document import Path, copy_data, dotted

if TYPE_CHECKING:
    from typing import Any

# Fields a live object carries that no manifest in Git should: an export with `kubectl get -o
# yaml` has them, and a base holding them would not apply.
SERVER_FIELDS = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink")
SERVER_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision",
                      "argocd.argoproj.io/tracking-id")
# What a template must write as a template giving it: the markers; a carriage return (Jinja
# reads it as a line break); and a "{" right before a template, which would make "{{{", read
# as "{{" and "{ ...": before a carriage return and, in a piece a template follows, at its end.
_IN_TEMPLATE = re.compile(r"\{[{%#]|\{(?=\r)|\r")
_IN_TEMPLATE_PIECE = re.compile(r"\{[{%#]|\{(?=\r|\Z)|\r")
# Shorter than this, a version found inside a longer string could be anything ("1", "v2").
MIN_VERSION_IN_TEXT = 7


class Pair(Record):
    """What tells the two colors apart, for templates in the base."""

    versions: tuple[str, str]  # active's, idle's
    colors: tuple[Color, Color]


def base_deployment(found: Recognized, name: str) -> tuple[dict[str, Any], list[str]]:
    """The base: both colors' Deployments made color-neutral, merged (the active color's where
    they differ otherwise), renamed; and the paths where the idle color's differs."""
    active, idle = found.routes.active, other(found.routes.active)
    pair = Pair((found.versions[active], found.versions[idle]), (active, idle))
    differences: list[str] = []
    base = _merged(_neutral(found, active), _neutral(found, idle), pair, (), differences)
    base["metadata"] = {"name": name, **{k: v for k, v in base["metadata"].items() if k != "name"}}
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


def _merged(active: Any, idle: Any, pair: Pair, path: Path, differences: list[str]) -> Any:
    """`active` with every string as a literal for the base's templates, except where the
    colors differ by their version or color: there, a template."""
    if isinstance(active, dict) and isinstance(idle, dict):
        if active.keys() != idle.keys():
            differences += [dotted(path + (k,)) for k in sorted(active.keys() ^ idle.keys())]
        return {k: _merged(v, idle.get(k, v), pair, path + (k,), differences) for k, v in active.items()}
    if isinstance(active, list) and isinstance(idle, list) and len(active) == len(idle):
        return [_merged(a, i, pair, path + (n,), differences) for n, (a, i) in enumerate(zip(active, idle))]
    if isinstance(active, str) and isinstance(idle, str):
        template = templated(active, idle, pair)
        if template is not None:
            return template
    if active != idle:
        differences.append(dotted(path))
    return _literals(active)


def templated(active: str, idle: str, pair: Pair) -> str | None:
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
            return f"{{{{ {word} }}}}".join(literal(part, in_template=True) for part in parts)
    return None


def literal(text: str, *, in_template: bool = False) -> str:
    """`text` as it must be written in the base to render as itself. A value holding `{{`, `{%`
    or `{#` would start a template, so it is written as a template giving that text; so is a
    piece of a larger template (`in_template`)."""
    if not in_template and not is_template(text):
        return text
    special = _IN_TEMPLATE_PIECE if in_template else _IN_TEMPLATE
    return special.sub(lambda m: '{{ "' + m.group().replace("\r", "\\r") + '" }}', text)


def _literals(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _literals(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_literals(v) for v in data]
    return literal(data) if isinstance(data, str) else data
