"""The hand-written HTTP transport: one GET at a time through the kubernetes client's pool.

The client holds the connection pool with its TLS, client certificate and proxy settings,
and renews the credentials (an exec plugin's token); the GETs are sent through that pool
here rather than through the client's API classes, so that an answer is read with a size
limit before it is parsed (answers.py), one attempt each, no redirect followed, and each
socket operation bounded by the time left on the command's deadline. A failure to reach
or to talk to the server becomes a ClusterError of one line.

Imports the kubernetes client and urllib3: cluster.py imports it only once require_client
has found them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.config.config_exception import ConfigException

from bgrender import __version__
from bgrender.errors import ClusterError, escape
from bgrender.live.answers import MAX_ANSWER_BYTES, Request, malformed, one_line, read_answer
from bgrender.live.deadline import Deadline


class Transport:
    """GETs to one API server, each ending by the deadline `clock`."""

    def __init__(self, pool: urllib3.PoolManager, configuration: Any, clock: Deadline):
        self.pool = pool  # TLS, client certificates and proxy, as configured
        self.configuration = configuration  # kubernetes.client.Configuration
        self.url = configuration.host
        self.host = escape(configuration.host)  # as shown in messages
        self.clock = clock
        self.current: Request | None = None  # the request under way, for the message at the deadline

    def get(self, request: Request, path: str) -> Any:
        """The JSON object the server answers, or NotFound; else a ClusterError."""
        headers = self._headers()  # may run the exec credential plugin again, to renew its token
        self.current = request
        left = self.clock.left()  # each socket operation gets the time left, so no step outlasts it
        try:
            response = self.pool.request("GET", self.url + path, headers=headers, retries=False, redirect=False,
                                         timeout=urllib3.Timeout(connect=left, read=left), preload_content=False)
            body = _read_body(response)
        except urllib3.exceptions.HTTPError as e:
            raise ClusterError(_transport_failure(e, request, self.host, self.clock.seconds)) from e
        except ValueError as e:  # http.client refuses a header value; the message would show the token
            raise ClusterError(f"cannot send {request} to the Kubernetes API server at {self.host}: the "
                               "credentials of the kubeconfig user do not fit in an HTTP header") from e
        self.current = None
        if body is None:
            raise malformed(self.host, request, f"an answer of more than {MAX_ANSWER_BYTES >> 20} MiB")
        return read_answer(request, self.host, response.status, response.reason, response.headers, body)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "Accept-Encoding": "identity",
                   "User-Agent": f"bgrender/{__version__}"}
        try:
            settings = self.configuration.auth_settings()
        except (ConfigException, OSError, ValueError, TypeError, KeyError, AttributeError) as e:
            raise ClusterError(f"cannot renew the credentials of the kubeconfig user: {one_line(e)}") from e
        for setting in settings.values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[setting["key"]] = setting["value"]
        return headers


@contextmanager
def connect(configuration: Any, clock: Deadline) -> Iterator[Transport]:
    """A transport through the pool of a client made from `configuration`, closed at the end."""
    with client.ApiClient(configuration) as api:
        yield Transport(api.rest_client.pool_manager, configuration, clock)


def _read_body(response: urllib3.BaseHTTPResponse) -> bytes | None:
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


# --- failures -----------------------------------------------------------------------------------


def _transport_failure(e: Exception, request: Request, host: str, timeout: float) -> str:
    # NewConnectionError is a ConnectTimeoutError in urllib3, so it is checked first.
    if isinstance(e, urllib3.exceptions.NewConnectionError):
        return f"cannot reach the Kubernetes API server at {host}: {_os_reason(e)}"
    if isinstance(e, urllib3.exceptions.SSLError):
        return f"TLS with the Kubernetes API server at {host} failed: {one_line(e.__context__ or e)}"
    if isinstance(e, urllib3.exceptions.TimeoutError):
        return f"the Kubernetes API server at {host} did not answer within --timeout {timeout:g}s ({request})"
    if isinstance(e, urllib3.exceptions.ProtocolError):
        return f"the Kubernetes API server at {host} dropped the connection during {request}: {_os_reason(e)}"
    return f"talking to the Kubernetes API server at {host} failed during {request}: {one_line(e)}"


def _os_reason(e: BaseException) -> str:
    """"Connection refused" rather than urllib3's text with an object's repr in it."""
    cause = e.__cause__ or e.__context__
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return one_line(cause.strerror)
        cause = cause.__cause__ or cause.__context__
    return one_line(e.args[-1] if e.args else e)

