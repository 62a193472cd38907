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
    """Multi-line strings (the smoke test script) as literal blocks, readable in a review."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(objects: list[dict[str, Any]]) -> str:
    return yaml.dump_all(objects, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                         allow_unicode=True, explicit_start=True, width=1 << 16)


def dump_json_lines(objects: list[dict[str, Any]]) -> str:
    import json  # only for --output json

    return "".join(json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
                   for o in objects)
