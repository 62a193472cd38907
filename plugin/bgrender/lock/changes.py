"""What differs between two lock entries, in the words a reviewer asks in (DESIGN §15): the
image, the env vars by name, the config keys, the containers whose resources changed, and any
other field.

An entry is flattened into leaves (a path to a string, number or boolean); a list whose items
all have a name (containers, env vars, volumes, ports) is keyed by those names, so that adding
a sidecar does not make every later container "changed". Two normalizations keep a release's
own identity out of the comparison: the version (the image tag, the version label and
annotation) reads as `{version}`, and a ConfigMap's hashed name as its declared name (its data
is compared key by key instead). The image is compared as written, on its own.
Pure: values in, values out.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.errors import escape
from bgrender.labels import version_label_value
from bgrender.record import Record

if TYPE_CHECKING:
    from typing import Any

    from bgrender.lock.lockfile import Entry

    Leaf = tuple[str | int, ...]

_CONTAINER_LISTS = ("containers", "initContainers")


class Changes(Record):
    """What changed, by what a reviewer asks about; every name escaped for one line of text."""

    images: tuple[str, ...] = ()  # "<container> <old> -> <new>"
    env: tuple[str, ...] = ()  # env var names
    config_keys: tuple[str, ...] = ()  # "<ConfigMap>/<key>"
    resources: tuple[str, ...] = ()  # container names
    other: tuple[str, ...] = ()  # dotted paths
    versioned: tuple[str, ...] = ()  # names of versioned resources with another version (never their content)

    def __bool__(self) -> bool:
        return any(self._values())

    def summary(self) -> str:
        """One line: `image: ...; env: ...; config keys: ...; resources: ...` (and `other: ...`)."""
        parts = [("image", self.images), ("env", self.env), ("config keys", self.config_keys),
                 ("resources", self.resources)]
        shown = [f"{what}: {_listed(items) if items else 'unchanged'}" for what, items in parts]
        if self.versioned:
            shown.append(f"versioned: {_listed(self.versioned)}")
        if self.other:
            shown.append(f"other: {_listed(self.other)}")
        return "; ".join(shown)


def changes(old: Entry | None, new: Entry) -> Changes:
    """What running `new` instead of `old` changes (None: nothing ran before)."""
    before, after = (leaves(old) if old else {}), leaves(new)
    paths = [p for p in sorted(set(before) | set(after), key=_order) if before.get(p) != after.get(p)]
    images = tuple(_image_change(name, _images(old).get(name), image)
                   for name, image in sorted(_images(new).items()) if _images(old).get(name) != image)
    return _categorized(paths, images)


def brought_back(production: Entry, rolled_back_from: Entry, candidate: Entry) -> Changes:
    """What of the change production was rolled back from `candidate` would bring back: every
    field where the rolled-back release differed from production and the candidate has what
    the rolled-back release had."""
    now, undone, next_ = leaves(production), leaves(rolled_back_from), leaves(candidate)
    paths = [p for p in sorted(set(now) | set(undone), key=_order)
             if now.get(p) != undone.get(p) and next_.get(p) == undone.get(p)]
    return _categorized(paths, ())


def leaves(entry: Entry) -> dict[Leaf, Any]:
    """The entry as leaves: the template's under ("template", ...), each ConfigMap's keys under
    ("configMaps", <declared name>, <key>); the version and hashed names normalized."""
    names = {hashed: hashed.rpartition("-")[0] for hashed in (*entry.config_maps, *entry.versioned)}
    versions = {entry.version, version_label_value(entry.version)}
    out: dict[Leaf, Any] = {}
    _flatten(entry.template, ("template",), out, lambda v: _normalized(v, versions, names))
    for key in entry.selector:  # the selector's labels (the color among them) are pinned, never a change
        out.pop(("template", "metadata", "labels", key), None)
    for hashed, data in entry.config_maps.items():
        for key, value in data.items():
            out[("configMaps", names[hashed], key)] = value
    for hashed, digest in entry.versioned.items():
        out[("versioned", names[hashed])] = digest
    return out


def _flatten(value: Any, path: Leaf, out: dict[Leaf, Any], norm: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, path + (str(key),), out, norm)
    elif isinstance(value, list) and value and all(isinstance(i, dict) and isinstance(i.get("name"), str)
                                                   for i in value):
        for item in value:
            rest = {k: v for k, v in item.items() if k != "name"}
            _flatten(rest if rest else True, path + (item["name"],), out, norm)  # a bare name is there too
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(item, path + (index,), out, norm)
    else:
        out[path] = norm(value)


def _normalized(value: Any, versions: set[str], names: dict[str, str]) -> Any:
    if not isinstance(value, str):
        return value
    if value in names:
        return names[value]
    for version in versions:
        if value == version:
            return "{version}"
        for mark in (":", "@"):
            if value.endswith(mark + version):
                return value[:-len(version)] + "{version}"
    return value


def _images(entry: Entry | None) -> dict[str, str]:
    """Container name -> image, for every container and init container."""
    pod = (entry.template.get("spec") or {}) if entry else {}
    lists = [pod.get(field) for field in _CONTAINER_LISTS]
    return {str(c["name"]): str(c.get("image")) for containers in lists if isinstance(containers, list)
            for c in containers if isinstance(c, dict) and isinstance(c.get("name"), str)}


def _image_change(container: str, old: str | None, new: str) -> str:
    return escape(f"{container} {_tag(old) if old else '(none)'} -> {_tag(new)}")


def _tag(image: str) -> str:
    """What identifies the image's build: its tag or digest, else the whole reference."""
    repository, at, digest = image.partition("@")
    if at:
        return "@" + digest
    name, colon, tag = repository.rpartition(":")
    return tag if colon and "/" not in tag else image


def _categorized(paths: list[Leaf], images: tuple[str, ...]) -> Changes:
    env: dict[str, None] = {}
    keys: dict[str, None] = {}
    resources: dict[str, None] = {}
    other: dict[str, None] = {}
    versioned: dict[str, None] = {}
    for path in paths:
        shown = [escape(str(p)) for p in path]
        if path[0] == "configMaps":
            keys[f"{shown[1]}/{shown[2]}"] = None
        elif path[0] == "versioned":
            versioned[shown[1]] = None
        elif len(path) > 4 and path[:2] == ("template", "spec") and path[2] in _CONTAINER_LISTS:
            if path[4] == "image":
                continue  # compared as written, above
            if path[4] == "env" and len(path) > 5:
                env[shown[5]] = None
            elif path[4] == "resources":
                resources[shown[3]] = None
            else:
                other[".".join(shown[1:6])] = None
        else:
            other[".".join(shown[1:5])] = None
    return Changes(images, tuple(env), tuple(keys), tuple(resources), tuple(other), tuple(versioned))


def _order(path: Leaf) -> tuple[tuple[int, str], ...]:
    return tuple((0, str(p)) if isinstance(p, str) else (1, f"{p:09d}") for p in path)


def _listed(items: tuple[str, ...], limit: int = 8) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")
