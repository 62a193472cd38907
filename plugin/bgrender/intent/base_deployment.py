"""The base Deployment both colors are copied from: a file bluegreen.yaml names, or one
built around an inline PodTemplateSpec. Checked here, so the render can trust it; the file
itself is read by app/reading.py.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.errors import InvalidInput, Problem, quote
from bgrender.images import image_repository
from bgrender.intent import spec
from bgrender.intent.intent import Intent
from bgrender.labels import ORDER_ANNOTATIONS
from bgrender.record import Record
from bgrender.yamlfile.document import Document, Path, copy_data, get_in

if TYPE_CHECKING:
    from typing import Any

_TEMPLATE: Path = ("spec", "template")


class Base(Record):
    manifest: dict[str, Any]
    doc: Document  # positions for problems: the base file, or bluegreen.yaml for an inline template
    name: str
    app_labels: dict[str, str]
    container_index: int
    container_port: int | None  # the app container's only containerPort, if it declares one
    ports: tuple[tuple[int, str | None], ...]  # every port the app container declares: (containerPort, name)


def check_base(intent: Intent, intent_doc: Document, base_doc: Document | None) -> Base:
    """The Base: the file's document (`base_doc`, read by app/reading.py), or for an inline
    template one built around it; InvalidInput with every problem."""
    if base_doc is None:
        manifest, doc = _from_template(intent), intent_doc
    else:
        manifest, doc = base_doc.data, base_doc
    problems = _deployment_problems(manifest, doc, intent)
    if problems:
        raise InvalidInput(problems)
    index, problems = _app_container(manifest, doc, intent, intent_doc)
    if problems:
        raise InvalidInput(problems)
    container = manifest["spec"]["template"]["spec"]["containers"][index]
    return Base(
        manifest=manifest,
        doc=doc,
        name=manifest["metadata"]["name"],
        app_labels=dict(manifest["spec"]["selector"]["matchLabels"]),
        container_index=index,
        container_port=_only_container_port(container),
        ports=_declared_ports(container),
    )


def _from_template(intent: Intent) -> dict[str, Any]:
    # The selector must never change, so it comes from the app name alone, not from
    # template labels a user may edit later.
    template = copy_data(intent.template) or {}
    metadata = template.setdefault("metadata", {}) if isinstance(template, dict) else {}
    labels = metadata.setdefault("labels", {}) if isinstance(metadata, dict) else {}
    if isinstance(labels, dict):
        labels.setdefault("app", intent.name)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": intent.name, "labels": {"app": intent.name}},
        "spec": {"selector": {"matchLabels": {"app": intent.name}}, "template": template},
    }


def _deployment_problems(d: Any, doc: Document, intent: Intent) -> list[Problem]:
    if not isinstance(d, dict):
        return [doc.problem((), "must be a Deployment (a mapping)")]
    if (d.get("apiVersion"), d.get("kind")) != ("apps/v1", "Deployment"):
        return [doc.problem((), f'must be an apps/v1 Deployment, got apiVersion {quote(d.get("apiVersion"))} '
                                f'and kind {quote(d.get("kind"))}')]
    problems = _shape_problems(d, doc)
    if problems:
        return problems
    return (_metadata_problems(d, doc, intent) + _selector_problems(d, doc, intent)
            + _replicas_problems(d, doc))


def _shape_problems(d: dict, doc: Document) -> list[Problem]:
    """The fields the render reads must have the right types before anything else is looked at."""
    for path in [("metadata",), ("spec",), ("spec", "selector")]:
        value = get_in(d, path)
        if not isinstance(value, dict):
            return [doc.problem(path, "required mapping is missing" if value is None else "must be a mapping")]
    problems = []
    for path in [("metadata", "labels"), ("metadata", "annotations")]:
        if not _string_map(get_in(d, path)):
            problems.append(doc.problem(path, "must be a mapping of keys to string values"))
    return problems + template_problems(d["spec"].get("template"), doc, _TEMPLATE)


def template_problems(template: Any, doc: Document, at: Path) -> list[Problem]:
    """The shape of a pod template a color runs, `at` in `doc`: the base's, and every one the
    lock pins (a forged entry whose digest was recomputed is refused here, not by the API
    server in a later wave of the sync)."""
    for path in [(), ("metadata",), ("spec",)]:
        value = get_in(template, path)
        if not isinstance(value, dict):
            return [doc.problem(at + path, "required mapping is missing" if value is None else "must be a mapping")]
    problems = [doc.problem(at + path, "must be a mapping of keys to string values")
                for path in [("metadata", "labels"), ("metadata", "annotations")]
                if not _string_map(get_in(template, path))]
    containers = template["spec"].get("containers")
    if not isinstance(containers, list) or not containers:
        return [doc.problem(at + ("spec", "containers"), "must be a non-empty list of containers")]
    for i, container in enumerate(containers):
        if not isinstance(container, dict) or not isinstance(container.get("name"), str):
            problems.append(doc.problem(at + ("spec", "containers", i), "must be a container with a name"))
    return problems


def order_problems(metadata: dict[str, Any], doc: Document, at: Path) -> list[Problem]:
    """Annotations that would take an object out of the order bgrender's sync waves set."""
    annotations = metadata.get("annotations")
    return [doc.problem(at + ("annotations", key), message, key=True) for key, message in ORDER_ANNOTATIONS.items()
            if isinstance(annotations, dict) and key in annotations]


def labels_problems(template: dict[str, Any], selector: dict[str, str], doc: Document, at: Path) -> list[Problem]:
    """A pod template must carry every label of its Deployment's selector."""
    labels = template["metadata"].get("labels")
    if isinstance(labels, dict) and all(labels.get(k) == v for k, v in selector.items()):
        return []
    return [doc.problem(at + ("metadata", "labels"), "must contain every label of spec.selector.matchLabels")]


def _string_map(value: Any) -> bool:
    """Absent, or a mapping of keys to strings (labels, annotations)."""
    return value is None or (isinstance(value, dict) and all(isinstance(v, str) for v in value.values()))


def _metadata_problems(d: dict, doc: Document, intent: Intent) -> list[Problem]:
    meta = d["metadata"]
    problems = []
    name = meta.get("name")
    if not isinstance(name, str) or not spec.matches(spec.DNS_LABEL, name) or len(name) > spec.NAME_FOR_COLOR:
        problems.append(doc.problem(("metadata", "name"), "must be a DNS-1123 label of at most "
                                    f"{spec.NAME_FOR_COLOR} characters, so that \"<name>-green\" is one"))
    namespace = meta.get("namespace")
    if namespace is not None and namespace != intent.namespace:
        problems.append(doc.problem(("metadata", "namespace"), "must not differ from bluegreen.yaml's "
                                    "metadata.namespace; set the namespace there (or leave both unset)"))
    return (problems + order_problems(meta, doc, ("metadata",))
            + order_problems(d["spec"]["template"]["metadata"], doc, _TEMPLATE + ("metadata",)))


def _selector_problems(d: dict, doc: Document, intent: Intent) -> list[Problem]:
    selector = d["spec"]["selector"]
    match = selector.get("matchLabels")
    path: Path = ("spec", "selector", "matchLabels")
    if "matchExpressions" in selector:
        return [doc.problem(("spec", "selector", "matchExpressions"),
                            "is not supported: bgrender adds the color to matchLabels")]
    if not isinstance(match, dict) or not match or not all(isinstance(v, str) for v in match.values()):
        return [doc.problem(path, "must be a non-empty mapping of label keys to string values")]
    problems = labels_problems(d["spec"]["template"], match, doc, _TEMPLATE)
    for where in [path, ("metadata", "labels"), ("spec", "template", "metadata", "labels")]:
        labels = get_in(d, where)
        for key in (intent.color_label, intent.version_label):
            if isinstance(labels, dict) and key in labels:
                problems.append(doc.problem(where + (key,), f"already uses the label key {quote(key)}, which "
                                            "bgrender sets; remove it or choose other keys in spec.labels",
                                            key=True))
    return problems


def _replicas_problems(d: dict, doc: Document) -> list[Problem]:
    replicas = d["spec"].get("replicas")
    if replicas is not None and (isinstance(replicas, bool) or not isinstance(replicas, int)
                                 or not 0 <= replicas <= spec.INT32_MAX):
        return [doc.problem(("spec", "replicas"), f"must be an integer from 0 to {spec.INT32_MAX} (int32)")]
    return []


def _app_container(d: dict, doc: Document, intent: Intent, intent_doc: Document) -> tuple[int, list[Problem]]:
    """Index of the container that runs spec.image."""
    containers = d["spec"]["template"]["spec"]["containers"]
    names = [c["name"] for c in containers]
    if intent.container is not None:
        if intent.container in names:
            return names.index(intent.container), []
        return -1, [intent_doc.problem(("spec", "container"), f"the base has no container {quote(intent.container)}"
                                       f" (it has {_listed(names)})")]
    if len(containers) == 1:
        return 0, []
    same_repo = [i for i, c in enumerate(containers) if image_repository(c.get("image")) == intent.image]
    if len(same_repo) == 1:
        return same_repo[0], []
    return -1, [intent_doc.problem(("spec",), f"cannot tell which container runs {intent.image}; set "
                                              f"spec.container to one of {_listed(names)}")]


def _listed(names: list[str]) -> str:
    return ", ".join(map(quote, names[:10])) + (", ..." if len(names) > 10 else "")


def _only_container_port(container: dict) -> int | None:
    ports = container.get("ports")
    if isinstance(ports, list) and len(ports) == 1 and isinstance(ports[0], dict):
        port = ports[0].get("containerPort")
        if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536:
            return port
    return None


def _declared_ports(container: dict) -> tuple[tuple[int, str | None], ...]:
    ports = container.get("ports")
    return tuple((p["containerPort"], p.get("name") if isinstance(p.get("name"), str) else None)
                 for p in (ports if isinstance(ports, list) else []) if isinstance(p, dict)
                 and isinstance(p.get("containerPort"), int) and not isinstance(p["containerPort"], bool))


def pinned_ports(base: Base, template: Any, image: str) -> Base:
    """The base as far as ports go, with the app container's ports as a pinned pod template
    declares them (DESIGN §15: the traffic path is part of a release). The app container is the
    one running `image` (a release sets it), the base's app container by name if several do."""
    pod = template.get("spec") if isinstance(template, dict) else None
    containers = pod.get("containers") if isinstance(pod, dict) else None
    running = [c for c in (containers if isinstance(containers, list) else [])
               if isinstance(c, dict) and image_repository(c.get("image")) == image]
    name = base.manifest["spec"]["template"]["spec"]["containers"][base.container_index]["name"]
    container = next((c for c in running if c.get("name") == name), running[0] if running else None)
    if container is None:
        return base
    return base.replace(container_port=_only_container_port(container), ports=_declared_ports(container))


def target_port(base: Base, requested: int | str | None, port: int | None) -> tuple[int | str | None, str | None]:
    """The app container's port behind the Service, or why there is none to choose.

    `requested` (spec.service.targetPort) must be a port the app container declares, by number
    or by name. Without it: the container's only port; else the Service port, which must then
    be one the container declares, so the Service never targets a port no container opens.
    A container that declares no ports is taken at its word (declaring them is optional)."""
    numbers, names = [n for n, _ in base.ports], [name for _, name in base.ports if name]
    declared = ", ".join([str(n) for n in numbers[:10]] + [quote(n) for n in names[:10]])
    if requested is not None:
        undeclared_number = not base.ports and isinstance(requested, int)
        if undeclared_number or requested in (names if isinstance(requested, str) else numbers):
            return requested, None
        return None, f"the app container declares no port {quote(str(requested))}" + (
            f" (it declares {declared})" if declared else " (it declares none)")
    if base.container_port is not None or port is None or not base.ports or port in numbers:
        return base.container_port or port, None
    return None, (f"the app container declares several ports ({declared}) and not this one; set "
                  "spec.service.targetPort to the one the Service sends traffic to")


