"""The environment the repo-server builds for a plugin call (reposerver/repository/repository.go).

The sidecar's own environment comes first, then Argo CD's variables; with a `plugin:` block
in the Application also ARGOCD_ENV_*, ARGOCD_APP_PARAMETERS (Go JSON) and PARAM_*.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import CmpError

MAX_ENV_ENTRY_BYTES = 128 * 1024  # Linux MAX_ARG_STRLEN: a longer entry fails exec


@dataclass(frozen=True)
class PluginSource:
    """`spec.source.plugin` of an Application. Its presence alone adds env and parameters."""

    name: str = ""
    env: tuple[tuple[str, str], ...] = ()
    parameters: tuple[dict[str, Any], ...] = ()


# Sorted like the controller's APIResourcesToStrings: both group/version and group/version/Kind.
DEFAULT_API_VERSIONS = tuple(
    sorted(
        {
            "v1", "v1/ConfigMap", "v1/Namespace", "v1/Pod", "v1/Service",
            "apps/v1", "apps/v1/Deployment", "apps/v1/ReplicaSet",
            "batch/v1", "batch/v1/Job",
            "networking.istio.io/v1", "networking.istio.io/v1/DestinationRule",
            "networking.istio.io/v1/VirtualService",
            "networking.istio.io/v1alpha3", "networking.istio.io/v1alpha3/DestinationRule",
            "networking.istio.io/v1alpha3/VirtualService",
            "networking.istio.io/v1beta1", "networking.istio.io/v1beta1/DestinationRule",
            "networking.istio.io/v1beta1/VirtualService",
        }
    )
)


@dataclass(frozen=True)
class Application:
    name: str = "demo"
    control_plane_namespace: str = "argocd"
    app_namespace: str = "argocd"  # apps in other namespaces are named "<ns>_<name>"
    destination_namespace: str = ""
    project: str = "default"
    repo_url: str = "https://git.example.com/platform/apps.git"
    path: str = "."
    target_revision: str = "HEAD"
    revision: str = "5d6e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e"
    kube_version: str = "1.30.2"
    api_versions: tuple[str, ...] = DEFAULT_API_VERSIONS
    plugin: PluginSource | None = field(default_factory=PluginSource)

    @property
    def instance_name(self) -> str:
        if self.app_namespace == self.control_plane_namespace:
            return self.name
        return f"{self.app_namespace}_{self.name}"


def build_env(app: Application, sidecar_env: Mapping[str, str]) -> dict[str, str]:
    """The sidecar's own environment, then what the repo-server sends; later entries win."""
    build = build_environment(app)
    env = dict(sidecar_env)
    env.update(build)
    if app.plugin is not None:
        for name, value in app.plugin.env:
            env[f"ARGOCD_ENV_{name}"] = go_envsubst(value, build)
        env["ARGOCD_APP_PARAMETERS"] = go_json(list(app.plugin.parameters) or None)
        env.update(param_envs(app.plugin.parameters))
    _check_env_sizes(env)
    return env


def build_environment(app: Application) -> dict[str, str]:
    """newEnv + KUBE_*: the variables Argo CD sets for every plugin call."""
    return {
        "ARGOCD_APP_NAME": app.instance_name,
        "ARGOCD_APP_NAMESPACE": app.destination_namespace,
        "ARGOCD_APP_PROJECT_NAME": app.project,
        "ARGOCD_APP_REVISION": app.revision,
        "ARGOCD_APP_REVISION_SHORT": app.revision[:7],
        "ARGOCD_APP_REVISION_SHORT_8": app.revision[:8],
        "ARGOCD_APP_SOURCE_REPO_URL": app.repo_url,
        "ARGOCD_APP_SOURCE_PATH": app.path,
        "ARGOCD_APP_SOURCE_TARGET_REVISION": app.target_revision,
        "KUBE_VERSION": app.kube_version,
        "KUBE_API_VERSIONS": ",".join(app.api_versions),
    }


def go_json(value: Any) -> str:
    """Go's json.Marshal: compact, sorted keys, raw UTF-8, HTML characters escaped."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def param_envs(parameters: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """PARAM_<NAME>, PARAM_<NAME>_<i>, PARAM_<NAME>_<KEY>; a later collision wins."""
    env: dict[str, str] = {}
    for param in parameters:
        base = "PARAM_" + go_escaped(param["name"])
        if "string" in param:
            env[base] = param["string"]
        for index, item in enumerate(param.get("array") or ()):
            env[f"{base}_{index}"] = item
        for key, item in (param.get("map") or {}).items():
            env[f"{base}_{go_escaped(key)}"] = item
    return env


def go_escaped(name: str) -> str:
    """strings.ToUpper rune by rune (no one-to-many mappings), then [^A-Z0-9_] -> _."""
    upper = "".join(c.upper() if len(c.upper()) == 1 else c for c in name)
    return re.sub("[^A-Z0-9_]", "_", upper)


def go_envsubst(value: str, variables: Mapping[str, str]) -> str:
    """Argo CD's Env.Envsubst: os.Expand with unknown names as "" and `$$` as `$`."""
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] != "$" or i + 1 == len(value):
            out.append(value[i])
            i += 1
            continue
        name, width = _shell_name(value[i + 1:])
        if name:
            out.append("$" if name == "$" else variables.get(name, ""))
        elif width == 0:
            out.append("$")  # `$` not followed by a name stays
        i += 1 + width
    return "".join(out)


def _shell_name(s: str) -> tuple[str, int]:
    """Go's os.getShellName: the variable name after `$` and how many characters it used."""
    special = "*#$@!?-0123456789"
    if s[0] == "{":
        if len(s) > 2 and s[1] in special and s[2] == "}":
            return s[1], 3
        end = s.find("}", 1)
        if end == -1:
            return "", 1  # bad syntax: eat "${"
        return (s[1:end], end + 1) if end > 1 else ("", 2)
    if s[0] in special:
        return s[0], 1
    match = re.match(r"[A-Za-z0-9_]*", s)
    return match.group(0), match.end()


def _check_env_sizes(env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if len(f"{name}={value}".encode()) > MAX_ENV_ENTRY_BYTES:
            raise CmpError(f"fork/exec: argument list too long ({name})")
