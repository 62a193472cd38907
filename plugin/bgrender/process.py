"""Running a tool bgrender does not trust to end or to be brief: `kustomize build` for
`bgrender import` (layouts.py).

No shell (the argv goes to exec as it is), stdin closed, a deadline for the whole run, and a
cap on what stdout may hold: a kustomization can pull remote bases that hang, or generate
without end. The tool runs in a session of its own, so that when either limit is reached one
signal stops it with whatever it started. Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping

from bgrender import TYPE_CHECKING
from bgrender.record import Record

if TYPE_CHECKING:
    from typing import Any

_CHUNK = 64 * 1024


class Ran(Record):
    """How a run ended: its exit code and output, or why it was stopped (`failure`)."""

    returncode: int | None
    stdout: bytes
    stderr: bytes  # its first max_stderr bytes
    failure: str | None = None  # e.g. "did not finish within 60 s"; the process was killed


def run_bounded(argv: list[str], *, env: Mapping[str, str], timeout: float, max_stdout: int,
                max_stderr: int) -> Ran:
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=dict(env), start_new_session=True)
    except OSError as exc:
        return Ran(None, b"", b"", f"could not be started: {exc.strerror or exc}")
    deadline, late = time.monotonic() + timeout, f"did not finish within {timeout:g} s"
    try:
        out, err, failure = _collect(process, deadline, late, max_stdout, max_stderr)
        if failure is None:
            try:
                return Ran(process.wait(timeout=max(deadline - time.monotonic(), 0)), out, err)
            except subprocess.TimeoutExpired:  # it closed its output but goes on running
                failure = late
        kill_group(process)
        return Ran(None, out, err, failure)
    finally:
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def _collect(process: subprocess.Popen[bytes], deadline: float, late: str, max_stdout: int,
             max_stderr: int) -> tuple[bytes, bytes, str | None]:
    """Both pipes read as they fill (reading one while the other is full would deadlock),
    until both close, the deadline passes, or stdout passes its cap."""
    out, err = bytearray(), bytearray()
    assert process.stdout is not None and process.stderr is not None  # run_bounded opens both as pipes
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, out)
        selector.register(process.stderr, selectors.EVENT_READ, err)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(out), bytes(err), late
            for key, _ in selector.select(left):
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif key.data is out:
                    out += chunk
                    if len(out) > max_stdout:
                        return bytes(out[:max_stdout]), bytes(err), f"printed more than {max_stdout // 2**20} MiB"
                else:
                    err += chunk[: max(max_stderr - len(err), 0)]
    return bytes(out), bytes(err), None


def kill_group(process: subprocess.Popen[Any]) -> None:
    """Kill a process started in a session of its own, and everything it started, then reap it."""
    with contextlib.suppress(OSError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
