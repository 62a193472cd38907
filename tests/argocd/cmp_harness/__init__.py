"""A stand-in for Argo CD's CMP sidecar (`argocd-cmp-server`) running one plugin command.

Tests use it to call bgrender the way Argo CD does, following
`shared/reference/argocd-cmp-contract.md` §10: a fresh copy of the repository per request
with modes reset to 0644/0755, the app directory as cwd, the environment the repo-server
builds (Go-style JSON in ARGOCD_APP_PARAMETERS, PARAM_*), no shell, the command in its own
process group under one deadline, and Argo CD's parsing of what the command prints.

It imports nothing from bgrender: it sees the plugin only through plugin.yaml and a process.
"""

from .config import PluginConfig, discovery_matches, load_plugin_config, unknown_plugin_fields
from .environment import (
    DEFAULT_API_VERSIONS,
    Application,
    PluginSource,
    build_env,
    build_environment,
    go_envsubst,
    go_escaped,
    go_json,
    param_envs,
)
from .errors import CmpError
from .output import parse_manifests
from .process import CommandResult, args_to_log, command_error, exit_cause, go_quote, run_command
from .request import DEFAULT_DEADLINE_SECONDS, Response, generate
from .workdir import app_directory, changed_entries, snapshot, stage_repository

__all__ = [
    "DEFAULT_API_VERSIONS", "DEFAULT_DEADLINE_SECONDS", "Application", "CmpError", "CommandResult",
    "PluginConfig", "PluginSource", "Response", "app_directory", "args_to_log", "build_env",
    "build_environment", "changed_entries", "command_error", "discovery_matches", "exit_cause",
    "generate", "go_envsubst", "go_escaped", "go_json", "go_quote", "load_plugin_config",
    "param_envs", "parse_manifests", "run_command", "snapshot", "stage_repository",
    "unknown_plugin_fields",
]
