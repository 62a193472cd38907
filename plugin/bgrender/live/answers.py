"""What the Kubernetes API server's answers mean: pure parsing, no I/O.

A Request names one GET the way RBAC speaks, for the path and for messages. `read_answer`
turns an answer (status, headers, body) into the JSON object, a NotFound, or a ClusterError
of one line; `live_deployment`, `live_autoscaler` and `live_routing` turn an object into the
LiveState records of status.py, raising Malformed when it is not what it claims to be.
`one_line` puts text from elsewhere (an exception, a server, a kubeconfig) on one line for
a message. Nothing here imports the kubernetes client or urllib3: the transport
(transport.py) and the configuration (kubeconfig.py) do.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bgrender import routing
from bgrender.errors import ClusterError, escape, quote
from bgrender.intent.env import api_version
from bgrender.labels import RELEASE, VERSION_ANNOTATION
from bgrender.live.status import LiveAutoscaler, LiveDeployment, LiveRouting, pod_images, rollout_pending
from bgrender.plan.plan import Plan
from bgrender.routing import LiveObject, Malformed, expect

RBAC_EXAMPLE = "examples/rbac/status-reader.yaml"
# etcd keeps an object to 1.5 MiB by default; its JSON, managedFields and all, stays well
# under this. A larger (or endless) answer is refused while it arrives, not buffered.
MAX_ANSWER_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Request:
    """A request about one object (a GET, unless `verb` says otherwise), described the way
    RBAC speaks, for error messages."""

    resource: str
    group: str
    name: str
    namespace: str
    version: str = ""
    verb: str = "get"
    subresource: str = ""  # "scale": the object's scale subresource
    rbac: str = RBAC_EXAMPLE  # where the grant it needs is written, for a 403

    @property
    def resources(self) -> str:
        """The resource as a Role names it: "deployments/scale"."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    def __str__(self) -> str:
        version = f" ({self.version})" if self.version else ""
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        subresource = f" ({self.subresource})" if self.subresource else ""
        return f"{self.verb} {resource} {escape(self.name)}{subresource}{version} in namespace {self.namespace}"

    def path(self, version: str) -> str:
        api = ["apis", self.group, version] if self.group else ["api", version]  # the core group has its own root
        parts = [*api, "namespaces", self.namespace, self.resource, self.name]
        parts += [self.subresource] if self.subresource else []
        return "/" + "/".join(urllib.parse.quote(part, safe="") for part in parts)


@dataclass(frozen=True)
class NotFound:
    details: dict[str, Any]  # the Status details; they name the object when it is what is missing


def one_line(text: object, limit: int = 300) -> str:
    """Text from elsewhere (an exception, a server), on one line of printable ASCII, cut short."""
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return escape(flat if len(flat) <= limit else flat[: limit - 3] + "...")


def malformed(host: str, request: Request, detail: str) -> ClusterError:
    """`host` and `detail`: already escaped."""
    return ClusterError(f"malformed answer from the Kubernetes API server at {host} to {request}: {detail}")


# --- an answer ----------------------------------------------------------------------------------


def read_answer(request: Request, host: str, code: int, reason: str | None, headers: Mapping[str, str],
                body: bytes) -> Any:
    """The JSON object of a 200 answer, or NotFound for a 404 with a Kubernetes Status; else
    a ClusterError saying what the server answered. `host`: as shown in messages."""
    coding = headers.get("Content-Encoding", "identity")
    if coding.strip().lower() not in ("", "identity"):
        raise malformed(host, request, f"a body encoded as {quote(coding)}, which was not asked for")
    if code == 200:
        return _object(request, host, headers.get("Content-Type", ""), body)
    status = _status_object(body)
    if code == 404 and status is not None:
        details = status.get("details")
        return NotFound(details if isinstance(details, dict) else {})
    if code == 404:
        raise malformed(host, request, "404 without a Kubernetes Status (is this a Kubernetes API server?)")
    raise ClusterError(_api_failure(code, reason, status, request, host))


def _object(request: Request, host: str, content_type: str, body: bytes) -> Any:
    if content_type.partition(";")[0].strip().lower() != "application/json":
        raise malformed(host, request, f"expected application/json, got {quote(content_type)}")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:  # RecursionError: arrays nested thousands deep
        raise malformed(host, request, f"not JSON: {one_line(e)}") from e


def _status_object(body: bytes) -> dict[str, Any] | None:
    """The Kubernetes `Status` object of an error answer, when the body is one."""
    try:
        status = json.loads(body or b"")
    except (ValueError, RecursionError):
        return None
    return status if isinstance(status, dict) and status.get("kind") == "Status" else None


def _api_failure(code: int, reason: str | None, status: dict[str, Any] | None, request: Request,
                 host: str) -> str:
    said = one_line((status or {}).get("message") or reason or "")
    if code == 401:
        return (f"the Kubernetes API server at {host} rejected the credentials (401 Unauthorized) "
                f"on {request}: renew the token or certificate of the kubeconfig user")
    if code == 403:
        group = f"API group {request.group}" if request.group else 'the core API group ("")'
        return (f"forbidden (403): may not {request.verb} {request.resources} in {group} "
                f"in namespace {request.namespace}; grant {request.verb} on {request.resources} to this user "
                f"(see {request.rbac}); the server said: {said}")
    return f"the Kubernetes API server at {host} answered {request} with {code} {one_line(reason or '', 80)}: {said}"


# --- the objects --------------------------------------------------------------------------------


def _expect_kind(obj: Any, kind: str) -> None:
    if not isinstance(obj, dict):
        raise Malformed(f"expected a {kind}, got a JSON {type(obj).__name__}")
    got = obj.get("kind")
    if got != kind:  # a string as it is: the message is escaped once, where it is shown
        raise Malformed(f"expected a {kind}, got kind " + (f'"{got}"' if isinstance(got, str) else repr(got)))


def live_deployment(deployment: Any, version_label: str) -> LiveDeployment:
    _expect_kind(deployment, "Deployment")
    spec_ = _required(deployment, "spec", dict, "spec")
    metadata = _field(deployment, "metadata", dict, {})
    pod_template = _required(spec_, "template", dict, "spec.template")
    template = _field(pod_template, "metadata", dict, {}, "spec.template.metadata")
    version, source = _template_version(template, version_label)
    labels = _field(template, "labels", dict, {}, "spec.template.metadata.labels")
    release = expect(labels[RELEASE], str, f"label {RELEASE}") if RELEASE in labels else None
    replicas = _field(spec_, "replicas", int, 1, "spec.replicas")  # 1: the API's default
    status = _field(deployment, "status", dict, {})
    return LiveDeployment(
        name=_field(metadata, "name", str, "", "metadata.name"),
        version=version,
        version_source=source,
        release=release,
        images=pod_images(_field(pod_template, "spec", dict, {}, "spec.template.spec"), "spec.template.spec"),
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
    return _field(status, key, int, 0, f"status.{key}")


def live_autoscaler(hpa: Any) -> LiveAutoscaler:
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


def live_routing(obj: Any, live: LiveObject, version: str, plan: Plan) -> LiveRouting:
    _expect_kind(obj, live.kind)
    production = routing.production(obj, plan)
    return LiveRouting(live.kind, live.name, True, api_version(live.group, version), production.color,
                       production.note, production.share)
