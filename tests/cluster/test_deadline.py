"""deadline.py on its own: the alarm interrupts a wait no socket timeout ends, is put away
afterwards, can be held off, and the processes a block started are killed with their children."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest

from bgrender.live.deadline import OutOfTime, confined_processes, deadline

from .conftest import exited

MARGIN = 2.0  # beyond the deadline, on a loaded machine


def test_the_alarm_interrupts_a_read_that_nothing_ends() -> None:
    left, right = socket.socketpair()
    with left, right:
        started = time.monotonic()
        with pytest.raises(OutOfTime), deadline(0.3):
            left.recv(1)  # no timeout and no data: only the alarm ends this
        assert 0.3 <= time.monotonic() - started < 0.3 + MARGIN


def test_the_alarm_is_put_away_afterwards() -> None:
    def own_handler(signum: int, frame: object) -> None:
        pass

    previous = signal.signal(signal.SIGALRM, own_handler)
    try:
        with deadline(5):
            assert signal.getitimer(signal.ITIMER_REAL)[0] > 4
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert signal.getsignal(signal.SIGALRM) is own_handler
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_a_timer_set_before_is_put_back_with_its_time_left() -> None:
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: None)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        with deadline(5):
            pass
        assert 20 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_held_defers_the_alarm_to_its_end() -> None:
    """The alarm (at 0.2 s) rings inside the held block: had it not, the block would end without OutOfTime."""
    left, right = socket.socketpair()
    finished = []
    with left, right, pytest.raises(OutOfTime), deadline(0.2) as clock:
        with clock.held():
            left.settimeout(1.0)
            with pytest.raises(socket.timeout):
                left.recv(1)  # not interrupted: it runs to its own timeout
            finished.append(True)
    assert finished == [True]


def test_left_counts_down_and_ends_in_out_of_time() -> None:
    with deadline(0.2) as clock:
        assert 0 < clock.left() <= 0.2
    clock._ends = time.monotonic()  # as if the time had run out; no alarm outside the block
    with pytest.raises(OutOfTime):
        clock.left()


def test_in_another_thread_left_still_bounds_the_work() -> None:
    outcome: list[object] = []

    def work() -> None:
        with deadline(0.05) as clock:
            outcome.append(signal.getitimer(signal.ITIMER_REAL))
            done = threading.Event()
            done.wait(0.1)  # the caller's step; then it asks how much time is left
            try:
                clock.left()
            except OutOfTime:
                outcome.append("out of time")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(10)
    assert outcome == [(0.0, 0.0), "out of time"]  # no timer armed off the main thread


def fake_module() -> ModuleType:
    """A module that starts processes through its global `subprocess`, as the kubernetes client's do."""
    module = ModuleType("starter")
    module.subprocess = subprocess  # type: ignore[attr-defined]
    return module


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs pidfd_open (Linux 5.3)")
def test_a_process_still_running_at_the_deadline_is_killed_with_its_children(tmp_path: Path) -> None:
    module = fake_module()
    pids = tmp_path / "pids"
    script = f'sleep 300 & echo "$$ $!" > {pids}; wait'
    with pytest.raises(OutOfTime), deadline(0.5) as clock, confined_processes(clock, [module]) as confined:
        process = module.subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE)
        process.communicate()
    assert module.subprocess is subprocess  # the shim is gone
    assert process.returncode == -signal.SIGKILL
    assert confined.killed == [["sh", "-c", script]]
    assert process.stdout is not None and process.stdout.closed
    shell, child = map(int, pids.read_text().split())
    assert exited(shell) and exited(child)


def test_a_process_that_finished_is_left_alone() -> None:
    module = fake_module()
    with deadline(10) as clock, confined_processes(clock, [module]) as confined:
        process = module.subprocess.Popen([sys.executable, "-c", "import os; print(os.getsid(0))"],
                                          stdout=subprocess.PIPE, text=True)
        out, _ = process.communicate()
    assert int(out) == process.pid  # it ran in a session of its own
    assert (process.returncode, confined.killed) == (0, [])
