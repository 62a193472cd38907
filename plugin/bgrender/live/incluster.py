"""The API server as a pod sees it, with the standard library only: for the capacity hook
(`bgrender scale-up`), which runs from the lean bgrender image, where neither the kubernetes
client nor urllib3 is installed.

In a pod, the API server is `$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`, its
certificate signed by the CA in the service account directory, and the caller is the token
there (read again for every request: the kubelet rotates it). Requests go one at a time over
one TLS connection, each socket operation bounded by the time left on the command's deadline;
an answer is read with the size limit and parsed by answers.py, as the status reads are. A
failure to reach or to talk to the server is a ClusterError of one line.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bgrender import __version__
from bgrender.errors import ClusterError, escape
from bgrender.live.answers import MAX_ANSWER_BYTES, Request, malformed, one_line, read_answer
from bgrender.live.deadline import Deadline

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class Conflict:
    """A 409: the object changed since it was read (its resourceVersion is not the one sent)."""


class InCluster:
    """Requests to the API server of the pod's cluster, as its service account."""

    def __init__(self, env: Mapping[str, str], clock: Deadline, directory: str = SERVICE_ACCOUNT_DIR):
        host, port = env.get("KUBERNETES_SERVICE_HOST", ""), env.get("KUBERNETES_SERVICE_PORT", "")
        if not host or not port.isdigit():
            raise ClusterError("not in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT do not say "
                               "where the API server is (the capacity hook runs in the cluster, as a service "
                               "account)")
        self.host, self.port = host, int(port)
        self.url = escape(f"https://{f'[{host}]' if ':' in host else host}:{port}")  # as shown in messages
        self.directory = directory
        self.clock = clock
        try:
            self.context = ssl.create_default_context(cafile=os.path.join(directory, "ca.crt"))
        except (OSError, ssl.SSLError) as e:
            raise ClusterError(f"cannot read the service account's CA certificate in {escape(directory)}: "
                               f"{one_line(e)}") from e
        self.connection: http.client.HTTPSConnection | None = None

    def namespace(self) -> str:
        """The pod's namespace, as its service account directory says."""
        return self._read("namespace").strip()

    def get(self, request: Request) -> Any:
        """The object as JSON, or NotFound; else a ClusterError."""
        return self._send(request, "GET")

    def merge_patch(self, request: Request, patch: dict[str, Any]) -> Any:
        """The object patched, as JSON; Conflict when a resourceVersion in `patch` is no longer
        the object's; else a ClusterError."""
        return self._send(request, "PATCH", json.dumps(patch).encode())

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()

    def _send(self, request: Request, method: str, body: bytes | None = None) -> Any:
        headers = {"Accept": "application/json", "Accept-Encoding": "identity",
                   "User-Agent": f"bgrender/{__version__}", "Authorization": f"Bearer {self._read('token').strip()}"}
        if body is not None:
            headers["Content-Type"] = MERGE_PATCH
        try:
            connection = self._connection()
            if connection.sock is not None:  # kept open from the last request: give it the time left now
                connection.sock.settimeout(self.clock.left())
            connection.request(method, request.path("v1"), body=body, headers=headers)
            response = connection.getresponse()
            data = response.read(MAX_ANSWER_BYTES + 1)
        except (OSError, http.client.HTTPException) as e:
            self.close()
            self.connection = None
            raise ClusterError(_failure(e, request, self.url)) from e
        if len(data) > MAX_ANSWER_BYTES:
            self.close()
            self.connection = None
            raise malformed(self.url, request, f"an answer of more than {MAX_ANSWER_BYTES >> 20} MiB")
        if response.status == 409:
            return Conflict()
        return read_answer(request, self.url, response.status, response.reason, dict(response.headers), data)

    def _connection(self) -> http.client.HTTPSConnection:
        if self.connection is None:
            self.connection = http.client.HTTPSConnection(self.host, self.port, context=self.context,
                                                          timeout=self.clock.left())
        return self.connection

    def _read(self, name: str) -> str:
        path = os.path.join(self.directory, name)
        try:
            with open(path, encoding="utf-8") as file:
                return file.read(64 * 1024)
        except (OSError, UnicodeDecodeError) as e:
            raise ClusterError(f"cannot read the service account's {name} at {escape(path)} (is a token mounted "
                               f"in this pod?): {one_line(e)}") from e


def _failure(e: BaseException, request: Request, url: str) -> str:
    if isinstance(e, ssl.SSLError):
        return f"TLS with the Kubernetes API server at {url} failed: {one_line(e)}"
    if isinstance(e, TimeoutError):
        return f"the Kubernetes API server at {url} did not answer in time ({request})"
    if isinstance(e, (http.client.HTTPException, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return f"the Kubernetes API server at {url} dropped the connection during {request}: {one_line(e)}"
    reason = e.strerror if isinstance(e, OSError) and e.strerror else e
    return f"cannot reach the Kubernetes API server at {url}: {one_line(reason)}"
