"""Prometheus' HTTP API, as `bgrender analyze` reads it: one instant query, bounded in time and
size, with the standard library only (the bgrender image carries no HTTP client package).

`instant_query` returns the samples' values, or raises Unanswered with a one-line reason: the
server could not be reached, did not answer within the timeout, or answered with an error or
with something that is not a vector or a scalar.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.parse

from bgrender import TYPE_CHECKING
from bgrender.errors import quote
from bgrender.record import Record

if TYPE_CHECKING:
    from typing import Any

MAX_ANSWER_BYTES = 8 * 1024 * 1024  # far beyond a gate's answer; a bound on what one query holds in memory
_CHUNK = 64 * 1024


class Unanswered(Exception):
    """Prometheus gave no usable answer; str() is the reason, one line."""


class Sample(Record):
    """One sample of the result: its labels and its value, as Prometheus wrote it."""

    labels: dict[str, str]
    text: str

    @property
    def value(self) -> float:
        return float(self.text)  # Prometheus writes "NaN", "+Inf", "-Inf" and decimals: float() reads each


def instant_query(address: str, query: str, timeout: float) -> list[Sample]:
    """The samples of `query` evaluated now; within `timeout` seconds in all (connecting,
    sending, waiting and reading), or Unanswered. Socket timeouts bound each step; a watchdog
    bounds the whole, so a server that sends a byte now and then cannot stretch it."""
    url = urllib.parse.urlsplit(address)
    path = url.path.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = kind(url.netloc, timeout=timeout)
    cut = threading.Event()
    watchdog = threading.Timer(timeout, _cut, (connection, cut))
    watchdog.daemon = True
    watchdog.start()
    response: http.client.HTTPResponse | None = None
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = _read(response)
    except (OSError, http.client.HTTPException) as err:
        if cut.is_set() or isinstance(err, TimeoutError):
            raise Unanswered(f"no answer within {timeout:g} s") from err
        raise Unanswered(f"cannot reach {quote(address)}: {_reason(err)}") from err
    finally:
        watchdog.cancel()
        if response is not None:  # its file holds the socket open until it is closed too
            response.close()
        connection.close()
    if cut.is_set():  # the answer may have been cut short
        raise Unanswered(f"no answer within {timeout:g} s")
    assert response is not None
    return _samples(response.status, body)


def _cut(connection: http.client.HTTPConnection, cut: threading.Event) -> None:
    """At the deadline: end the connection, which ends whatever read is waiting on it."""
    cut.set()
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed
            pass


def _read(response: http.client.HTTPResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(_CHUNK):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise Unanswered(f"the answer is larger than {MAX_ANSWER_BYTES // 1024 // 1024} MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _reason(err: BaseException) -> str:
    return getattr(err, "strerror", None) or str(err) or type(err).__name__


def _samples(status: int, body: bytes) -> list[Sample]:
    """The API's answer (https://prometheus.io/docs/prometheus/latest/querying/api/): a vector's
    samples or a scalar as one sample; an error, or any other result type, is Unanswered."""
    try:
        answer: Any = json.loads(body)
    except ValueError:
        raise Unanswered(f"HTTP {status} without a JSON answer (is the address Prometheus'?)") from None
    if not isinstance(answer, dict) or answer.get("status") != "success":
        error = answer.get("error") if isinstance(answer, dict) else None
        raise Unanswered(f"HTTP {status}: Prometheus says {quote(error if isinstance(error, str) else answer, 200)}")
    data: dict[str, Any] = answer["data"] if isinstance(answer.get("data"), dict) else {}
    kind, result = data.get("resultType"), data.get("result")
    try:
        if kind == "vector" and isinstance(result, list):
            return [Sample(dict(item["metric"]), str(item["value"][1])) for item in result]
        if kind == "scalar" and isinstance(result, list):
            return [Sample({}, str(result[1]))]
    except (TypeError, KeyError, IndexError) as err:
        raise Unanswered(f"a malformed {kind} in the answer") from err
    raise Unanswered(f"the query gives a {quote(kind)}, not an instant vector or a scalar")
