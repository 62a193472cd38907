"""A loopback server that answers as the Kubernetes API does, for tests of the cluster commands.

It serves GETs of the namespaced objects `bgrender status` reads (Deployments, Services,
HorizontalPodAutoscalers, Istio VirtualServices, Gateway API HTTPRoutes) from objects the tests
put in, and merge PATCHes of a Deployment's scale (the capacity hook's), with the shapes
kube-apiserver sends: objects with metadata, defaults and status, and `Status` objects for
401, 403, 404 and 409 (a missing object's Status names it; a path the server
does not serve, such as an API version it lacks, gets a Status that names nothing). It records the
method and path of every request, and can be told to misbehave: hang, answer garbage, deny,
take its time over every answer (`delay`), send an answer a byte at a time or a body that
never ends (`drip`).

Only 127.0.0.1, a random port, threads that end by themselves: a hanging, slow or dripping
answer waits on an event that the server's stop sets, and at most HANG_SECONDS at a time.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import socket
import ssl
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

TOKEN = "fake-token-for-tests"
EXEC_API = "client.authentication.k8s.io/v1"
HANG_SECONDS = 30
ISTIO = "networking.istio.io"
GATEWAY_API = "gateway.networking.k8s.io"
# kind → (API group, resource): what the server holds; "" is the core group, served at /api.
RESOURCES = {
    "Deployment": ("apps", "deployments"),
    "Service": ("", "services"),
    "HorizontalPodAutoscaler": ("autoscaling", "horizontalpodautoscalers"),
    "VirtualService": (ISTIO, "virtualservices"),
    "HTTPRoute": (GATEWAY_API, "httproutes"),
}
GROUPS = {resource: group for group, resource in RESOURCES.values()}
# The versions a recent cluster with Istio and the Gateway API serves, by group.
SERVED = {"": ("v1",), "apps": ("v1",), "autoscaling": ("v1", "v2"), ISTIO: ("v1", "v1beta1", "v1alpha3"),
          GATEWAY_API: ("v1", "v1beta1")}
OBJECT_PATH = re.compile(
    r"^/(?:api|apis/(?P<group>[^/]+))/(?P<version>[^/]+)"
    r"/namespaces/(?P<namespace>[^/]+)/(?P<resource>[^/]+)/(?P<name>[^/]+)(?:/(?P<subresource>scale))?$"
)
MERGE_PATCH = "application/merge-patch+json"


def status_object(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A `Status` as kube-apiserver sends with every error."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "details": details or {}, "code": code}


@dataclass(frozen=True)
class Answer:
    """A raw answer, for faults: any status, reason phrase, content type, headers and bytes."""

    status: int
    content_type: str
    body: bytes
    reason: str | None = None  # None: the standard phrase of the status
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Drip:
    """How to send every answer slowly, one piece every `interval` seconds: "headers", the whole
    answer a byte at a time from its status line on; "body", the headers at once, then the body
    a byte at a time; "endless", the headers at once, then a chunked body of `chunk`s that never
    ends. With an interval of 0, the endless body comes as fast as the client reads it."""

    part: str
    interval: float = 0.05
    chunk: bytes = b" "


class FakeKubeApi:
    """The objects, the faults, the record of requests, and the server that serves them."""

    def __init__(self, tls: TlsFiles | None = None):
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (resource, namespace, name)
        self.served: dict[str, set[str]] = {group: set(versions) for group, versions in SERVED.items()}
        self.requests: list[tuple[str, str]] = []  # (method, path), in order
        self.forbidden: set[str] = set()  # resources the caller may not get
        self.role_rules: list[dict[str, Any]] | None = None  # when set, RBAC: only what they grant
        self.answers: dict[str, Answer] = {}  # path → a raw answer instead of the object
        self.hang = False
        self.delay = 0.0  # seconds before each answer
        self.drip: Drip | None = None
        self.user = "system:serviceaccount:ci:bgrender"
        # PATCH of a Deployment's scale (the capacity hook): `before_patch(deployment)` runs first
        # (an HPA writing meanwhile, say); `on_scale(deployment)` after, as the controllers would
        # (default: every pod ready at once).
        self.before_patch: Callable[[dict[str, Any]], None] = lambda deployment: None
        self.on_scale: Callable[[dict[str, Any]], None] = lambda d: set_rollout(d, ready=d["spec"]["replicas"])
        self.patches: list[tuple[str, dict[str, Any]]] = []  # (path, body) of every PATCH, in order
        self._stop = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.api = self  # type: ignore[attr-defined]
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls.cert, tls.key)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> FakeKubeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # hanging answers end now
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- what the cluster holds -------------------------------------------------------------

    def apply(self, manifests: list[dict[str, Any]], namespace: str = "default") -> None:
        """Store rendered manifests of the kinds it serves as the API server would after a
        finished sync: defaults filled in, Deployments rolled out (to their HPA's minReplicas
        when one governs them), HPAs at their minReplicas."""
        scaled = {m["spec"]["scaleTargetRef"]["name"]: m["spec"].get("minReplicas", 1)
                  for m in manifests if m["kind"] == "HorizontalPodAutoscaler"}
        for manifest in manifests:
            ns = manifest["metadata"].get("namespace", namespace)
            kind = manifest["kind"]
            if kind == "Deployment":
                obj = live_deployment(manifest, ns, scaled.get(manifest["metadata"]["name"]))
            elif kind in LIVE:
                obj = LIVE[kind](manifest, ns)
            elif kind in RESOURCES:
                obj = live_object(manifest, ns)
            else:
                continue
            self.put(RESOURCES[kind][1], obj)

    def put(self, resource: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self.objects[(resource, meta["namespace"], meta["name"])] = obj

    def get(self, resource: str, name: str, namespace: str = "default") -> dict[str, Any]:
        return self.objects[(resource, namespace, name)]

    def delete(self, resource: str, name: str, namespace: str = "default") -> None:
        del self.objects[(resource, namespace, name)]

    @property
    def stopped(self) -> threading.Event:
        return self._stop

    def methods(self) -> set[str]:
        return {method for method, _ in self.requests}

    def paths(self) -> list[str]:
        return [path for _, path in self.requests]

    # --- answering --------------------------------------------------------------------------

    def answer(self, method: str, path: str, authorization: str | None, body: bytes = b"",
               content_type: str = "") -> Answer | None:
        self.requests.append((method, path))
        if self.hang:
            self._stop.wait(HANG_SECONDS)
            return None  # the connection closes without an answer
        if self.delay:
            self._stop.wait(self.delay)
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or token != TOKEN:  # the scheme is case-insensitive (RFC 9110)
            return _json(401, status_object(401, "Unauthorized", "Unauthorized"))
        if path in self.answers:
            return self.answers[path]
        return self._object_answer(method, path, body, content_type)

    def _object_answer(self, method: str, path: str, body: bytes, content_type: str) -> Answer:
        found = OBJECT_PATH.match(path.split("?")[0])
        group = (found["group"] or "") if found else ""
        if not found or GROUPS.get(found["resource"]) != group or found["version"] not in self.served.get(group, ()) \
                or found["subresource"] and found["resource"] != "deployments":
            return _json(404, status_object(404, "NotFound", "the server could not find the requested resource"))
        subresource = found["subresource"] or ""
        if (method, subresource) not in (("GET", ""), ("PATCH", "scale")):
            return _json(405, status_object(405, "MethodNotAllowed", f"{method} is not supported by this test server"))
        resource, name, namespace = found["resource"], found["name"], found["namespace"]
        qualified = f"{resource}.{group}" if group else resource
        details = {"name": name, **({"group": group} if group else {}), "kind": resource}
        verb, rbac_resource = method.lower(), f"{resource}/{subresource}" if subresource else resource
        if resource in self.forbidden or not self._granted(verb, group, rbac_resource, name):
            return _json(403, status_object(403, "Forbidden", (
                f'{qualified} "{name}" is forbidden: User "{self.user}" cannot {verb} resource '
                f'"{rbac_resource}" in API group "{group}" in the namespace "{namespace}"'), details))
        obj = self.objects.get((resource, namespace, name))
        if obj is None:
            return _json(404, status_object(404, "NotFound", f'{qualified} "{name}" not found', details))
        if method == "PATCH":
            return self._patch_scale(path, obj, body, content_type)
        # Every served version of a resource shows the object, in that version.
        return _json(200, {**obj, "apiVersion": f"{group}/{found['version']}" if group else found["version"]})

    def _patch_scale(self, path: str, deployment: dict[str, Any], body: bytes, content_type: str) -> Answer:
        """A merge patch of a Deployment's scale, as kube-apiserver applies one: a resourceVersion
        in it must be the object's (409 otherwise); the answer is the autoscaling/v1 Scale."""
        if content_type != MERGE_PATCH:
            return _json(415, status_object(415, "UnsupportedMediaType", f"the body of the request was in an "
                                                                         f"unknown format: {content_type}"))
        patch = json.loads(body)
        self.patches.append((path, patch))
        self.before_patch(deployment)
        meta = deployment["metadata"]
        wanted = patch.get("metadata", {}).get("resourceVersion")
        if wanted is not None and wanted != meta["resourceVersion"]:
            return _json(409, status_object(409, "Conflict", f'Operation cannot be fulfilled on deployments.apps '
                                                             f'"{meta["name"]}": the object has been modified; please '
                                                             "apply your changes to the latest version and try again"))
        if "replicas" in patch.get("spec", {}):
            deployment["spec"]["replicas"] = patch["spec"]["replicas"]
            changed(deployment)
            self.on_scale(deployment)
        return _json(200, {"kind": "Scale", "apiVersion": "autoscaling/v1",
                           "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion")},
                           "spec": {"replicas": deployment["spec"]["replicas"]},
                           "status": {"replicas": deployment["status"].get("replicas", 0)}})

    def _granted(self, verb: str, group: str, resource: str, name: str) -> bool:
        if self.role_rules is None:
            return True
        return any(group in rule.get("apiGroups", []) and resource in rule.get("resources", [])
                   and verb in rule.get("verbs", []) and name in rule.get("resourceNames", [name])
                   for rule in self.role_rules)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a deadline passed) closed the connection: not the server's
        # failure, and no traceback in the output of the command under test.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def _serve(self) -> None:
        api = self.server.api
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = api.answer(self.command, self.path, self.headers.get("Authorization"), body,
                            self.headers.get("Content-Type", ""))
        if answer is None:
            return
        if api.drip is not None:
            self._drip(answer, api.drip, api.stopped)
            return
        self.send_response(answer.status, answer.reason)
        self.send_header("Content-Type", answer.content_type)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _drip(self, answer: Answer, drip: Drip, stopped: threading.Event) -> None:
        endless = drip.part == "endless"
        head = (f"HTTP/1.1 {answer.status} {answer.reason or self.responses[answer.status][0]}\r\n"
                f"Content-Type: {answer.content_type}\r\n"
                + ("Transfer-Encoding: chunked\r\n" if endless else f"Content-Length: {len(answer.body)}\r\n")
                + "Connection: close\r\n\r\n").encode("latin-1")
        try:
            if drip.part == "headers":
                self._slowly(head + answer.body, drip.interval, stopped)
                return
            self.wfile.write(head)
            if not endless:
                self._slowly(answer.body, drip.interval, stopped)
                return
            piece = f"{len(drip.chunk):x}\r\n".encode() + drip.chunk + b"\r\n"
            while not stopped.wait(drip.interval):
                self.wfile.write(piece)
        except OSError:  # the client gave up and closed the connection
            pass

    def _slowly(self, data: bytes, interval: float, stopped: threading.Event) -> None:
        for index in range(len(data)):
            if stopped.wait(interval):
                return
            self.wfile.write(data[index:index + 1])

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


def _json(status: int, obj: Any) -> Answer:
    return Answer(status, "application/json", json.dumps(obj).encode())


# --- objects as the API server returns them ---------------------------------------------------


def exec_user(command: Path, *args: str) -> dict[str, Any]:
    """A kubeconfig user whose credentials come from an exec credential plugin."""
    return {"exec": {"apiVersion": EXEC_API, "command": str(command), "args": list(args),
                     "interactiveMode": "Never"}}


def live_object(manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A manifest as stored: namespace, uid, resourceVersion, generation, creationTimestamp."""
    obj = copy.deepcopy(manifest)
    name = obj["metadata"]["name"]
    obj["metadata"].update({
        "namespace": namespace,
        "uid": f"00000000-0000-4000-8000-{zlib.crc32(f'{namespace}/{name}'.encode()):012d}",
        "resourceVersion": "4242",
        "generation": 1,
        "creationTimestamp": "2026-11-20T09:00:00Z",
    })
    return obj


def live_deployment(manifest: dict[str, Any], namespace: str, scaled_to: int | None = None) -> dict[str, Any]:
    """A rendered Deployment after the controller rolled it out: defaults filled in, status set;
    `scaled_to`: the replicas an HPA set (a Deployment an HPA governs renders without any)."""
    obj = live_object(manifest, namespace)
    spec = obj["spec"]
    spec.setdefault("replicas", 1 if scaled_to is None else scaled_to)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    spec.setdefault("strategy", {"type": "RollingUpdate",
                                 "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    spec["template"]["spec"].setdefault("restartPolicy", "Always")
    spec["template"]["spec"].setdefault("dnsPolicy", "ClusterFirst")
    set_rollout(obj, ready=spec["replicas"])
    return obj


def changed(obj: dict[str, Any]) -> None:
    """A write of `obj`'s spec: a new resourceVersion and generation, as the API server gives it."""
    meta = obj["metadata"]
    meta["resourceVersion"] = str(int(meta["resourceVersion"]) + 1)
    meta["generation"] += 1


def set_rollout(deployment: dict[str, Any], *, ready: int, updated: int | None = None,
                observed: bool = True) -> None:
    """The status a Deployment has with `ready` ready pods (all updated unless told otherwise)."""
    replicas = deployment["spec"]["replicas"]
    updated = replicas if updated is None else updated
    generation = deployment["metadata"]["generation"]
    available = min(ready, updated)
    deployment["status"] = {
        "observedGeneration": generation if observed else generation - 1,
        "replicas": max(replicas, updated),
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
        "conditions": [
            {"type": "Available", "status": "True" if available >= replicas else "False",
             "reason": "MinimumReplicasAvailable" if available >= replicas else "MinimumReplicasUnavailable",
             "lastUpdateTime": "2026-11-20T09:01:00Z", "lastTransitionTime": "2026-11-20T09:01:00Z"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
             "lastUpdateTime": "2026-11-20T09:01:00Z", "lastTransitionTime": "2026-11-20T09:00:00Z"},
        ],
    }
    if ready == 0:
        for key in ("readyReplicas", "availableReplicas"):  # the API omits zero counts
            deployment["status"].pop(key)


def set_pod_version(deployment: dict[str, Any], version: str, label: str = "version") -> None:
    """A new pod template version, as after someone applied it by hand."""
    template = deployment["spec"]["template"]["metadata"]
    template["annotations"]["bgrender.io/version"] = version
    template["labels"][label] = version


def live_service(manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A Service as stored: a cluster IP allocated, the defaults of type ClusterIP filled in."""
    obj = live_object(manifest, namespace)
    spec = obj["spec"]
    address = f"10.96.{zlib.crc32(obj['metadata']['uid'].encode()) % 250}.{len(obj['metadata']['name'])}"
    spec.update({"type": spec.get("type", "ClusterIP"), "clusterIP": address, "clusterIPs": [address],
                 "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                 "internalTrafficPolicy": "Cluster"})
    for port in spec["ports"]:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port["port"])
    obj["status"] = {"loadBalancer": {}}
    return obj


def live_autoscaler(manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    """An HPA after the controller has seen it: at its minReplicas, metrics read."""
    obj = live_object(manifest, namespace)
    spec = obj["spec"]
    spec.setdefault("minReplicas", 1)
    spec.setdefault("metrics", [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}])
    set_scale(obj, current=spec["minReplicas"])
    return obj


def set_scale(hpa: dict[str, Any], *, current: int, desired: int | None = None) -> None:
    """The status an HPA has with `current` pods that it wants to be `desired` (default: as many)."""
    hpa["status"] = {
        "observedGeneration": hpa["metadata"]["generation"],
        "currentReplicas": current,
        "desiredReplicas": current if desired is None else desired,
        "currentMetrics": [{"type": "Resource", "resource": {
            "name": "cpu", "current": {"averageUtilization": 41, "averageValue": "41m"}}}],
        "conditions": [
            {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
             "lastTransitionTime": "2026-11-20T09:01:00Z"},
            {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound",
             "lastTransitionTime": "2026-11-20T09:01:00Z"},
        ],
    }
    if current == 0:
        del hpa["status"]["currentReplicas"]  # the API omits zero counts


def live_http_route(manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    """An HTTPRoute as stored: the CRD's defaults filled in (a rule without matches matches the
    path prefix /, a backend's weight is 1, ...), and accepted by each parent."""
    obj = live_object(manifest, namespace)
    spec = obj["spec"]
    for parent in spec["parentRefs"]:
        parent.setdefault("group", GATEWAY_API)
        parent.setdefault("kind", "Gateway")
    for rule in spec.setdefault("rules", [{}]):
        for match in rule.setdefault("matches", [{}]):
            match.setdefault("path", {"type": "PathPrefix", "value": "/"})
            for header in match.get("headers", []):
                header.setdefault("type", "Exact")
        for backend in rule.get("backendRefs", []):
            backend.setdefault("group", "")
            backend.setdefault("kind", "Service")
            backend.setdefault("weight", 1)
    obj["status"] = {"parents": [{"parentRef": parent, "controllerName": "example.net/gateway-controller",
                                  "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted",
                                                  "observedGeneration": 1,
                                                  "lastTransitionTime": "2026-11-20T09:01:00Z", "message": ""}]}
                                 for parent in spec["parentRefs"]]}
    return obj


LIVE = {"Service": live_service, "HorizontalPodAutoscaler": live_autoscaler, "HTTPRoute": live_http_route}


def set_production(obj: dict[str, Any], color: str) -> None:
    """Send production traffic to `color` by hand, as with `kubectl edit`, in the routing object
    of any provider: a VirtualService's default route (the rule without match: its color's host), an HTTPRoute's
    catch-all rule (the per-color Service it sends to), a Service's selector."""
    if obj["kind"] == "VirtualService":
        for rule in obj["spec"]["http"]:
            if not rule.get("match"):
                for route in rule["route"]:
                    destination = route["destination"]
                    if "subset" in destination:  # the subsets bgrender rendered before routing by host
                        destination["subset"] = color
                    else:
                        destination["host"] = re.sub(r"-(blue|green)$", lambda _: f"-{color}", destination["host"])
    elif obj["kind"] == "HTTPRoute":
        for rule in obj["spec"]["rules"]:
            if not any(match.get("headers") for match in rule["matches"]):
                for backend in rule["backendRefs"]:
                    backend["name"] = re.sub(r"-(blue|green)$", lambda _: f"-{color}", backend["name"])
    else:
        selector = obj["spec"]["selector"]
        selector.update({key: color for key, value in selector.items() if value in ("blue", "green")})


# --- client configuration --------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def ca_data(self) -> str:
        return base64.b64encode(self.cert.read_bytes()).decode()


def make_tls(directory: Path, name: str = "apiserver") -> TlsFiles:
    """A self-signed certificate for 127.0.0.1 (its own CA), made with the openssl command."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return TlsFiles(cert, key)


def write_kubeconfig(path: Path, servers: dict[str, str], *, current: str, token: str = TOKEN,
                     ca_data: str | None = None, namespace: str | None = None,
                     user: dict[str, Any] | None = None) -> Path:
    """A kubeconfig with one context per server (context, cluster and user share its name);
    each user has `token`, or is `user` (an exec credential plugin, say)."""
    def cluster(server: str) -> dict[str, Any]:
        return {"server": server, **({"certificate-authority-data": ca_data} if ca_data else {})}

    def context(name: str) -> dict[str, Any]:
        return {"cluster": name, "user": name, **({"namespace": namespace} if namespace else {})}

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": cluster(s)} for n, s in servers.items()],
        "users": [{"name": n, "user": user or {"token": token}} for n in servers],
        "contexts": [{"name": n, "context": context(n)} for n in servers],
        "current-context": current,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class Blackhole:
    """A port whose listen queue is full: connecting hangs, as to a firewalled API server."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        port = self._listener.getsockname()[1]
        self._filler = socket.create_connection(("127.0.0.1", port), timeout=2)  # takes the one slot
        self.url = f"https://127.0.0.1:{port}"

    def close(self) -> None:
        self._filler.close()
        self._listener.close()
