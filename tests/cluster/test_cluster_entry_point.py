"""The installed command, run as a process; and which modules may load the kubernetes client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def bgrender(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bgrender", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_the_commands_load_the_client_only_when_they_run() -> None:
    code = ("import sys, bgrender.cli.main, bgrender.cli.status, bgrender.cli.release, bgrender.live.status; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kubernetes'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout == "[]\n"


def test_the_installed_command_has_status(live_gorilla: Path, kubeconfig: Path) -> None:
    """Through `python -m bgrender` with a real process's stdout: nothing but the report lands there."""
    result = bgrender("status", str(live_gorilla), "--kubeconfig", str(kubeconfig), "-o", "json",
                      env={**os.environ})
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout)["inSync"] is True


def test_the_installed_command_fails_cleanly_without_configuration(gorilla: Path) -> None:
    result = bgrender("status", str(gorilla), env={**os.environ})
    assert (result.returncode, result.stdout) == (4, "")
    assert result.stderr == ("no Kubernetes configuration found: pass --kubeconfig, set $KUBECONFIG, "
                             "create ~/.kube/config, or run in a pod\n")


# As in the sidecar image, which installs bgrender without its [cluster] extra.
WITHOUT_CLIENT = ("import sys; sys.modules['kubernetes'] = None; sys.argv[0] = 'bgrender'; "
                  "from bgrender.__main__ import main; main()")


def without_client(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_CLIENT, *args], capture_output=True, text=True, timeout=60)


def test_without_the_client_status_says_what_to_install(gorilla: Path, kubeconfig: Path) -> None:
    result = without_client("status", str(gorilla), "--kubeconfig", str(kubeconfig))
    assert (result.returncode, result.stdout) == (4, "")
    assert result.stderr == ("reading the cluster needs the Kubernetes client, which is not installed (import of "
                             "kubernetes halted; None in sys.modules): pip install 'bgrender[cluster]'\n")


def test_without_the_client_release_check_live_says_what_to_install(gorilla: Path, kubeconfig: Path) -> None:
    before = (gorilla / "bluegreen.yaml").read_bytes()
    result = without_client("release", "9b8c7d6e", str(gorilla), "--check-live", "--kubeconfig", str(kubeconfig))
    assert (result.returncode, result.stdout) == (4, "")
    assert result.stderr.endswith("which is not installed (import of kubernetes halted; None in sys.modules): "
                                  "pip install 'bgrender[cluster]'\n")
    assert result.stderr.count("\n") == 1
    assert (gorilla / "bluegreen.yaml").read_bytes() == before


def test_without_the_client_the_other_commands_work(gorilla: Path) -> None:
    render = without_client("render", str(gorilla))
    release = without_client("release", "9b8c7d6e", str(gorilla))
    assert (render.returncode, render.stderr) == (0, "")
    assert "kind: VirtualService" in render.stdout
    assert (release.returncode, release.stdout) == (0, "release gorilla-sfx-demo 9b8c7d6e to green "
                                                        "(production stays on blue)\n")
