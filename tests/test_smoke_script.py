"""The smoke test Job's script, run as the Job runs it (sh -c with its env) against a real HTTP
server on loopback: it passes on the expected status, fails otherwise, and calls exactly the
path written in smokeTest.path (curl does not expand "[1-3]" or "{a,b}" into several URLs)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from .conftest import BGRENDER, GOLDEN, clean_env

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl, as the smoke test's image has")


class _Server(ThreadingHTTPServer):
    seen: list[str]
    healthy_path: str


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.server.seen.append(self.path)
        self.send_response(200 if self.path == self.server.healthy_path else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _script_and_env(path: str, port: int) -> tuple[list[str], dict[str, str]]:
    rendered = subprocess.run([BGRENDER, "render", str(GOLDEN / "render" / "smoke-test-manual-mode")],
                              capture_output=True, text=True, check=True, env=clean_env()).stdout
    job = next(o for o in yaml.safe_load_all(rendered) if o["kind"] == "Job"
               and o["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "Sync")
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    env.update(URL=f"http://127.0.0.1:{port}{path}", TIMEOUT_SECONDS="0")
    return container["command"], env


@pytest.mark.parametrize("path", ["/healthz", "/health[1-3]", "/check{a,b}"])
def test_the_script_calls_the_path_as_written(server, path: str, tmp_path: Path):
    server.healthy_path = path
    command, env = _script_and_env(path, server.server_address[1])
    result = subprocess.run(command, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert server.seen == [path]
    assert result.stdout.startswith("smoke test passed:")


def test_the_script_fails_on_another_status(server):
    server.healthy_path = "/elsewhere"
    command, env = _script_and_env("/healthz", server.server_address[1])
    result = subprocess.run(command, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "answered 404, expected 200" in result.stderr
