"""Running one plugin command as the sidecar does (cmpserver/plugin/plugin.go runCommand).

exec without a shell, stdin empty, stdout and stderr captured apart, a process group of its
own; on the deadline the child gets SIGKILL and the group SIGTERM, then SIGKILL 5 s later.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

KILL_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int  # negative: killed by that signal
    stdout: bytes
    stderr: bytes
    seconds: float


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    deadline: float,
    user: int | None = None,
    group: int | None = None,
) -> CommandResult:
    """exec without a shell, in a new process group; on the deadline kill it like Argo CD."""
    executable = shutil.which(argv[0], path=env.get("PATH", "")) or argv[0]
    started = time.monotonic()
    process = subprocess.Popen(
        list(argv), executable=executable, cwd=cwd, env=dict(env),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True, user=user, group=group,
        extra_groups=[] if group is not None else None,
    )
    try:
        stdout, stderr = process.communicate(timeout=max(deadline, 0.001))
    except subprocess.TimeoutExpired:
        stdout, stderr = _kill_on_deadline(process)
    finally:
        _kill_group(process.pid, signal.SIGKILL)  # stray children die with the request
    return CommandResult(tuple(argv), process.returncode, stdout, stderr, time.monotonic() - started)


def _kill_on_deadline(process: subprocess.Popen) -> tuple[bytes, bytes]:
    """SIGKILL the child (exec.CommandContext), SIGTERM the group, then SIGKILL it after 5 s."""
    process.kill()
    _kill_group(process.pid, signal.SIGTERM)
    try:
        return process.communicate(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid, signal.SIGKILL)
        return process.communicate()


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def command_error(result: CommandResult) -> str:
    """``"`<argv>` failed <cause>: <stderr>"``, the text Argo CD puts in the Application."""
    message = f"`{args_to_log(result.argv)}` failed {exit_cause(result.returncode)}"
    stderr = result.stderr.decode("utf-8", "replace").strip()
    return f"{message}: {stderr}" if stderr else message


def args_to_log(argv: Sequence[str]) -> str:
    """argoexec.GetCommandArgsToLog: quote args holding whitespace, show "" for empty ones."""
    return " ".join('""' if not a else go_quote(a) if any(c.isspace() for c in a) else a for a in argv)


def go_quote(text: str) -> str:
    """strconv.Quote for the printable strings the harness passes."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def exit_cause(returncode: int) -> str:
    """Go's ExitError text: `exit status N` or `signal: killed`."""
    if returncode >= 0:
        return f"exit status {returncode}"
    name = signal.strsignal(-returncode) or f"signal {-returncode}"
    return f"signal: {name.lower()}"
