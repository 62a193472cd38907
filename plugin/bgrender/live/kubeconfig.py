"""Where the cluster is and who we are to it: the kubeconfig (or the pod's service account),
its context, and the namespace the app's objects are read from.

The kubernetes client loads the configuration (kubeconfig, exec credential plugins,
in-cluster); this module asks it without letting it print anything, and turns each failure
into a ClusterError of one line, every value from the kubeconfig escaped. It is imported only
by the cluster commands (cluster.py, lazily); where the client is not installed (the sidecar
image has no `bgrender[cluster]`), `require_client` says what to install.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from bgrender.errors import ClusterError, escape, quote
from bgrender.intent import spec
from bgrender.live.answers import one_line
from bgrender.plan.plan import Plan

try:
    from kubernetes import client, config
    from kubernetes.config import exec_provider, kube_config
    from kubernetes.config.config_exception import ConfigException
except ImportError as missing:  # installed without the [cluster] extra, as in the sidecar image
    _MISSING_CLIENT: ImportError | None = missing
else:
    _MISSING_CLIENT = None

INSTALL_CLIENT = "pip install 'bgrender[cluster]'"
# Where a pod finds its namespace, as kubectl reads it in-cluster after $POD_NAMESPACE.
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


@dataclass(frozen=True)
class Connection:
    """What the command line says about the cluster: where, as whom, for how long, which namespace."""

    kubeconfig: str | None
    context: str | None
    timeout: float  # seconds for all of the command's cluster work, exec credential plugins included
    namespace: str | None = None  # -n; without it, the app's, the context's (or the pod's), else "default"


def require_client() -> None:
    """ClusterError, saying what to install, when the kubernetes client cannot be imported."""
    if _MISSING_CLIENT is not None:
        raise ClusterError(f"reading the cluster needs the Kubernetes client, which is not installed "
                           f"({one_line(_MISSING_CLIENT)}): {INSTALL_CLIENT}")


def plugin_modules() -> tuple[ModuleType, ...]:
    """The client's modules that start exec credential plugins (and gcp's cmd-path) through their `subprocess`."""
    return (exec_provider, kube_config)


class _LoggedErrors(logging.Handler):
    """What the kubernetes client logs instead of raising. A failed exec credential plugin is
    logged with logging.error, and the client goes on without credentials; logging.error
    would also print the plugin's stderr raw on our stderr (logging's last-resort handler)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "root":  # the client calls logging.error(), not a logger of its own
            self.messages.append(str(record.msg))


@contextmanager
def logged_errors() -> Iterator[list[str]]:
    """What the client logs as errors inside the block, kept for load_config instead of printed."""
    handler = _LoggedErrors()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.messages
    finally:
        root.removeHandler(handler)


# --- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedConfig:
    """The client's configuration, and the namespace the configuration implies, if any."""

    configuration: Any  # kubernetes.client.Configuration
    namespace: Any  # the kubeconfig context's (or the pod's) namespace, as found; None: none named
    namespace_source: str  # where that namespace comes from, for messages


def load_config(conn: Connection, logged: list[str] | None = None) -> LoadedConfig:
    """The client configuration, from the kubeconfig or in-cluster; never printing anything.

    `kubernetes.config.load_config()` would print a notice to stdout, so it is not used.
    `logged`: what the client logged meanwhile (see logged_errors); an error there fails.
    """
    require_client()
    configuration = client.Configuration()
    path = kubeconfig_path(conn)
    source = "the in-cluster configuration" if path is None else f"the kubeconfig {escape(path)}"
    try:
        if path is None:
            config.load_incluster_config(client_configuration=configuration)
            namespace, where = _pod_namespace()
        else:
            namespace, where = _load_kubeconfig(path, conn.context, configuration)
    except (ConfigException, yaml.YAMLError, OSError, ValueError, TypeError, KeyError, AttributeError) as e:
        raise ClusterError(f"cannot use {source}: {_config_failure(e)}") from e
    if logged:
        raise ClusterError(f"the exec credential plugin of the kubeconfig user failed: {one_line(logged[0])}")
    # One attempt per request (the GETs say so too): retries would only spend the deadline.
    configuration.retries = False
    return LoadedConfig(configuration, namespace, where)


def _load_kubeconfig(path: str, context: str | None, configuration: Any) -> tuple[Any, str]:
    """What load_kube_config(persist_config=False) does, keeping the loader to read the context."""
    merged = kube_config.KubeConfigMerger(path)
    if merged.config is None:
        raise ConfigException("Invalid kube-config file. No configuration found.")
    loader = kube_config.KubeConfigLoader(config_dict=merged.config, active_context=context, config_base_path=None)
    loader.load_and_set(configuration)
    current = loader.current_context
    return (current.get("context") or {}).get("namespace"), f"the kubeconfig context {quote(current.get('name'))}"


def _pod_namespace() -> tuple[str | None, str]:
    """$POD_NAMESPACE, else the service account's namespace file: what kubectl uses in a pod."""
    if os.environ.get("POD_NAMESPACE"):
        return os.environ["POD_NAMESPACE"], "$POD_NAMESPACE"
    try:
        with open(SERVICE_ACCOUNT_NAMESPACE, "rb") as file:
            text = file.read(256).decode("utf-8", "replace").strip()
    except OSError:
        return None, SERVICE_ACCOUNT_NAMESPACE
    return text or None, SERVICE_ACCOUNT_NAMESPACE


def kubeconfig_path(conn: Connection) -> str | None:
    """--kubeconfig, else $KUBECONFIG or ~/.kube/config if a file is there; None: in-cluster."""
    if conn.kubeconfig:
        if not Path(conn.kubeconfig).is_file():
            raise ClusterError(f"--kubeconfig {escape(conn.kubeconfig)}: no such file")
        return conn.kubeconfig
    paths = os.environ.get("KUBECONFIG") or "~/.kube/config"
    if any(Path(p).expanduser().is_file() for p in paths.split(os.pathsep) if p):
        return paths
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        if conn.context:
            raise ClusterError(f"--context {escape(conn.context)}: no kubeconfig found to take it from "
                               "(in a pod, the service account is used without a context)")
        return None
    raise ClusterError("no Kubernetes configuration found: pass --kubeconfig, set $KUBECONFIG, "
                       "create ~/.kube/config, or run in a pod")


def _config_failure(e: BaseException) -> str:
    # A YAML error's snippet would quote the kubeconfig's lines, tokens and all: position only.
    if isinstance(e, yaml.MarkedYAMLError) and e.problem_mark is not None:
        mark = e.problem_mark
        return one_line(f"{e.problem} (line {mark.line + 1}, column {mark.column + 1})")
    return one_line(e)


# --- namespace ----------------------------------------------------------------------------------


def resolve_namespace(plan: Plan, conn: Connection, loaded: LoadedConfig) -> str:
    """Where the app's objects are, by kubectl's rule for objects that name no namespace: the
    namespace the intent renders them into, else -n, else the kubeconfig context's (in a pod:
    the pod's), else "default"."""
    if plan.namespace:
        return plan.namespace
    if conn.namespace:
        return _checked_namespace(conn.namespace, "-n")
    if loaded.namespace is None or loaded.namespace == "":
        return "default"
    return _checked_namespace(loaded.namespace, loaded.namespace_source)


def _checked_namespace(value: object, source: str) -> str:
    if not isinstance(value, str) or not spec.is_dns_label(value):
        raise ClusterError(f"{source} names namespace {quote(value)}, which is not a namespace name "
                           "(a DNS-1123 label of at most 63 characters)")
    return value
