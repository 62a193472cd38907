"""The one module that talks to a Kubernetes cluster, read-only: `status` and `release --check-live`.

Those two commands import it lazily, so rendering (which never reads the cluster, DESIGN §2)
does not even load the `kubernetes` client; where it is not installed (the sidecar image
has no `bgrender[cluster]`), they fail with one line saying what to install. It sends GET
requests and nothing else, one attempt each, and stops at the first failure. All of a
command's cluster work, exec credential plugins included, ends by one deadline,
Connection.timeout (deadline.py). Every failure becomes a ClusterError (exit 3) of one line
saying what failed where, every value from the cluster or the kubeconfig escaped on it:
never a traceback.

The client loads the configuration (kubeconfig, exec plugins, in-cluster) and holds the
connection pool with its TLS and proxy settings; the GETs are sent through that pool here,
so that an answer is read with a size limit before it is parsed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from bgrender import __version__, routing
from bgrender.cli.streams import write_err
from bgrender.colors import COLORS, Color
from bgrender.errors import ClusterError, escape, quote
from bgrender.intent import spec
from bgrender.intent.env import api_version
from bgrender.labels import VERSION_ANNOTATION
from bgrender.live.deadline import Confined, Deadline, OutOfTime, confined_processes, deadline
from bgrender.live.status import (
    LiveAutoscaler,
    LiveDeployment,
    LiveRouting,
    LiveState,
    expected_autoscalers,
    rollout_pending,
)
from bgrender.plan.plan import Plan
from bgrender.routing import LiveObject, Malformed, expect

try:
    import urllib3
    from kubernetes import client, config
    from kubernetes.config import exec_provider, kube_config
    from kubernetes.config.config_exception import ConfigException
except ImportError as missing:  # installed without the [cluster] extra, as in the sidecar image
    _MISSING_CLIENT: ImportError | None = missing
else:
    _MISSING_CLIENT = None

RBAC_EXAMPLE = "examples/rbac/status-reader.yaml"
INSTALL_CLIENT = "pip install 'bgrender[cluster]'"
# etcd keeps an object to 1.5 MiB by default; its JSON, managedFields and all, stays well
# under this. A larger (or endless) answer is refused while it arrives, not buffered.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
# Where a pod finds its namespace, as kubectl reads it in-cluster after $POD_NAMESPACE.
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


@dataclass(frozen=True)
class Connection:
    """What the command line says about the cluster: where, as whom, for how long, which namespace."""

    kubeconfig: str | None
    context: str | None
    timeout: float  # seconds for all of the command's cluster work, exec credential plugins included
    namespace: str | None = None  # -n; without it, the app's, the context's (or the pod's), else "default"


def read_live(plan: Plan, conn: Connection) -> LiveState:
    """Both color Deployments, the HPAs Git gives them, and the app's routing object, as the
    cluster has them. An app without spec.autoscaling reads no HPA, so it needs no RBAC for them."""
    autoscalers = expected_autoscalers(plan)
    with _session(plan, conn) as reader:
        deployments: dict[Color, LiveDeployment | None] = {}
        live_autoscalers: dict[Color, LiveAutoscaler | None] = {}
        for color in COLORS:
            deployments[color] = reader.deployment(plan.deployment_name(color), plan.intent.version_label)
            if color in autoscalers:
                live_autoscalers[color] = reader.autoscaler(autoscalers[color])
        production = reader.routing(plan)
    return LiveState(reader.namespace, deployments, production, live_autoscalers)


def check_live(plan: Plan, conn: Connection) -> None:
    """Refuse (ClusterError) when the live production color is not the file's `active`.

    A release writes the color the file calls idle; if that color serves users live, the
    release would replace the version under them.
    """
    with _session(plan, conn) as reader:
        live = reader.routing(plan)
    active = plan.intent.active
    if not live.found:
        # Argo CD applies the routing object in wave 2, after the first color is ready, so
        # without it the app has never finished a sync here: at most the active color has
        # pods (the idle one comes in wave 3), so a release to the idle color cannot replace
        # what users get. Refusing would make every app's first release fail with --check-live.
        write_err(f"check-live: {escape(live.note or '')}; no color serves production yet, go ahead\n")
        return
    if live.production is None:
        raise ClusterError(
            f"refusing to release: cannot tell which color serves production from {live.kind} "
            f"{escape(live.name)} ({escape(live.note or '')})"
        )
    if live.production != active:
        raise ClusterError(
            f"refusing to release: production traffic goes to {live.production} live, but "
            f"{escape(plan.intent.file)} says active: {active}; the release would replace "
            f"{live.production}, the color serving users (sync the app, or fix active, first)"
        )


def require_client() -> None:
    """ClusterError, saying what to install, when the kubernetes client cannot be imported."""
    if _MISSING_CLIENT is not None:
        raise ClusterError(f"reading the cluster needs the Kubernetes client, which is not installed "
                           f"({_one_line(_MISSING_CLIENT)}): {INSTALL_CLIENT}")


# --- one command's cluster work ---------------------------------------------------------------


@contextmanager
def _session(plan: Plan, conn: Connection) -> Iterator[_Reader]:
    """The configuration, the namespace and a reader, all inside one deadline: at it, whatever
    runs is stopped (an exec plugin killed, a request dropped) and one ClusterError says what."""
    require_client()
    plugins: Confined | None = None
    reader: _Reader | None = None
    try:
        with deadline(conn.timeout) as clock, confined_processes(clock, _plugin_modules()) as plugins, \
                _logged_errors() as logged:
            loaded = load_config(conn, logged)
            with client.ApiClient(loaded.configuration) as api:
                reader = _Reader(api, loaded.configuration, resolve_namespace(plan, conn, loaded), clock)
                yield reader
    except OutOfTime as e:
        raise ClusterError(_out_of_time(conn.timeout, plugins, reader)) from e


def _plugin_modules() -> tuple[Any, ...]:
    # The client starts exec credential plugins (and gcp's cmd-path) through these modules' `subprocess`.
    return (exec_provider, kube_config)


def _out_of_time(seconds: float, plugins: Confined | None, reader: _Reader | None) -> str:
    within = f"within --timeout {seconds:g}s"
    if plugins is not None and plugins.killed:
        return (f"the exec credential plugin {quote(plugins.killed[0][0])} of the kubeconfig user did not "
                f"finish {within}; it was stopped")
    if reader is not None and reader.current is not None:
        return f"the Kubernetes API server at {reader.host} did not answer {within} ({reader.current})"
    if reader is not None:
        return f"reading the cluster did not finish {within}"
    return f"loading the Kubernetes configuration did not finish {within}"


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
def _logged_errors() -> Iterator[list[str]]:
    handler = _LoggedErrors()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.messages
    finally:
        root.removeHandler(handler)


# --- configuration and namespace --------------------------------------------------------------


@dataclass(frozen=True)
class LoadedConfig:
    """The client's configuration, and the namespace the configuration implies, if any."""

    configuration: Any  # kubernetes.client.Configuration
    namespace: Any  # the kubeconfig context's (or the pod's) namespace, as found; None: none named
    namespace_source: str  # where that namespace comes from, for messages


def load_config(conn: Connection, logged: list[str] | None = None) -> LoadedConfig:
    """The client configuration, from the kubeconfig or in-cluster; never printing anything.

    `kubernetes.config.load_config()` would print a notice to stdout, so it is not used.
    `logged`: what the client logged meanwhile (see _LoggedErrors); an error there fails.
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
        raise ClusterError(f"the exec credential plugin of the kubeconfig user failed: {_one_line(logged[0])}")
    # One attempt per request (the GETs here say so too): retries would only spend the deadline.
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
    if not spec.is_dns_label(value):
        raise ClusterError(f"{source} names namespace {quote(value)}, which is not a namespace name "
                           "(a DNS-1123 label of at most 63 characters)")
    return value  # type: ignore[return-value]


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
        return _one_line(f"{e.problem} (line {mark.line + 1}, column {mark.column + 1})")
    return _one_line(e)


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
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"get {resource} {escape(self.name)}{version} in namespace {self.namespace}"

    def path(self, version: str) -> str:
        api = ["apis", self.group, version] if self.group else ["api", version]  # the core group has its own root
        parts = [*api, "namespaces", self.namespace, self.resource, self.name]
        return "/" + "/".join(urllib.parse.quote(part, safe="") for part in parts)


@dataclass(frozen=True)
class _NotFound:
    details: dict[str, Any]  # the Status details; they name the object when it is what is missing


class _Reader:
    def __init__(self, api: Any, configuration: Any, namespace: str, clock: Deadline):
        self.pool = api.rest_client.pool_manager  # TLS, client certificates and proxy, as configured
        self.configuration = configuration
        self.url = configuration.host
        self.host = escape(configuration.host)  # as shown in messages
        self.namespace = namespace
        self.clock = clock
        self.current: _Request | None = None  # the request under way, for the message at the deadline

    def deployment(self, name: str, version_label: str) -> LiveDeployment | None:
        return self._one(_Request("deployments", "apps", name, self.namespace), "v1", _live_deployment,
                         version_label)

    def autoscaler(self, name: str) -> LiveAutoscaler | None:
        # autoscaling/v2 is what the render emits (served since Kubernetes 1.23)
        return self._one(_Request("horizontalpodautoscalers", "autoscaling", name, self.namespace), "v2",
                         _live_autoscaler)

    def _one(self, request: _Request, version: str, parse: Callable[..., Any], *args: Any) -> Any:
        """The object parsed, or None when the server has no such object."""
        answer = self._get(request, request.path(version))
        if isinstance(answer, _NotFound):
            return None
        return self._parsed(request, parse, answer, *args)

    def routing(self, plan: Plan) -> LiveRouting:
        """The live object that says where production goes, read with the newest version the
        cluster serves. A served version that lacks the object means the object does not exist
        (every served version of a resource shows the same objects), so the search stops there."""
        live = routing.live(plan)
        for version in live.versions:
            request = _Request(live.resource, live.group, live.name, self.namespace, version)
            answer = self._get(request, request.path(version))
            if not isinstance(answer, _NotFound):
                return self._parsed(request, _live_routing, answer, live, version, plan)
            if answer.details.get("name") == live.name:
                return LiveRouting(live.kind, live.name, False, api_version(live.group, version), None,
                                   f"{live.kind} {escape(live.name)} not found in namespace {self.namespace}")
            # The Status names nothing: this version is not served; try an older one.
        return LiveRouting(live.kind, live.name, False, None, None, f"the cluster serves no {live.group} "
                                                                    f"{'/'.join(live.versions)} ({live.product} not "
                                                                    "installed?)")

    def _get(self, request: _Request, path: str) -> Any:
        """The JSON object the server answers, or _NotFound; else a ClusterError."""
        headers = self._headers()  # may run the exec credential plugin again, to renew its token
        self.current = request
        left = self.clock.left()  # each socket operation gets the time left, so no step outlasts it
        try:
            response = self.pool.request("GET", self.url + path, headers=headers, retries=False, redirect=False,
                                         timeout=urllib3.Timeout(connect=left, read=left), preload_content=False)
            body = _read_answer(response)
        except urllib3.exceptions.HTTPError as e:
            raise ClusterError(_transport_failure(e, request, self.host, self.clock.seconds)) from e
        except ValueError as e:  # http.client refuses a header value; the message would show the token
            raise ClusterError(f"cannot send {request} to the Kubernetes API server at {self.host}: the "
                               "credentials of the kubeconfig user do not fit in an HTTP header") from e
        self.current = None
        return self._answer(request, response, body)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "Accept-Encoding": "identity",
                   "User-Agent": f"bgrender/{__version__}"}
        try:
            settings = self.configuration.auth_settings()
        except (ConfigException, OSError, ValueError, TypeError, KeyError, AttributeError) as e:
            raise ClusterError(f"cannot renew the credentials of the kubeconfig user: {_one_line(e)}") from e
        for setting in settings.values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[setting["key"]] = setting["value"]
        return headers

    def _answer(self, request: _Request, response: Any, body: bytes | None) -> Any:
        if body is None:
            raise self._malformed(request, f"an answer of more than {MAX_ANSWER_BYTES >> 20} MiB")
        coding = response.headers.get("Content-Encoding", "identity")
        if coding.strip().lower() not in ("", "identity"):
            raise self._malformed(request, f"a body encoded as {quote(coding)}, which was not asked for")
        if response.status == 200:
            return self._object(request, response.headers.get("Content-Type", ""), body)
        status = _status_object(body)
        if response.status == 404 and status is not None:
            details = status.get("details")
            return _NotFound(details if isinstance(details, dict) else {})
        if response.status == 404:
            raise self._malformed(request, "404 without a Kubernetes Status (is this a Kubernetes API server?)")
        raise ClusterError(_api_failure(response.status, response.reason, status, request, self.host))

    def _object(self, request: _Request, content_type: str, body: bytes) -> Any:
        if content_type.partition(";")[0].strip().lower() != "application/json":
            raise self._malformed(request, f"expected application/json, got {quote(content_type)}")
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as e:  # RecursionError: arrays nested thousands deep
            raise self._malformed(request, f"not JSON: {_one_line(e)}") from e

    def _parsed(self, request: _Request, parse: Callable[..., Any], *args: Any) -> Any:
        try:
            return parse(*args)
        except Malformed as e:  # its text may quote the answer as it is
            raise self._malformed(request, _one_line(e)) from e

    def _malformed(self, request: _Request, detail: str) -> ClusterError:
        """`detail`: already escaped."""
        return ClusterError(f"malformed answer from the Kubernetes API server at {self.host} to {request}: {detail}")


def _read_answer(response: Any) -> bytes | None:
    """The whole body, or None past MAX_ANSWER_BYTES; the connection goes back to the pool only
    when the body was read to its end."""
    body = bytearray()
    try:
        for chunk in response.stream(64 * 1024, decode_content=False):
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                response.close()
                return None
    except BaseException:
        response.close()
        raise
    response.release_conn()
    return bytes(body)


# --- errors ---------------------------------------------------------------------------------


def _status_object(body: bytes) -> dict[str, Any] | None:
    """The Kubernetes `Status` object of an error answer, when the body is one."""
    try:
        status = json.loads(body or b"")
    except (ValueError, RecursionError):
        return None
    return status if isinstance(status, dict) and status.get("kind") == "Status" else None


def _api_failure(code: int, reason: str | None, status: dict[str, Any] | None, request: _Request,
                 host: str) -> str:
    said = _one_line((status or {}).get("message") or reason or "")
    if code == 401:
        return (f"the Kubernetes API server at {host} rejected the credentials (401 Unauthorized) "
                f"on {request}: renew the token or certificate of the kubeconfig user")
    if code == 403:
        group = f"API group {request.group}" if request.group else 'the core API group ("")'
        return (f"forbidden (403): may not get {request.resource} in {group} "
                f"in namespace {request.namespace}; grant get on {request.resource} to this user "
                f"(see {RBAC_EXAMPLE}); the server said: {said}")
    return f"the Kubernetes API server at {host} answered {request} with {code} {_one_line(reason or '', 80)}: {said}"


def _transport_failure(e: Exception, request: _Request, host: str, timeout: float) -> str:
    # NewConnectionError is a ConnectTimeoutError in urllib3, so it is checked first.
    if isinstance(e, urllib3.exceptions.NewConnectionError):
        return f"cannot reach the Kubernetes API server at {host}: {_os_reason(e)}"
    if isinstance(e, urllib3.exceptions.SSLError):
        return f"TLS with the Kubernetes API server at {host} failed: {_one_line(e.__context__ or e)}"
    if isinstance(e, urllib3.exceptions.TimeoutError):
        return f"the Kubernetes API server at {host} did not answer within --timeout {timeout:g}s ({request})"
    if isinstance(e, urllib3.exceptions.ProtocolError):
        return f"the Kubernetes API server at {host} dropped the connection during {request}: {_os_reason(e)}"
    return f"talking to the Kubernetes API server at {host} failed during {request}: {_one_line(e)}"


def _os_reason(e: BaseException) -> str:
    """"Connection refused" rather than urllib3's text with an object's repr in it."""
    cause = e.__cause__ or e.__context__
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return _one_line(cause.strerror)
        cause = cause.__cause__ or cause.__context__
    return _one_line(e.args[-1] if e.args else e)


def _one_line(text: object, limit: int = 300) -> str:
    """Text from elsewhere (an exception, a server), on one line of printable ASCII, cut short."""
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return escape(flat if len(flat) <= limit else flat[: limit - 3] + "...")


# --- answers --------------------------------------------------------------------------------


def _expect_kind(obj: Any, kind: str) -> None:
    if not isinstance(obj, dict):
        raise Malformed(f"expected a {kind}, got a JSON {type(obj).__name__}")
    got = obj.get("kind")
    if got != kind:  # a string as it is: the message is escaped once, where it is shown
        raise Malformed(f"expected a {kind}, got kind " + (f'"{got}"' if isinstance(got, str) else repr(got)))


def _live_deployment(deployment: Any, version_label: str) -> LiveDeployment:
    _expect_kind(deployment, "Deployment")
    spec_ = _required(deployment, "spec", dict, "spec")
    metadata = _field(deployment, "metadata", dict, {})
    template = _field(_required(spec_, "template", dict, "spec.template"), "metadata", dict, {},
                      "spec.template.metadata")
    version, source = _template_version(template, version_label)
    replicas = _field(spec_, "replicas", int, 1, "spec.replicas")  # 1: the API's default
    status = _field(deployment, "status", dict, {})
    return LiveDeployment(
        name=_field(metadata, "name", str, "", "metadata.name"),
        version=version,
        version_source=source,
        replicas=replicas,
        ready_replicas=_count(status, "readyReplicas"),
        rollout_pending=rollout_pending(
            replicas=replicas,
            generation=_field(metadata, "generation", int, 0, "metadata.generation"),
            observed_generation=_field(status, "observedGeneration", int, None, "status.observedGeneration"),
            updated=_count(status, "updatedReplicas"),
            current=_count(status, "replicas"),
            available=_count(status, "availableReplicas"),
        ),
    )


def _template_version(template: dict[str, Any], version_label: str) -> tuple[str | None, str | None]:
    """The pod template's version: its annotation, else its version label (older renders)."""
    where = "spec.template.metadata"
    annotations = _field(template, "annotations", dict, {}, f"{where}.annotations")
    labels = _field(template, "labels", dict, {}, f"{where}.labels")
    if VERSION_ANNOTATION in annotations:
        return expect(annotations[VERSION_ANNOTATION], str, f"annotation {VERSION_ANNOTATION}"), "annotation"
    if version_label in labels:
        return expect(labels[version_label], str, f"label {version_label}"), "label"
    return None, None


def _field(obj: dict[str, Any], key: str, kind: type, default: Any, where: str | None = None) -> Any:
    """obj[key] if it has that type; `default` when absent or null, as the API omits empty fields."""
    value = obj.get(key)
    return default if value is None else expect(value, kind, where or key)


def _required(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if obj.get(key) is None:
        raise Malformed(f"{where} is missing")
    return expect(obj[key], kind, where)


def _count(status: dict[str, Any], key: str) -> int:
    return _field(status, key, int, 0, f"status.{key}")  # type: ignore[no-any-return]


def _live_autoscaler(hpa: Any) -> LiveAutoscaler:
    _expect_kind(hpa, "HorizontalPodAutoscaler")
    spec_ = _required(hpa, "spec", dict, "spec")
    status = _field(hpa, "status", dict, {})  # none yet until the HPA controller has seen it
    return LiveAutoscaler(
        name=_field(_field(hpa, "metadata", dict, {}), "name", str, "", "metadata.name"),
        min_replicas=_field(spec_, "minReplicas", int, 1, "spec.minReplicas"),  # 1: the API's default
        max_replicas=_required(spec_, "maxReplicas", int, "spec.maxReplicas"),
        current_replicas=_count(status, "currentReplicas"),
        desired_replicas=_count(status, "desiredReplicas"),
    )


def _live_routing(obj: Any, live: LiveObject, version: str, plan: Plan) -> LiveRouting:
    _expect_kind(obj, live.kind)
    production = routing.production(obj, plan)
    return LiveRouting(live.kind, live.name, True, api_version(live.group, version), production.color,
                       production.note)
