"""plugin.yaml as the sidecar reads it (cmpserver/plugin/config.go): leniently, then three checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import CmpError

# The fields Argo CD's PluginConfig reads; its parser is not strict and ignores the rest.
PLUGIN_SPEC_FIELDS = frozenset(
    {"version", "init", "generate", "discover", "parameters", "preserveFileMode", "provideGitCreds"}
)
COMMAND_FIELDS = frozenset({"command", "args"})
DISCOVER_FIELDS = frozenset({"find", "fileName"})
FIND_FIELDS = frozenset({"command", "args", "glob"})


@dataclass(frozen=True)
class PluginConfig:
    name: str
    version: str
    generate: tuple[str, ...]
    init: tuple[str, ...] | None
    discover_file_name: str | None
    raw: dict[str, Any]

    @property
    def socket_name(self) -> str:
        """The name Applications use in `spec.source.plugin.name`."""
        return f"{self.name}-{self.version}" if self.version else self.name


def load_plugin_config(path: Path) -> PluginConfig:
    """Read plugin.yaml and check it the way the sidecar does before it starts."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or raw.get("kind") != "ConfigManagementPlugin":
        raise CmpError(f"{path}: kind must be ConfigManagementPlugin")
    name = (raw.get("metadata") or {}).get("name") or ""
    if not name:
        raise CmpError("invalid plugin configuration file. metadata.name should be non-empty")
    spec = raw.get("spec") or {}
    generate = _argv(spec.get("generate"))
    if not generate:
        raise CmpError("spec.generate command should be non-empty")
    return PluginConfig(
        name=name,
        version=str(spec.get("version") or ""),
        generate=generate,
        init=_argv(spec.get("init")) or None,
        discover_file_name=(spec.get("discover") or {}).get("fileName"),
        raw=raw,
    )


def _argv(command: Mapping[str, Any] | None) -> tuple[str, ...]:
    """command ++ args, as the sidecar concatenates them."""
    if not command:
        return ()
    return tuple(command.get("command") or ()) + tuple(command.get("args") or ())


def unknown_plugin_fields(raw: Mapping[str, Any]) -> list[str]:
    """Fields Argo CD would silently ignore (its parser is not strict)."""
    spec = raw.get("spec") or {}
    unknown = [f"spec.{k}" for k in spec if k not in PLUGIN_SPEC_FIELDS]
    for key in ("init", "generate"):
        unknown += [f"spec.{key}.{k}" for k in spec.get(key) or {} if k not in COMMAND_FIELDS]
    discover = spec.get("discover") or {}
    unknown += [f"spec.discover.{k}" for k in discover if k not in DISCOVER_FIELDS]
    unknown += [f"spec.discover.find.{k}" for k in discover.get("find") or {} if k not in FIND_FIELDS]
    return unknown


def discovery_matches(config: PluginConfig, app_dir: Path) -> bool:
    """`discover.fileName`: a Go glob (no `**`) relative to the app directory."""
    if config.discover_file_name is None:
        raise NotImplementedError("the harness models only discover.fileName")
    return any(app_dir.glob(config.discover_file_name))
