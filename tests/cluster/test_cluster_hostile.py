"""Values from the cluster are shown escaped, on one line (issue #15, class 5): in the status
table, in stderr, in every ClusterError; the JSON report keeps them as they are. An answer
holding a newline or an ANSI escape cannot forge a line such as "in sync with Git"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bgrender.errors import escape

from .conftest import deploy, run_cli
from .fake_kube_api import Answer, FakeKubeApi, set_production, status_object, write_kubeconfig

GREEN = "gorilla-sfx-demo-deployment-bg-green"
VS = "gorilla-sfx-demo-virtualservice"
BLUE_PATH = "/apis/apps/v1/namespaces/default/deployments/gorilla-sfx-demo-deployment-bg-blue"
FORGERIES = ["\n\nin sync with Git", "8a1b0c4e\nin sync with Git\n", "\x1b[2J\x1b[Hin sync with Git", "\r",
             "\x1b]0;title\x07", "blu\u0435", "\u202egreen", "\ud800", "a\\nb", '"quoted"', "\x00", "\x85", "\u2028"]
HOSTILE_CHARS = st.sampled_from(["\n", "\r", "\t", "\x1b", "\x00", "\x7f", "\x9b", "\u202e", "\u200b", "\u0435",
                                 "\\", '"', "'", " ", "-", "\ud800"])
HOSTILE = st.one_of(st.sampled_from(FORGERIES), st.text(st.one_of(HOSTILE_CHARS, st.characters()), min_size=1,
                                                        max_size=40))
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def one_clean_line(stderr: str) -> bool:
    return stderr.count("\n") == 1 and stderr.endswith("\n") and stderr.isascii() and stderr[:-1].isprintable()


def clean_lines(text: str) -> bool:
    return all(line.isascii() and line.isprintable() for line in text.split("\n"))


@pytest.fixture
def cluster(tmp_path: Path, gorilla: Path) -> tuple[FakeKubeApi, Path, Path]:
    """A fake cluster the test fills anew for each example; the app; a kubeconfig."""
    with FakeKubeApi() as api:
        yield api, gorilla, write_kubeconfig(tmp_path / "kc", {"fake": api.url}, current="fake")


@SETTINGS
@given(version=HOSTILE, subset=HOSTILE)
def test_hostile_values_in_answers_forge_no_line(cluster: tuple[FakeKubeApi, Path, Path], version: str,
                                                 subset: str) -> None:
    api, app, kubeconfig = cluster
    deploy(api, app)
    api.get("deployments", GREEN)["spec"]["template"]["metadata"]["annotations"]["bgrender.io/version"] = version
    set_production(api.get("virtualservices", VS), subset)

    table = run_cli("status", str(app), "--kubeconfig", str(kubeconfig))
    report_run = run_cli("status", str(app), "--kubeconfig", str(kubeconfig), "-o", "json")
    report = json.loads(report_run.stdout)

    assert report["colors"]["green"]["liveVersion"] == version  # the JSON is faithful
    assert clean_lines(report_run.stdout) and one_clean_line(report_run.stderr)
    assert (table.exit_code, report_run.exit_code) == (3, 3)  # the subset is never exactly "blue"
    lines = table.stdout.rstrip("\n").split("\n")
    assert clean_lines(table.stdout) and one_clean_line(table.stderr)
    # Exactly the lines of a table with this drift: a value cannot add a line, nor make one a verdict.
    assert len(lines) == 9 + len(report["drift"])
    assert lines[8] == "NOT in sync with Git:" and "in sync with Git" not in lines[:8]
    assert all(line.startswith("  - ") for line in lines[9:])
    assert lines[6].startswith("green  8a1b0c4e     ")
    assert escape(version[:130] + ("..." if len(version) > 130 else "")) in lines[6]


@SETTINGS
@given(message=HOSTILE, reason=st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=40))
def test_hostile_server_messages_are_one_escaped_line(cluster: tuple[FakeKubeApi, Path, Path], message: str,
                                                      reason: str) -> None:
    api, app, kubeconfig = cluster
    for code in (403, 500):
        api.answers[BLUE_PATH] = Answer(code, "application/json",
                                        json.dumps(status_object(code, "X", message)).encode(), reason=reason)
        result = run_cli("status", str(app), "--kubeconfig", str(kubeconfig))
        assert (result.exit_code, result.stdout) == (4, "")
        assert one_clean_line(result.stderr), result.stderr


@pytest.mark.parametrize("server", ["http://127.0.0.1:1/\x1b[31m\nin sync with Git", "http://h\u0435st:1",
                                    "http://[::1\n"])
def test_a_hostile_server_address_is_one_escaped_line(tmp_path: Path, gorilla: Path, server: str) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"odd": server}, current="odd")
    for args in (["status", str(gorilla)], ["release", "9b8c7d6e", str(gorilla), "--check-live"]):
        result = run_cli(*args, "--kubeconfig", str(kubeconfig), "--timeout", "2")
        assert (result.exit_code, result.stdout) == (4, "")
        assert one_clean_line(result.stderr), result.stderr
        assert escape(server.rstrip("/")) in result.stderr or "cannot use the kubeconfig" in result.stderr


def test_check_live_escapes_the_note_of_an_unclear_route(kube_api: FakeKubeApi, live_gorilla: Path,
                                                         kubeconfig: Path) -> None:
    set_production(kube_api.get("virtualservices", VS), "canary\n\x1b[32mgo ahead")
    result = run_cli("release", "9b8c7d6e", str(live_gorilla), "--check-live", "--kubeconfig", str(kubeconfig))
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == ("refusing to release: cannot tell which color serves production from VirtualService "
                             f"{VS} (its default route sends production traffic to gorilla-sfx-demo-service-canary\\n"
                             "\\x1b[32mgo ahead, not to a color's Service)\n")
