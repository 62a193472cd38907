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
    from collections.abc import Callable
    from typing import Any

HASH_LENGTH = 10  # hex digits: 40 bits tell apart every version of a config a team will ever have
MAX_DATA_BYTES = 1024 * 1024  # the most a ConfigMap may hold (Kubernetes' limit)


class ConfigMap(Record):
    """One spec.configMaps entry with its content read."""

    name: str  # as the pod template refers to it
    hashed_name: str  # as it is emitted: "<name>-<hash>"
    data: dict[str, str]
    at: Problem  # where bluegreen.yaml declares it; the message is filled in when it is used


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
    from bgrender.intent.config_refs import references  # only for an app with spec.configMaps

    template = copy_data(template)  # its references are renamed in place
    pinned: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    for ref in references(template.get("spec")):
        found = config.get(ref.name) if ref.kind == "ConfigMap" else None
        if found is None:
            continue
        ref.holder[ref.field] = found.hashed_name
        pinned[found.hashed_name] = found.data
        problems += [locate(path, f"ConfigMap {quote(found.name)} has no key {quote(key)} (it has "
                                  f"{_keys(found.data)}); the pod would not start")
                     for key, path in ref.keys if key not in found.data and not ref.optional]
    problems += [c.at.replace(message=f"no volume, envFrom or env of the pod template refers to {quote(c.name)}, "
                                      "so no color would get it; refer to it, or remove it")
                 for c in config.values() if c.hashed_name not in pinned]
    return template, pinned, problems


def _keys(data: dict[str, str]) -> str:
    names = sorted(data)
    return ", ".join(map(quote, names[:10])) + (", ..." if len(names) > 10 else "") if names else "no keys"
