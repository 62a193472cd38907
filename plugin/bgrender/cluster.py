"""The one module that talks to a Kubernetes cluster, read-only: `status` and `release --check-live`.

Those two commands import it lazily, so rendering (which never reads the cluster, DESIGN §2)
does not even load the `kubernetes` client. It sends GET requests and nothing else, one attempt
each, bounded by Connection.timeout, and stops at the first failure. Every failure becomes a
ClusterError (exit 3) of one line saying what failed where: never a traceback.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import click
import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from .colors import COLORS, Color
from .errors import ClusterError
from .labels import VERSION_ANNOTATION
from .plan import Plan
from .status import LiveDeployment, LiveRouting, LiveState, rollout_pending

ISTIO_GROUP = "networking.istio.io"
# Newest first. A served version that lacks the object means the object does not exist
# (every served version of a CRD shows the same objects), so the search stops there.
ISTIO_VERSIONS = ("v1", "v1beta1", "v1alpha3")
RBAC_EXAMPLE = "examples/rbac/status-reader.yaml"


@dataclass(frozen=True)
class Connection:
    """How to reach the cluster: a kubeconfig (and context), else the pod's service account."""

    kubeconfig: str | None
    context: str | None
    timeout: float  # seconds, per request


def read_live(plan: Plan, conn: Connection) -> LiveState:
    """Both color Deployments and the VirtualService of the app, as the cluster has them."""
    namespace = live_namespace(plan)
    with _reader(conn, namespace) as reader:
        deployments = {
            color: reader.deployment(plan.deployment_name(color), plan.intent.version_label)
            for color in COLORS
        }
        routing = reader.routing(plan.intent.virtual_service)
    return LiveState(namespace, deployments, routing)


def check_live(plan: Plan, conn: Connection) -> None:
    """Refuse (ClusterError) when the live production color is not the file's `active`.

    A release writes the color the file calls idle; if that color serves users live, the
    release would replace the version under them.
    """
    with _reader(conn, live_namespace(plan)) as reader:
        routing = reader.routing(plan.intent.virtual_service)
    active = plan.intent.active
    if not routing.found:
        # Argo CD applies the VirtualService in wave 2, after the first color is ready, so
        # without it the app has never finished a sync here: at most the active color has
        # pods (the idle one comes in wave 3), so a release to the idle color cannot replace
        # what users get. Refusing would make every app's first release fail with --check-live.
        click.echo(f"check-live: {routing.note}; no color serves production yet, go ahead", err=True)
        return
    if routing.production is None:
        raise ClusterError(
            f"refusing to release: cannot tell which color serves production from VirtualService "
            f"{routing.name} ({routing.note})"
        )
    if routing.production != active:
        raise ClusterError(
            f"refusing to release: production traffic goes to {routing.production} live, but "
            f"{plan.intent.file} says active: {active}; the release would replace "
            f"{routing.production}, the color serving users (sync the app, or fix active, first)"
        )


def live_namespace(plan: Plan) -> str:
    return plan.namespace or "default"  # where kubectl puts objects that name no namespace


# --- connection -----------------------------------------------------------------------------


@contextmanager
def _reader(conn: Connection, namespace: str) -> Iterator[_Reader]:
    configuration = client_configuration(conn)
    with client.ApiClient(configuration) as api:
        yield _Reader(api, configuration.host, namespace, conn.timeout)


def client_configuration(conn: Connection) -> client.Configuration:
    """The client configuration, from the kubeconfig or in-cluster; never printing anything.

    `kubernetes.config.load_config()` would print a notice to stdout, so it is not used.
    """
    configuration = client.Configuration()
    path = kubeconfig_path(conn)
    try:
        if path is None:
            config.load_incluster_config(client_configuration=configuration)
        else:
            # persist_config=False: a read-only command must not rewrite the user's kubeconfig.
            config.load_kube_config(config_file=path, context=conn.context,
                                    client_configuration=configuration, persist_config=False)
    except (ConfigException, yaml.YAMLError, OSError, ValueError, TypeError, KeyError, AttributeError) as e:
        source = "in-cluster configuration" if path is None else f"kubeconfig {path}"
        raise ClusterError(f"cannot use the {source}: {_one_line(e)}") from e
    # One attempt per request: urllib3's default retries would multiply the timeout.
    configuration.retries = False
    return configuration


def kubeconfig_path(conn: Connection) -> str | None:
    """--kubeconfig, else $KUBECONFIG or ~/.kube/config if a file is there; None: in-cluster."""
    if conn.kubeconfig:
        if not Path(conn.kubeconfig).is_file():
            raise ClusterError(f"--kubeconfig {conn.kubeconfig}: no such file")
        return conn.kubeconfig
    paths = os.environ.get("KUBECONFIG") or "~/.kube/config"
    if any(Path(p).expanduser().is_file() for p in paths.split(os.pathsep) if p):
        return paths
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        if conn.context:
            raise ClusterError(f"--context {conn.context}: no kubeconfig found to take it from "
                               "(in a pod, the service account is used without a context)")
        return None
    raise ClusterError("no Kubernetes configuration found: pass --kubeconfig, set $KUBECONFIG, "
                       "create ~/.kube/config, or run in a pod")


# --- requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    """A GET of one object, described the way RBAC speaks, for error messages."""

    resource: str
    group: str
    name: str
    namespace: str
    version: str = ""

    def __str__(self) -> str:
        version = f" ({self.version})" if self.version else ""
        return f"get {self.resource}.{self.group} {self.name}{version} in namespace {self.namespace}"


@dataclass(frozen=True)
class _NotFound:
    details: dict[str, Any]  # the Status details; they name the object when it is what is missing


class _Malformed(Exception):
    """An answer that is not what the Kubernetes API sends."""


class _Reader:
    def __init__(self, api: client.ApiClient, host: str, namespace: str, timeout: float):
        self.apps = client.AppsV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.host = host
        self.namespace = namespace
        self.timeout = timeout

    def deployment(self, name: str, version_label: str) -> LiveDeployment | None:
        request = _Request("deployments", "apps", name, self.namespace)
        answer = self._get(request, self.apps.read_namespaced_deployment, name, self.namespace)
        if isinstance(answer, _NotFound):
            return None
        return self._parsed(request, _live_deployment, answer, version_label)

    def routing(self, name: str) -> LiveRouting:
        for version in ISTIO_VERSIONS:
            request = _Request("virtualservices", ISTIO_GROUP, name, self.namespace, version)
            answer = self._get(request, self.custom.get_namespaced_custom_object,
                               ISTIO_GROUP, version, self.namespace, "virtualservices", name)
            if not isinstance(answer, _NotFound):
                return self._parsed(request, _live_routing, answer, name, version)
            if answer.details.get("name") == name:
                return LiveRouting(name, False, f"{ISTIO_GROUP}/{version}", None,
                                   f"VirtualService {name} not found in namespace {self.namespace}")
            # The Status names nothing: this version is not served; try an older one.
        return LiveRouting(name, False, None, None,
                           f"the cluster serves no {ISTIO_GROUP} {'/'.join(ISTIO_VERSIONS)} (Istio not installed?)")

    def _get(self, request: _Request, call: Callable[..., Any], *args: str) -> Any:
        try:
            return call(*args, _request_timeout=self.timeout)
        except ApiException as e:
            return self._api_answer(request, e)
        except urllib3.exceptions.HTTPError as e:
            raise ClusterError(_transport_failure(e, request, self.host, self.timeout)) from e
        except json.JSONDecodeError as e:
            raise self._malformed(request, f"not JSON: {_one_line(e)}") from e
        except ValueError as e:  # JSON that does not fit the object's model (pydantic)
            raise self._malformed(request, _one_line(e)) from e

    def _api_answer(self, request: _Request, e: ApiException) -> _NotFound:
        status = _status_object(e.body)
        if e.status == 404 and status is not None:
            return _NotFound(status.get("details") or {})
        if e.status == 404:
            raise self._malformed(request, "404 without a Kubernetes Status (is this a Kubernetes API server?)") from e
        if not e.status and _tls_failure(e):
            raise ClusterError(f"TLS with the Kubernetes API server at {self.host} failed: {_tls_failure(e)}") from e
        if not e.status:  # the client refused the answer itself, e.g. an unknown content type
            raise self._malformed(request, _one_line(e.reason or "unreadable answer")) from e
        raise ClusterError(_api_failure(e, status, request, self.host)) from e

    def _parsed(self, request: _Request, parse: Callable[..., Any], *args: Any) -> Any:
        try:
            return parse(*args)
        except _Malformed as e:
            raise self._malformed(request, str(e)) from e

    def _malformed(self, request: _Request, detail: str) -> ClusterError:
        return ClusterError(f"malformed answer from the Kubernetes API server at {self.host} to {request}: {detail}")


# --- errors ---------------------------------------------------------------------------------


def _status_object(body: str | None) -> dict[str, Any] | None:
    """The Kubernetes `Status` object of an error answer, when the body is one."""
    try:
        status = json.loads(body or "")
    except ValueError:
        return None
    return status if isinstance(status, dict) and status.get("kind") == "Status" else None


def _tls_failure(e: ApiException) -> str | None:
    """The TLS error the client wrapped into an ApiException with status 0, if that is what it is."""
    if isinstance(e.__context__, urllib3.exceptions.SSLError):
        return _one_line(e.__context__.__context__ or e.__context__)
    return None


def _api_failure(e: ApiException, status: dict[str, Any] | None, request: _Request, host: str) -> str:
    said = _one_line((status or {}).get("message") or e.reason or "")
    if e.status == 401:
        return (f"the Kubernetes API server at {host} rejected the credentials (401 Unauthorized) "
                f"on {request}: renew the token or certificate of the kubeconfig user")
    if e.status == 403:
        return (f"forbidden (403): may not get {request.resource} in API group {request.group} "
                f"in namespace {request.namespace}; grant get on {request.resource} to this user "
                f"(see {RBAC_EXAMPLE}); the server said: {said}")
    return f"the Kubernetes API server at {host} answered {request} with {e.status} {e.reason}: {said}"


def _transport_failure(e: urllib3.exceptions.HTTPError, request: _Request, host: str, timeout: float) -> str:
    # NewConnectionError is a ConnectTimeoutError in urllib3, so it is checked first.
    if isinstance(e, urllib3.exceptions.NewConnectionError):
        return f"cannot reach the Kubernetes API server at {host}: {_os_reason(e)}"
    if isinstance(e, urllib3.exceptions.SSLError):
        return f"TLS with the Kubernetes API server at {host} failed: {_one_line(e.__context__ or e)}"
    if isinstance(e, urllib3.exceptions.TimeoutError):
        return f"the Kubernetes API server at {host} did not answer within {timeout:g}s ({request})"
    if isinstance(e, urllib3.exceptions.ProtocolError):
        return f"the Kubernetes API server at {host} dropped the connection during {request}: {_os_reason(e)}"
    return f"talking to the Kubernetes API server at {host} failed during {request}: {_one_line(e)}"


def _os_reason(e: BaseException) -> str:
    """"Connection refused" rather than urllib3's text with an object's repr in it."""
    cause = e.__cause__ or e.__context__
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        cause = cause.__cause__ or cause.__context__
    return _one_line(e.args[-1] if e.args else e)


def _one_line(text: object, limit: int = 300) -> str:
    lines = [line for line in str(text).splitlines() if "For further information visit" not in line]
    flat = re.sub(r"\s+", " ", " ".join(lines)).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


# --- answers --------------------------------------------------------------------------------


def _live_deployment(deployment: client.V1Deployment, version_label: str) -> LiveDeployment:
    if deployment.kind != "Deployment" or deployment.spec is None or deployment.spec.template is None:
        raise _Malformed(f"expected a Deployment with a spec.template, got kind {deployment.kind!r}")
    template = deployment.spec.template.metadata or client.V1ObjectMeta()
    version, source = _template_version(template.annotations or {}, template.labels or {}, version_label)
    replicas = 1 if deployment.spec.replicas is None else deployment.spec.replicas  # the API's default
    status = deployment.status or client.V1DeploymentStatus()
    return LiveDeployment(
        name=deployment.metadata.name if deployment.metadata else "",
        version=version,
        version_source=source,
        replicas=replicas,
        ready_replicas=status.ready_replicas or 0,
        rollout_pending=rollout_pending(
            replicas=replicas,
            generation=(deployment.metadata.generation if deployment.metadata else None) or 0,
            observed_generation=status.observed_generation,
            updated=status.updated_replicas or 0,
            current=status.replicas or 0,
            available=status.available_replicas or 0,
        ),
    )


def _template_version(annotations: dict[str, str], labels: dict[str, str],
                      version_label: str) -> tuple[str | None, str | None]:
    if VERSION_ANNOTATION in annotations:
        return annotations[VERSION_ANNOTATION], "annotation"
    if version_label in labels:
        return labels[version_label], "label"
    return None, None


def _live_routing(vs: Any, name: str, version: str) -> LiveRouting:
    if not isinstance(vs, dict) or vs.get("kind") != "VirtualService":
        kind = vs.get("kind") if isinstance(vs, dict) else type(vs).__name__
        raise _Malformed(f"expected a VirtualService, got {kind!r}")
    spec = _expect(vs.get("spec") or {}, dict, "spec")
    rules = _expect(spec.get("http") or [], list, "spec.http")
    production, note = _default_route_color([_expect(r, dict, "spec.http[]") for r in rules])
    return LiveRouting(name, True, f"{ISTIO_GROUP}/{version}", production, note)


def _default_route_color(rules: list[dict[str, Any]]) -> tuple[Color | None, str | None]:
    """The color of the first http route without `match`: Istio sends it every other request."""
    for rule in rules:
        if not rule.get("match"):
            return _destination_color(_expect(rule.get("route") or [], list, "spec.http[].route"))
    return None, "it has no default route (an http route without match)"


def _destination_color(route: list[Any]) -> tuple[Color | None, str | None]:
    if not route:
        return None, "its default route has no destination"
    destinations = [_expect(d, dict, "spec.http[].route[]") for d in route]
    # A lone destination takes all traffic whatever its weight; among several, weight 0 takes none.
    serving = [d for d in destinations
               if len(destinations) == 1 or _expect(d.get("weight", 0), int, "weight") > 0]
    subsets = sorted({str(_expect(d.get("destination") or {}, dict, "destination").get("subset"))
                      for d in serving})
    if len(subsets) != 1:
        return None, f"its default route splits production traffic between subsets {', '.join(subsets)}"
    if subsets[0] not in COLORS:
        return None, f"its default route sends production traffic to subset {subsets[0]}, not blue or green"
    return subsets[0], None  # type: ignore[return-value]


def _expect(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Malformed(f"{where} is {type(value).__name__}, expected {kind.__name__}")
    return value
