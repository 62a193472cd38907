"""--timeout bounds all of a command's cluster work (issue #15, class 3): `status` and
`release --check-live` end with exit 4 in time whatever the API server or an exec credential
plugin does, and leave no process behind.

Each misbehaviour here outlasts a per-request socket timeout many times over: without one
deadline for the whole command these cases run for minutes. The bounds allow for a loaded
2-core machine: a command may take MARGIN seconds beyond its --timeout (its own start and the
cleanup after the deadline), never less than the --timeout itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from .conftest import exited, run_cli
from .fake_kube_api import Drip, FakeKubeApi, exec_user, write_kubeconfig

MARGIN = 2.5
INTENT = "bluegreen.yaml"


def status_args(app: Path, kubeconfig: Path) -> list[str]:
    return ["status", str(app), "--kubeconfig", str(kubeconfig)]


def release_args(app: Path, kubeconfig: Path) -> list[str]:
    return ["release", "9b8c7d6e", str(app), "--check-live", "--kubeconfig", str(kubeconfig)]


COMMANDS = {"status": status_args, "release --check-live": release_args}


def drip(part: str) -> Callable[[FakeKubeApi], None]:
    def misbehave(api: FakeKubeApi) -> None:
        api.drip = Drip(part)
    return misbehave


def slow_gets(api: FakeKubeApi) -> None:
    """Each answer just under the --timeout, and every Istio version tried: 5 GETs for status."""
    api.delay = 1.8
    api.served["networking.istio.io"] = {"v1alpha3"}


def never_answers(api: FakeKubeApi) -> None:
    api.hang = True


MISBEHAVIOURS = {  # name: (how, --timeout)
    "drips its headers": (drip("headers"), 1.0),
    "drips its body": (drip("body"), 1.0),
    "sends an endless chunked body": (drip("endless"), 1.0),
    "takes almost the timeout over each GET": (slow_gets, 2.0),
    "never answers": (never_answers, 1.0),
}


def timed(*args: str) -> tuple[Result, float]:
    started = time.monotonic()
    result = run_cli(*args)
    return result, time.monotonic() - started


def assert_one_line(stderr: str) -> None:
    assert stderr.count("\n") == 1 and stderr.endswith("\n"), stderr
    assert stderr.isascii() and stderr[:-1].isprintable(), stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("misbehaviour", MISBEHAVIOURS)
def test_a_misbehaving_server_ends_in_exit_4_within_the_timeout(kube_api: FakeKubeApi, live_gorilla: Path,
                                                                kubeconfig: Path, command: str,
                                                                misbehaviour: str) -> None:
    misbehave, timeout = MISBEHAVIOURS[misbehaviour]
    misbehave(kube_api)
    before = (live_gorilla / INTENT).read_bytes()
    result, elapsed = timed(*COMMANDS[command](live_gorilla, kubeconfig), "--timeout", f"{timeout:g}")
    assert (result.exit_code, result.stdout) == (4, "")
    assert_one_line(result.stderr)
    assert result.stderr.startswith(f"the Kubernetes API server at {kube_api.url} did not answer within "
                                    f"--timeout {timeout:g}s (get ")
    assert timeout <= elapsed < timeout + MARGIN
    assert (live_gorilla / INTENT).read_bytes() == before


def test_the_default_timeout_ends_both_commands_within_15_seconds(kube_api: FakeKubeApi, live_gorilla: Path,
                                                                  kubeconfig: Path) -> None:
    """The promise, measured on real processes from their start: Python, imports and all."""
    kube_api.drip = Drip("body")
    started = time.monotonic()
    processes = [subprocess.Popen([sys.executable, "-m", "bgrender", *args(live_gorilla, kubeconfig)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for args in COMMANDS.values()]
    for process in processes:
        stdout, stderr = process.communicate(timeout=60)
        elapsed = time.monotonic() - started  # an upper bound for the second: it is read after the first
        assert (process.returncode, stdout) == (4, "")
        assert "did not answer within --timeout 8s" in stderr
        assert 8 <= elapsed < 15


# --- exec credential plugins -----------------------------------------------------------------


def plugin(tmp_path: Path, name: str, script: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


# Starts a child of its own, records both pids, and waits forever.
NEVER_RETURNS = 'sleep 300 &\necho "$$ $!" > "$1"\nwait\n'


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs pidfd_open (Linux 5.3) to watch the processes")
@pytest.mark.parametrize("command", COMMANDS)
def test_an_exec_plugin_that_never_returns_is_killed_with_its_children(tmp_path: Path, kube_api: FakeKubeApi,
                                                                       live_gorilla: Path, command: str) -> None:
    pids = tmp_path / "pids"
    script = plugin(tmp_path, "stuck-plugin", NEVER_RETURNS)
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"fake": kube_api.url}, current="fake",
                                  user=exec_user(script, str(pids)))
    result, elapsed = timed(*COMMANDS[command](live_gorilla, kubeconfig), "--timeout", "1")
    assert (result.exit_code, result.stdout) == (4, "")
    assert_one_line(result.stderr)
    assert result.stderr == (f'the exec credential plugin "{script}" of the kubeconfig user did not finish '
                             "within --timeout 1s; it was stopped\n")
    assert 1 <= elapsed < 1 + MARGIN
    plugin_pid, child_pid = map(int, pids.read_text().split())
    assert exited(plugin_pid) and exited(child_pid)
    assert kube_api.requests == []


def test_an_exec_plugin_that_answers_gives_the_token(tmp_path: Path, kube_api: FakeKubeApi,
                                                     live_gorilla: Path) -> None:
    script = plugin(tmp_path, "plugin", "printf '%s' '{\"apiVersion\": \"client.authentication.k8s.io/v1\", "
                                        "\"kind\": \"ExecCredential\", \"status\": {\"token\": "
                                        "\"fake-token-for-tests\"}}'\n")
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"fake": kube_api.url}, current="fake", user=exec_user(script))
    result = run_cli(*status_args(live_gorilla, kubeconfig))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.endswith("in sync with Git\n")


def test_a_failing_exec_plugin_is_one_escaped_line(tmp_path: Path, kube_api: FakeKubeApi, live_gorilla: Path,
                                                   capfd: pytest.CaptureFixture) -> None:
    script = plugin(tmp_path, "plugin", "printf 'token expired\\n\\033[32min sync with Git\\n' >&2\nexit 1\n")
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"fake": kube_api.url}, current="fake", user=exec_user(script))
    result = run_cli(*status_args(live_gorilla, kubeconfig))
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr == ("the exec credential plugin of the kubeconfig user failed: exec: process returned 1. "
                             "token expired \\x1b[32min sync with Git\n")
    assert capfd.readouterr() == ("", "")  # nothing printed around the command's own streams either
    assert kube_api.requests == []
