"""One deadline for a block of blocking work, and for the processes that work starts.

`cluster.py` runs all of a command's cluster work (the kubeconfig, exec credential plugins,
transport.py's requests) inside one `deadline(--timeout)`. Socket timeouts alone cannot bound it: they
count per socket operation, so a server that sends a byte now and then restarts them forever,
and an exec plugin has none at all. In the main thread, SIGALRM raises OutOfTime wherever
the work waits; the stack unwinds, and `confined_processes` kills every process the work
started, with everything those started. In another thread there is no SIGALRM: `left()`
still bounds each step, for callers that pass it on as their socket timeouts.

Standard library only: it must not import the kubernetes client (the caller names the
modules whose `subprocess` it confines: kubeconfig.plugin_modules).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from types import FrameType, ModuleType

from bgrender import TYPE_CHECKING
from bgrender.process import kill_group

if TYPE_CHECKING:
    from typing import Any

# setitimer takes microseconds: a shorter, positive delay would round to 0, which disarms it.
_SHORTEST_ALARM = 0.001


class OutOfTime(BaseException):
    """The deadline passed. A BaseException, so that no `except Exception` on the way up can
    swallow it (the kubernetes client has one around exec credential plugins)."""


class Deadline:
    """The end of a block of work, `seconds` after it began."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._ends = time.monotonic() + seconds
        self._held = 0
        self._rang = False
        self._deferred = False  # it rang while held: OutOfTime is due on leaving

    def left(self) -> float:
        """Seconds until the deadline: the timeout to give the next blocking call. OutOfTime
        once it has passed."""
        left = self._ends - time.monotonic()
        if left <= 0 or (self._rang and not self._held):
            self._rang = True
            raise OutOfTime
        return left

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """No OutOfTime inside: for a step that must not stop half-way (a process, once
        started, must be on the list of processes to kill). It comes on leaving instead."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        if self._deferred and not self._held:
            self._deferred = False
            raise OutOfTime

    def _ring(self, signum: int, frame: FrameType | None) -> None:
        self._rang = True
        if self._held:
            self._deferred = True
        else:
            raise OutOfTime


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """A Deadline `seconds` from now that interrupts the main thread wherever it waits.

    Any timer and SIGALRM handler set before are put back on leaving, so a caller's own alarm
    still rings (late, if it was due inside the block)."""
    clock = Deadline(seconds)
    if not _can_alarm():
        yield clock
        return
    previous_handler = signal.signal(signal.SIGALRM, clock._ring)
    previous_delay, _ = signal.setitimer(signal.ITIMER_REAL, max(seconds, _SHORTEST_ALARM))
    started = time.monotonic()
    try:
        yield clock
    except OutOfTime as out:
        _close_sockets(out)
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous_handler is None else previous_handler)
        if previous_delay:
            spent = time.monotonic() - started
            signal.setitimer(signal.ITIMER_REAL, max(previous_delay - spent, _SHORTEST_ALARM))


def _close_sockets(out: OutOfTime) -> None:
    """Close the sockets that the frames OutOfTime unwound held. The alarm can come in the
    middle of a connect() or a TLS handshake, and urllib3 closes a socket on its own errors,
    not on this one; closed now, it is not left to the garbage collector. (An alarm between
    a resource's creation and the `with` that would close it can still leave that resource
    to the garbage collector: the price of interrupting Python code anywhere.)"""
    frames = out.__traceback__
    while frames is not None:
        for value in list(frames.tb_frame.f_locals.values()):
            if isinstance(value, socket.socket):
                # The C-level close: a socket whose __init__ was cut short lacks the Python-level
                # attributes that socket.close() reads, and a file made from it must not keep it open.
                super(socket.socket, value).close()
        frames = frames.tb_next


def _can_alarm() -> bool:
    # Python runs signal handlers in the main thread only; Windows has no SIGALRM.
    return hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()


class Confined:
    """The processes started inside `confined_processes`, and those it had to kill."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []
        self.killed: list[list[str]] = []  # the argv of each process still running at the end


@contextlib.contextmanager
def confined_processes(clock: Deadline, modules: Iterable[ModuleType]) -> Iterator[Confined]:
    """Every process that `modules` start through their module global `subprocess` runs in a
    session of its own; whichever still runs when the block ends is killed, with the whole
    process group (what it started too), and reaped: no orphan is left behind. The patch is
    module-global: one such block at a time (a command runs one)."""
    confined = Confined()
    shim = _subprocess_shim(clock, confined)
    patched = [(module, module.subprocess) for module in modules]
    for module, _ in patched:
        vars(module)["subprocess"] = shim  # a module's namespace: what `module.subprocess = shim` sets
    try:
        yield confined
    finally:
        with clock.held():  # the cleanup itself must not be cut short by the alarm
            for module, original in patched:
                vars(module)["subprocess"] = original
            for process in confined.started:
                _end(process, confined)


def _subprocess_shim(clock: Deadline, confined: Confined) -> ModuleType:
    class Popen(subprocess.Popen):
        def __init__(self, *args: Any, **kwargs: Any) -> None:  # as subprocess.Popen takes them
            # A session of its own: one killpg reaches whatever it starts. A plugin that asks
            # for a password still reads it from its stdin, which is the terminal.
            kwargs["start_new_session"] = True
            with clock.held():
                super().__init__(*args, **kwargs)
                confined.started.append(self)

    shim = ModuleType(subprocess.__name__)
    shim.__dict__.update(vars(subprocess), Popen=Popen)
    return shim


def _end(process: subprocess.Popen, confined: Confined) -> None:
    if process.returncode is None:  # not reaped yet, so its pid still names its process group
        confined.killed.append([str(arg) for arg in _argv(process)])
        kill_group(process)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _argv(process: subprocess.Popen) -> list[object]:
    args = process.args
    return [args] if isinstance(args, (str, bytes, os.PathLike)) else list(args)
