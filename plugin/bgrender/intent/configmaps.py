"""spec.configMaps as part of a color's release (DESIGN §9, §11).

Each ConfigMap is named `<name>-<hash of its content>`, and `mount` rewrites the pod template's
references to `<name>` into that name. The config a color runs is then fixed by its pod
template, so it is pinned in the lock with the color and changes only through a release, as
the image does; a ConfigMap is emitted while some color's entry pins it.

Called by plan/pod_template.py (mount), app/reading.py and render/companions.py. Pure: the files are read by
companions.load_companions; nothing here does I/O.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.digest import canonical_json, sha256_hex
from bgrender.errors import Problem, quote
from bgrender.record import Record
from bgrender.yamlfile.document import Path, copy_data

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, TypeGuard

HASH_LENGTH = 10  # hex digits: 40 bits tell apart every version of a config a team will ever have
MAX_DATA_BYTES = 1024 * 1024  # the most a ConfigMap may hold (Kubernetes' limit)


class ConfigMap(Record):
    """One spec.configMaps entry with its content read."""

    name: str  # as the pod template refers to it
    hashed_name: str  # as it is emitted: "<name>-<hash>"
    data: dict[str, str]
    at: Problem  # where bluegreen.yaml declares it; the message is filled in when it is used


class Reference(Record):
    """A place in a pod template that names a ConfigMap: `holder["name"]`, and the keys it reads."""

    holder: dict[str, Any]
    keys: tuple[tuple[str, Path], ...]  # (key, where it is written)
    optional: bool


def hashed_name(name: str, data: dict[str, str]) -> str:
    """`<name>-<hash>`, the hash over a canonical form of the whole ConfigMap, as kustomize's
    configMapGenerator names its own: a change of content is a change of name."""
    canonical = canonical_json({"kind": "ConfigMap", "name": name, "data": data})
    return f"{name}-{sha256_hex(canonical.encode('utf-8'))[:HASH_LENGTH]}"


def name_matches_data(name: str, data: Any) -> bool:
    """Whether a pinned ConfigMap's hashed name is the one its data gives (a lock edited by hand
    could otherwise put two contents under one name)."""
    base, _, _ = name.rpartition("-")
    return bool(base) and isinstance(data, dict) and hashed_name(base, data) == name


def data_bytes(data: dict[str, str]) -> int:
    return sum(len(k.encode("utf-8")) + len(v.encode("utf-8")) for k, v in data.items())


def mount(template: dict[str, Any], config: dict[str, ConfigMap],
          locate: Callable[[Path, str], Problem]) -> tuple[dict[str, Any], dict[str, dict[str, str]], list[Problem]]:
    """The pod template with every reference to a declared ConfigMap renamed to its hashed name,
    the ConfigMaps it now refers to (hashed name → data), and the problems: a key read that the
    ConfigMap does not hold (the pod would not start), a declared ConfigMap nothing refers to.
    `locate` turns a path in the template into a problem."""
    if not config:
        return template, {}, []
    template = copy_data(template)  # its references are renamed in place
    pinned: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    for ref in references(template.get("spec")):
        found = config.get(ref.holder["name"])  # a str: references() yields only named holders
        if found is None:
            continue
        ref.holder["name"] = found.hashed_name
        pinned[found.hashed_name] = found.data
        problems += [locate(path, f"ConfigMap {quote(found.name)} has no key {quote(key)} (it has "
                                  f"{_keys(found.data)}); the pod would not start")
                     for key, path in ref.keys if key not in found.data and not ref.optional]
    problems += [c.at.replace(message=f"no volume, envFrom or env of the pod template refers to {quote(c.name)}, "
                                      "so no color would get it; refer to it, or remove it")
                 for c in config.values() if c.hashed_name not in pinned]
    return template, pinned, problems


def references(pod: Any) -> Iterator[Reference]:
    """Every ConfigMap reference of a pod spec: volumes (projected ones too), and envFrom and
    env of the containers and init containers (an init container may read config as well)."""
    if not isinstance(pod, dict):
        return
    at: Path = ("spec",)
    for i, volume in _items(pod, "volumes"):
        yield from _volume_reference(volume, "configMap", at + ("volumes", i, "configMap"))
        for j, source in _items(volume.get("projected"), "sources"):
            yield from _volume_reference(source, "configMap", at + ("volumes", i, "projected", "sources", j,
                                                                   "configMap"))
    for field in ("initContainers", "containers"):
        for k, container in _items(pod, field):
            for _, env_from in _items(container, "envFrom"):
                ref = env_from.get("configMapRef")
                if _named(ref):
                    yield Reference(ref, (), ref.get("optional") is True)
            for m, env in _items(container, "env"):
                ref = env.get("valueFrom", {}).get("configMapKeyRef") if isinstance(env.get("valueFrom"), dict) \
                    else None
                if _named(ref):
                    key_at = at + (field, k, "env", m, "valueFrom", "configMapKeyRef", "key")
                    keys = ((ref["key"], key_at),) if isinstance(ref.get("key"), str) else ()
                    yield Reference(ref, keys, ref.get("optional") is True)


def _volume_reference(holder: dict[str, Any], field: str, at: Path) -> Iterator[Reference]:
    ref = holder.get(field)
    if _named(ref):
        keys = tuple((item["key"], at + ("items", n, "key")) for n, item in _items(ref, "items")
                     if isinstance(item.get("key"), str))
        yield Reference(ref, keys, ref.get("optional") is True)


def _items(holder: Any, field: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The mappings of the list at holder[field], with their indexes; nothing if it is not one."""
    value = holder.get(field) if isinstance(holder, dict) else None
    if isinstance(value, list):
        yield from ((i, item) for i, item in enumerate(value) if isinstance(item, dict))


def _named(ref: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(ref, dict) and isinstance(ref.get("name"), str)


def _keys(data: dict[str, str]) -> str:
    names = sorted(data)
    return ", ".join(map(quote, names[:10])) + (", ..." if len(names) > 10 else "") if names else "no keys"
