"""A color's pod template: the one place it is made. From the current base, when a color is
released (DESIGN §4, §9): Jinja applied, the color and version labels, the version
annotation, the image set on the app container (and init containers of the same image),
spec.configMaps renamed to their hashed names. The lock pins the result as the color's entry.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.images import image_reference, image_repository
from bgrender.intent.configmaps import ConfigMap, mount
from bgrender.intent.versioned import mount as mount_versions
from bgrender.labels import VERSION_ANNOTATION, selector_labels, template_labels
from bgrender.lock.lockfile import Entry, new_entry
from bgrender.plan.templating import expand
from bgrender.yamlfile.document import copy_data

if TYPE_CHECKING:
    from bgrender.colors import Color
    from bgrender.errors import Problem
    from bgrender.intent.base_deployment import Base
    from bgrender.intent.intent import Intent
    from bgrender.intent.versioned import Versioned
    from bgrender.yamlfile.document import Path

_TEMPLATE: Path = ("spec", "template")


def pin_color(intent: Intent, base: Base, config: dict[str, ConfigMap], namespace: str | None, color: Color,
              version: str, versions: tuple[Versioned, ...] = ()) -> tuple[Entry | None, list[Problem]]:
    """The entry `color` gets when `version` is released to it from the current base and
    config (spec.configMaps, read: `config` is keyed by the name the pod template uses) and the
    current versions of the versioned resources."""
    template, problems = expand(base.manifest["spec"]["template"], template_context(intent, namespace, color, version),
                                lambda path, message: base.doc.problem(_TEMPLATE + path, message), at=_TEMPLATE,
                                text=base.doc.text)
    if problems:
        return None, problems
    template = dict(template)
    metadata = template["metadata"] = dict(template["metadata"])
    metadata["labels"] = template_labels(metadata["labels"], intent.color_label, color, intent.version_label, version)
    metadata["annotations"] = {**(metadata.get("annotations") or {}), VERSION_ANNOTATION: version}
    pod = template["spec"] = dict(template["spec"])
    image = image_reference(intent.image, version)
    containers = pod["containers"] = list(pod["containers"])
    containers[base.container_index] = {**containers[base.container_index], "image": image}
    if isinstance(pod.get("initContainers"), list):
        # Init steps run from the app's own image (migrations, ...) belong to the same release.
        pod["initContainers"] = [{**init, "image": image} if isinstance(init, dict) and
                                 image_repository(init.get("image")) == intent.image else init
                                 for init in pod["initContainers"]]
    def locate(path: Path, message: str) -> Problem:
        return base.doc.problem(_TEMPLATE + path, message)

    template, pinned, problems = mount(template, config, locate)
    template, versioned, more = mount_versions(copy_data(template) if versions else template, versions, locate)
    if problems or more:
        return None, problems + more
    return new_entry(version, selector_labels(base.app_labels, intent.color_label, color), template, pinned,
                     versioned), []


def template_context(intent: Intent, namespace: str | None, color: Color, version: str) -> dict[str, str]:
    """The names a template in the base may use: one color's, never which color is active."""
    context = {"name": intent.name, "color": color, "version": version,
               "image": image_reference(intent.image, version)}
    if namespace:
        context["namespace"] = namespace
    return context
