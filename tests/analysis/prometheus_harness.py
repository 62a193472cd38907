"""A real Prometheus for the tests (DESIGN §17): Debian's `prometheus`, started on loopback with a
temporary storage directory, scraping a target the tests serve with known values; and a proxy
that holds requests, to play a slow Prometheus.

Nothing here sleeps for a fixed time to let something happen: waits poll Prometheus' API for
the event (ready, the samples scraped) within a bound, and fail with what was last seen.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

START_TIMEOUT = 90  # seconds for Prometheus to start and scrape the target once (2 busy cores)

# What the target exposes; the tests' expectations are written against these values.
METRICS = """\
# TYPE bg_error_ratio gauge
bg_error_ratio{color="blue",version="v1"} 0.2
bg_error_ratio{color="green",version="v2"} 0.002
# TYPE bg_latency_ms gauge
bg_latency_ms{version="v2",pod="a"} 120
bg_latency_ms{version="v2",pod="b"} 640
# TYPE bg_unknown gauge
bg_unknown NaN
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Metrics(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = METRICS.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class Served:
    """An HTTP server on loopback in a thread, ended by `close`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_metrics() -> Served:
    return Served(_Metrics)


class Prometheus:
    """`prometheus` on 127.0.0.1:<free port>, its storage in `workdir`, scraping `target_port`
    every second. `stop` ends the process it started, and only that one."""

    def __init__(self, workdir: Path, target_port: int):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = workdir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
                          f"  - job_name: bgrender-test\n    static_configs:\n"
                          f"      - targets: ['127.0.0.1:{target_port}']\n")
        self.log = (workdir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [binary(), f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def query(self, promql: str) -> dict:
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=5) as answer:
            return json.load(answer)

    def wait_for_samples(self, promql: str, count: int) -> None:
        """Until `promql` gives `count` samples: Prometheus is up and has scraped the target."""
        deadline, seen = time.monotonic() + START_TIMEOUT, "nothing"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.process.returncode}; see {self.log.name}")
            try:
                answer = self.query(promql)
                seen = repr(answer)[:300]
                if len(answer["data"]["result"]) == count:
                    return
            except OSError as err:  # not listening yet
                seen = str(err)
            time.sleep(0.2)  # a poll interval, not a wait for the event
        raise TimeoutError(f"{promql} did not give {count} samples within {START_TIMEOUT} s; last: {seen}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def binary() -> str | None:
    return shutil.which("prometheus")


def version() -> str:
    done = subprocess.run([binary() or "prometheus", "--version"], capture_output=True, text=True, timeout=30)
    return (done.stdout or done.stderr).splitlines()[0]


class _LoopbackServer:
    """A TCP server on loopback that serves each connection in a thread of its own (`_serve`),
    until closed."""

    def __init__(self) -> None:
        self.closing = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.closing.set()
        self.listener.close()


class Dribbler(_LoopbackServer):
    """A server that answers every request with a status line sent one byte at a time, a
    little under a second apart, without end: each read gets something, the answer never
    completes."""

    def _serve(self, client: socket.socket) -> None:
        with client:
            client.recv(65536)
            line = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"x" * 10**6
            for byte in line:
                if self.closing.wait(0.4):  # the slowness this server plays
                    return
                try:
                    client.sendall(bytes([byte]))
                except OSError:  # the client gave up
                    return


class HoldingProxy(_LoopbackServer):
    """A TCP proxy in front of `upstream_port` that holds each connection `delay` seconds before
    forwarding it (None: holds it until closed, never answering): a slow Prometheus."""

    def __init__(self, upstream_port: int, delay: float | None):
        self.upstream_port, self.delay = upstream_port, delay
        super().__init__()

    def _serve(self, client: socket.socket) -> None:
        with client:
            request = client.recv(65536)
            if self.closing.wait(self.delay) or self.delay is None:  # the slowness this proxy plays
                return
            with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10) as upstream:
                upstream.sendall(request)
                while chunk := upstream.recv(65536):
                    client.sendall(chunk)
