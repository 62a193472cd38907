"""Manifests → text. Keys are sorted and nothing varies between runs, so the same input
gives byte-identical output (Argo CD diffs and caches on it)."""

from __future__ import annotations

from .pyyaml import yaml  # first: PyYAML without its unused import-time regexes

try:
    from yaml import CSafeDumper as _SafeDumper
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _SafeDumper  # type: ignore[assignment]


TYPE_CHECKING = False  # the typing module costs ~3 ms at startup; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


class _Dumper(_SafeDumper):  # type: ignore[misc, valid-type]
    """Multi-line strings (the smoke test script) as literal blocks, readable in a review;
    never an anchor or alias, even where two objects share a value."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


# Numbers in the YAML 1.2 core schema that PyYAML (YAML 1.1) reads as strings, e.g. `1e3`.
# Other tools (yq, Go's yaml.v3) would read them as numbers, and short git SHAs can look
# like them (`4e12345`), so such values are quoted too.
_YAML12_NUMBER = r"[-+]?([0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?" \
                 r"|\.(inf|Inf|INF)|\.(nan|NaN|NAN))"


def plain_reads_back(value: str, *, flow: bool) -> bool:
    """True when YAML reads `value`, written unquoted, back as the same string.

    This rules out numbers, dates, booleans, nulls, indicators and ` #` comments alike.
    """
    import re

    if not value or value != value.strip() or any(c in value for c in "\r\n\t"):
        return False
    if re.fullmatch(_YAML12_NUMBER, value):
        return False
    sample = f"{{k: {value}}}" if flow else f"k: {value}\n"
    try:
        return yaml.safe_load(sample) == {"k": value}
    except yaml.YAMLError:
        return False


def dump_yaml(objects: list[dict[str, Any]]) -> str:
    return yaml.dump_all(objects, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                         allow_unicode=True, explicit_start=True, width=1 << 16)


def dump_document(data: dict[str, Any]) -> str:
    """One document for a file bgrender writes (the lock): keys in the order `data` gives them."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=1 << 16)


def sorted_keys(data: Any) -> Any:
    """`data` with the keys of every mapping in it sorted, as dump_yaml writes them."""
    if isinstance(data, dict):
        return {k: sorted_keys(data[k]) for k in sorted(data)}
    if isinstance(data, list):
        return [sorted_keys(v) for v in data]
    return data


def dump_json_lines(objects: list[dict[str, Any]]) -> str:
    import json  # only for --output json

    return "".join(json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
                   for o in objects)
