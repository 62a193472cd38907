"""Every place a pod template names a ConfigMap or a Secret (DESIGN §19): volumes (projected
sources too), envFrom, env valueFrom, and imagePullSecrets.

One walk serves three callers: configmaps.mount renames spec.configMaps, versioned.mount
renames the versioned resources of spec.resources, and `unversioned` warns about the rest,
whose changes reach both colors at once. Pure.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.errors import Problem, quote
from bgrender.record import Record

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Iterator
    from typing import Any, Literal, TypeGuard

    from bgrender.yamlfile.document import Path

    Kind = Literal["ConfigMap", "Secret"]

# (holder in a volume or projected source, kind, the field holding the name)
_VOLUME_FIELDS: tuple[tuple[str, Kind, str], ...] = (("configMap", "ConfigMap", "name"),
                                                      ("secret", "Secret", "secretName"))
_PROJECTED_FIELDS: tuple[tuple[str, Kind, str], ...] = (("configMap", "ConfigMap", "name"),
                                                         ("secret", "Secret", "name"))
_ENV_FROM: tuple[tuple[str, Kind], ...] = (("configMapRef", "ConfigMap"), ("secretRef", "Secret"))
_VALUE_FROM: tuple[tuple[str, Kind], ...] = (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret"))


class Ref(Record):
    """A place in a pod template that names a ConfigMap or a Secret: `holder[field]`."""

    kind: Kind
    holder: dict[str, Any]
    field: str  # "name", or "secretName" in a secret volume
    at: Path  # where the name is written, from the pod template's root
    keys: tuple[tuple[str, Path], ...]  # (key read, where it is written)
    optional: bool
    form: str  # how it is referenced, for messages: "volume", "envFrom", ...
    warned: bool = True  # whether an unversioned object referenced here is warned about

    @property
    def name(self) -> str:
        return str(self.holder[self.field])


def references(pod: Any) -> Iterator[Ref]:
    """Every reference of a pod spec (the template's `spec`): volumes, projected volume sources,
    envFrom and env of containers and init containers, and imagePullSecrets."""
    if not isinstance(pod, dict):
        return
    at: Path = ("spec",)
    for i, volume in _items(pod, "volumes"):
        yield from _volume_refs(volume, _VOLUME_FIELDS, at + ("volumes", i), "volume")
        for j, source in _items(volume.get("projected"), "sources"):
            yield from _volume_refs(source, _PROJECTED_FIELDS, at + ("volumes", i, "projected", "sources", j),
                                    "projected volume")
    for field in ("initContainers", "containers"):
        for k, container in _items(pod, field):
            yield from _container_refs(container, at + (field, k))
    for i, secret in _items(pod, "imagePullSecrets"):
        if _named(secret, "name"):
            # Pull credentials are usually the platform's and rotate on their own: renamed when
            # versioned, never warned about.
            yield Ref("Secret", secret, "name", at + ("imagePullSecrets", i, "name"), (), False, "imagePullSecrets",
                      warned=False)


def _volume_refs(holder: dict[str, Any], fields: Iterable[tuple[str, Kind, str]], at: Path,
                 form: str) -> Iterator[Ref]:
    for key, kind, name_field in fields:
        ref = holder.get(key)
        if _named(ref, name_field):
            keys = tuple((item["key"], at + (key, "items", n, "key")) for n, item in _items(ref, "items")
                         if isinstance(item.get("key"), str))
            yield Ref(kind, ref, name_field, at + (key, name_field), keys, ref.get("optional") is True, form)


def _container_refs(container: dict[str, Any], at: Path) -> Iterator[Ref]:
    for n, env_from in _items(container, "envFrom"):
        for key, kind in _ENV_FROM:
            ref = env_from.get(key)
            if _named(ref, "name"):
                yield Ref(kind, ref, "name", at + ("envFrom", n, key, "name"), (), ref.get("optional") is True,
                          "envFrom")
    for m, env in _items(container, "env"):
        value_from = env.get("valueFrom")
        if not isinstance(value_from, dict):
            continue
        for key, kind in _VALUE_FROM:
            ref = value_from.get(key)
            if _named(ref, "name"):
                where = at + ("env", m, "valueFrom", key)
                keys = ((ref["key"], where + ("key",)),) if isinstance(ref.get("key"), str) else ()
                yield Ref(kind, ref, "name", where + ("name",), keys, ref.get("optional") is True, "env valueFrom")


def _items(holder: Any, field: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The mappings of the list at holder[field], with their indexes; nothing if it is not one."""
    value = holder.get(field) if isinstance(holder, dict) else None
    if isinstance(value, list):
        yield from ((i, item) for i, item in enumerate(value) if isinstance(item, dict))


def _named(ref: Any, field: str) -> TypeGuard[dict[str, Any]]:
    return isinstance(ref, dict) and isinstance(ref.get(field), str)


# --- the warning ------------------------------------------------------------------------------

UNVERSIONED = "is not versioned by bgrender: changes to it reach both colors at once, production included"
_ANNOTATE = 'give it the annotation bgrender.io/versioned: "true" in spec.resources'
ADVICE = {"ConfigMap": f"declare it in spec.configMaps, or {_ANNOTATE}", "Secret": _ANNOTATE}


def unversioned(templates: Iterable[tuple[dict[str, Any], Callable[[Path, str], Problem], Collection[str]]]
                ) -> list[Problem]:
    """A warning for each ConfigMap and Secret the pod templates reference that bgrender does not
    version, once per object, at its first reference. Each template comes with `locate`, which
    turns a path in it into a positioned problem, and the names it runs versions of (hashed)."""
    seen: set[tuple[str, str]] = set()
    warnings = []
    for template, locate, versioned in templates:
        found = []
        for ref in references(template.get("spec")):
            if not ref.warned or ref.name in versioned or (ref.kind, ref.name) in seen:
                continue
            seen.add((ref.kind, ref.name))
            found.append(locate(ref.at, f"warning: the {ref.kind} {quote(ref.name)} ({ref.form}) {UNVERSIONED}; "
                                            f"{ADVICE[ref.kind]}"))
        warnings += sorted(found, key=lambda p: (p.line, p.column))  # in the order of the file
    return warnings
