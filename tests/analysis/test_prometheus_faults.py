"""Answers a real Prometheus does not give, from a server that is not one (a wrong address, a
proxy's error page, a broken or hostile server): each is an inconclusive measurement with a
one-line reason, never a traceback, a hang or unbounded memory. (Real Prometheus answers are
tests/analysis/test_prometheus.py's.)"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from bgrender.analysis.prometheus import MAX_ANSWER_BYTES, Unanswered, instant_query

from .prometheus_harness import Served

ANSWERS = {
    "/html": (502, b"<html>Bad Gateway</html>"),
    "/error": (422, b'{"status": "error", "errorType": "execution", "error": "many-to-many matching\\u001b[31m"}'),
    "/string": (200, b'{"status": "success", "data": {"resultType": "string", "result": [1, "x"]}}'),
    "/broken-vector": (200, b'{"status": "success", "data": {"resultType": "vector", "result": [{"value": 1}]}}'),
    "/list": (200, b"[1, 2]"),
}


class _Canned(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        prefix = self.path.split("/api/v1/query", 1)[0]
        if prefix == "/huge":
            self.send_response(200)
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(MAX_ANSWER_BYTES // len(chunk) + 2):
                    self.wfile.write(chunk)
            except OSError:  # the client stopped reading, as it should
                pass
            return
        status, body = ANSWERS[prefix]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    served = Served(_Canned)
    yield f"http://127.0.0.1:{served.port}"
    served.close()


@pytest.mark.parametrize(("path", "reason"), [
    ("/html", "HTTP 502 without a JSON answer (is the address Prometheus'?)"),
    ("/error", 'HTTP 422: Prometheus says "many-to-many matching\\x1b[31m"'),
    ("/string", 'the query gives a "string", not an instant vector or a scalar'),
    ("/broken-vector", "a malformed vector in the answer"),
    ("/list", "HTTP 200: Prometheus says \"[1, 2]\""),
    ("/huge", "the answer is larger than 8 MiB"),
])
def test_a_server_that_is_not_prometheus_gives_a_reason(server, path, reason):
    with pytest.raises(Unanswered) as raised:
        instant_query(server + path, "up", 10)
    assert str(raised.value) == reason
