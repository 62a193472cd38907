"""Every way reading the cluster can fail ends in one clear line and exit code 3, within the timeout."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from bgrender.errors import ClusterError
from bgrender.live.cluster import read_live
from bgrender.live.kubeconfig import Connection

from .conftest import deploy, plan_of
from .fake_kube_api import Answer, Blackhole, Drip, FakeKubeApi, TlsFiles, write_kubeconfig

BLUE_PATH = "/apis/apps/v1/namespaces/default/deployments/gorilla-sfx-demo-deployment-bg-blue"
VS_PATH = "/apis/networking.istio.io/v1/namespaces/default/virtualservices/gorilla-sfx-demo-virtualservice"


def failure(app: Path, conn: Connection) -> ClusterError:
    with pytest.raises(ClusterError) as caught:
        read_live(plan_of(app), conn)
    error = caught.value
    assert error.exit_code == 4
    assert len(error.lines()) == 1 and "\n" not in str(error)
    return error


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket closes


def test_unreachable_server(tmp_path: Path, gorilla: Path) -> None:
    port = closed_port()
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"gone": f"http://127.0.0.1:{port}"}, current="gone")
    error = failure(gorilla, Connection(str(kubeconfig), None, 2))
    assert str(error) == f"cannot reach the Kubernetes API server at http://127.0.0.1:{port}: Connection refused"


def test_wrong_token_is_401(tmp_path: Path, kube_api: FakeKubeApi, live_gorilla: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"fake": kube_api.url}, current="fake", token="expired")
    error = failure(live_gorilla, Connection(str(kubeconfig), None, 2))
    assert str(error) == (
        f"the Kubernetes API server at {kube_api.url} rejected the credentials (401 Unauthorized) on "
        "get deployments.apps gorilla-sfx-demo-deployment-bg-blue in namespace default: "
        "renew the token or certificate of the kubeconfig user")


@pytest.mark.parametrize(("resource", "group"), [("deployments", "apps"),
                                                 ("virtualservices", "networking.istio.io")])
def test_403_names_the_verb_and_resource_that_rbac_denied(kube_api: FakeKubeApi, live_gorilla: Path,
                                                          conn: Connection, resource: str, group: str) -> None:
    kube_api.forbidden = {resource}
    error = str(failure(live_gorilla, conn))
    assert error.startswith(f"forbidden (403): may not get {resource} in API group {group} in namespace default;"
                            f" grant get on {resource} to this user (see examples/rbac/status-reader.yaml);")
    assert f'User "system:serviceaccount:ci:bgrender" cannot get resource "{resource}"' in error
    if resource == "virtualservices":  # RBAC is the same for every version: no point asking v1beta1
        assert [p for p in kube_api.paths() if "istio" in p] == [VS_PATH]


@pytest.mark.parametrize(("path", "answer", "detail"), [
    (BLUE_PATH, Answer(200, "text/html", b"<html><body>Sign in</body></html>"),
     'expected application/json, got "text/html"'),
    (BLUE_PATH, Answer(200, "application/json", b'{"kind": "Deployment", "spec": '),
     "not JSON: Expecting value: line 1 column 32 (char 31)"),
    (BLUE_PATH, Answer(200, "application/json", b"[" * 100_000 + b"]" * 100_000),
     "not JSON: maximum recursion depth exceeded"),
    (BLUE_PATH, Answer(200, "application/json", b'{"kind": "Deployment"}\xff'),
     "not JSON: 'utf-8' codec can't decode byte 0xff"),
    (BLUE_PATH, Answer(200, "application/json",
                       b'{"kind": "Deployment", "apiVersion": "apps/v1", "spec": {"replicas": "two",'
                       b' "selector": {}, "template": {}}}'),
     "spec.replicas is str, expected int"),
    (BLUE_PATH, Answer(200, "application/json", b'{"kind": "Deployment", "apiVersion": "apps/v1"}'),
     "spec is missing"),
    (BLUE_PATH, Answer(200, "application/json",
                       b'{"kind": "Deployment", "spec": {"template": {"metadata": {"annotations": '
                       b'{"bgrender.io/version": 5}}}}}'),
     "annotation bgrender.io/version is int, expected str"),
    (BLUE_PATH, Answer(200, "application/json",
                       b'{"kind": "List", "apiVersion": "v1", "spec": {"selector": {}, "template": {}}}'),
     'expected a Deployment, got kind "List"'),
    (BLUE_PATH, Answer(404, "text/plain", b"404 page not found"),
     "404 without a Kubernetes Status (is this a Kubernetes API server?)"),
    (BLUE_PATH, Answer(200, "application/xml", b"<Deployment/>"),
     'expected application/json, got "application/xml"'),
    (BLUE_PATH, Answer(200, "application/json", b"\x1f\x8b", headers=(("Content-Encoding", "gzip"),)),
     'a body encoded as "gzip", which was not asked for'),
    (VS_PATH, Answer(200, "application/json", b'{"kind": "VirtualService", "spec": {"http": {"route": []}}}'),
     "spec.http is dict, expected list"),
    (VS_PATH, Answer(200, "application/json", b'["not", "an", "object"]'),
     "expected a VirtualService, got a JSON list"),
    (VS_PATH, Answer(200, "application/json",
                     b'{"kind": "VirtualService", "spec": {"http": [{"route": [{"destination": {"subset": "blue"},'
                     b' "weight": "all"}, {"destination": {"subset": "green"}}]}]}}'),
     "weight is str, expected int"),
])
def test_malformed_answers(kube_api: FakeKubeApi, live_gorilla: Path, conn: Connection, path: str,
                           answer: Answer, detail: str) -> None:
    kube_api.answers[path] = answer
    error = str(failure(live_gorilla, conn))
    assert error.startswith(f"malformed answer from the Kubernetes API server at {kube_api.url} to get ")
    assert detail in error


def test_a_server_error_is_reported_with_its_status(kube_api: FakeKubeApi, live_gorilla: Path,
                                                    conn: Connection) -> None:
    kube_api.answers[BLUE_PATH] = Answer(503, "application/json",
                                         b'{"kind": "Status", "apiVersion": "v1", "status": "Failure", '
                                         b'"message": "etcdserver: request timed out", "code": 503}')
    assert str(failure(live_gorilla, conn)) == (
        f"the Kubernetes API server at {kube_api.url} answered get deployments.apps "
        "gorilla-sfx-demo-deployment-bg-blue in namespace default with 503 Service Unavailable: "
        "etcdserver: request timed out")


def test_a_hanging_server_times_out(kube_api: FakeKubeApi, live_gorilla: Path, kubeconfig: Path) -> None:
    kube_api.hang = True
    started = time.monotonic()
    error = failure(live_gorilla, Connection(str(kubeconfig), None, 0.5))
    elapsed = time.monotonic() - started
    assert str(error) == (f"the Kubernetes API server at {kube_api.url} did not answer within --timeout 0.5s "
                          "(get deployments.apps gorilla-sfx-demo-deployment-bg-blue in namespace default)")
    assert elapsed < 2  # one attempt: no retries multiplying the timeout
    assert len(kube_api.requests) == 1  # and it stops at the first failure


def test_a_server_that_never_accepts_times_out(tmp_path: Path, gorilla: Path) -> None:
    hole = Blackhole()
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kc", {"hole": hole.url}, current="hole")
        started = time.monotonic()
        error = failure(gorilla, Connection(str(kubeconfig), None, 0.5))
        assert time.monotonic() - started < 2
    finally:
        hole.close()
    assert str(error).startswith(f"the Kubernetes API server at {hole.url} did not answer within --timeout 0.5s")


def test_tls_to_a_server_that_speaks_plain_http(tmp_path: Path, kube_api: FakeKubeApi, live_gorilla: Path) -> None:
    url = kube_api.url.replace("http://", "https://")
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"fake": url}, current="fake")
    error = str(failure(live_gorilla, Connection(str(kubeconfig), None, 2)))
    assert error.startswith(f"TLS with the Kubernetes API server at {url} failed: ")


def test_tls_with_a_certificate_the_kubeconfig_does_not_trust(tmp_path: Path, tls_files: TlsFiles,
                                                              live_gorilla: Path) -> None:
    with FakeKubeApi(tls=tls_files) as api:
        # No certificate-authority-data: the system CAs, none of which signed this certificate.
        untrusted = write_kubeconfig(tmp_path / "kc", {"fake": api.url}, current="fake")
        error = str(failure(live_gorilla, Connection(str(untrusted), None, 2)))
    assert error.startswith(f"TLS with the Kubernetes API server at {api.url} failed: ")
    assert "certificate verify failed" in error


def test_tls_with_the_right_ca_reads_the_cluster(tmp_path: Path, tls_files: TlsFiles, live_gorilla: Path) -> None:
    with FakeKubeApi(tls=tls_files) as api:
        deploy(api, live_gorilla)
        trusted = write_kubeconfig(tmp_path / "kc", {"fake": api.url}, current="fake", ca_data=tls_files.ca_data())
        live = read_live(plan_of(live_gorilla), Connection(str(trusted), None, 2))
    assert live.routing.production == "blue"


def test_a_virtualservice_request_names_its_version(kube_api: FakeKubeApi, live_gorilla: Path,
                                                    conn: Connection) -> None:
    kube_api.answers[VS_PATH] = Answer(500, "text/plain", b"internal error")
    assert str(failure(live_gorilla, conn)) == (
        f"the Kubernetes API server at {kube_api.url} answered get virtualservices.networking.istio.io "
        "gorilla-sfx-demo-virtualservice (v1) in namespace default with 500 Internal Server Error: "
        "Internal Server Error")


def test_an_endless_answer_is_refused_at_8_mib(kube_api: FakeKubeApi, live_gorilla: Path, conn: Connection) -> None:
    """Read as fast as it comes, an endless body would fill the memory long before any deadline."""
    kube_api.drip = Drip("endless", interval=0, chunk=b" " * 65536)
    assert str(failure(live_gorilla, conn)) == (
        f"malformed answer from the Kubernetes API server at {kube_api.url} to get deployments.apps "
        "gorilla-sfx-demo-deployment-bg-blue in namespace default: an answer of more than 8 MiB")


def test_an_answer_of_8_mib_is_read(kube_api: FakeKubeApi, live_gorilla: Path, conn: Connection) -> None:
    blue = kube_api.get("deployments", "gorilla-sfx-demo-deployment-bg-blue")
    text = json.dumps(blue)
    blue["metadata"]["annotations"] = {"padding": "x" * (8 * 1024 * 1024 - len(text) - 40)}
    assert len(json.dumps(blue)) <= 8 * 1024 * 1024
    assert read_live(plan_of(live_gorilla), conn).deployments["blue"] is not None


def test_a_redirect_is_not_followed(kube_api: FakeKubeApi, live_gorilla: Path, conn: Connection) -> None:
    kube_api.answers[BLUE_PATH] = Answer(302, "text/plain", b"", headers=(("Location", "http://example.com/"),))
    assert str(failure(live_gorilla, conn)) == (
        f"the Kubernetes API server at {kube_api.url} answered get deployments.apps "
        "gorilla-sfx-demo-deployment-bg-blue in namespace default with 302 Found: Found")
    assert len(kube_api.requests) == 1


def test_a_not_found_status_with_odd_details_reads_as_missing(kube_api: FakeKubeApi, live_gorilla: Path,
                                                              conn: Connection) -> None:
    kube_api.answers[BLUE_PATH] = Answer(404, "application/json",
                                         json.dumps({"kind": "Status", "details": "nope"}).encode())
    assert read_live(plan_of(live_gorilla), conn).deployments["blue"] is None


def test_a_token_that_cannot_be_a_header_is_not_shown(tmp_path: Path, kube_api: FakeKubeApi,
                                                      live_gorilla: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"fake": kube_api.url}, current="fake", token="secret\nX: y")
    error = str(failure(live_gorilla, Connection(str(kubeconfig), None, 2)))
    assert error == (f"cannot send get deployments.apps gorilla-sfx-demo-deployment-bg-blue in namespace default to "
                     f"the Kubernetes API server at {kube_api.url}: the credentials of the kubeconfig user do not "
                     "fit in an HTTP header")
    assert kube_api.requests == []


def test_a_kubeconfig_syntax_error_shows_the_position_not_the_lines(tmp_path: Path, gorilla: Path) -> None:
    broken = tmp_path / "kc"
    broken.write_text("users:\n- name: x\n  user: {token: s3cr3t-token}\n\tclusters: [\n")
    error = str(failure(gorilla, Connection(str(broken), None, 1)))
    assert error.startswith(f"cannot use the kubeconfig {broken}: ")
    assert "(line 4, column 1)" in error
    assert "s3cr3t" not in error
