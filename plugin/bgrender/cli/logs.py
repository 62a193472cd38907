"""Logs go to stderr only (stdout is the product): JSON lines when stderr is not a terminal
(Argo CD's sidecar log), readable text when it is.

Two ways in. `log` goes through structlog, the logging library of the commands that run long
or talk to people; structlog costs ~50 ms to import (asyncio, dataclasses, inspect,
logging), more than a whole render, so it is imported on the first message that passes the
level, not before. `line` is for the one line per render that Argo CD runs on every commit:
written here directly, it costs a fraction of a millisecond. It is the line structlog's
JSONRenderer(sort_keys=True) would print, with the same fields; on a terminal it goes
through `log` after all, so a person reads the same text as before.

`uptime_ms` measures from process start, interpreter start-up and imports included: the
time Argo CD waits.
"""

from __future__ import annotations

import os
import sys
import time

from bgrender.cli.streams import write_err

try:  # the encoder json.dumps itself uses; the json package would cost ~2 ms to import
    from _json import encode_basestring_ascii as _json_string
except ImportError:  # pragma: no cover - a Python without the C accelerator
    from json.encoder import encode_basestring_ascii as _json_string

from bgrender import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

_RANKS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_state: dict[str, Any] = {"level": "warning", "logger": None}


def set_level(level: str) -> None:
    _state["level"] = level


def log(level: str, event: str, **fields: Any) -> None:
    if _RANKS[level] < _RANKS[_state["level"]]:
        return
    if _state["logger"] is None:
        _state["logger"] = _configure()
    getattr(_state["logger"], level)(event, **fields)


def line(level: str, event: str, **fields: str | int | float) -> None:
    """One log line without structlog (fields: strings and numbers)."""
    if _RANKS[level] < _RANKS[_state["level"]]:
        return
    if sys.stderr is not None and sys.stderr.isatty():
        log(level, event, **fields)
        return
    fields = {**fields, "event": event, "level": level, "timestamp": _timestamp()}
    body = ", ".join(f"{_json_string(key)}: {_json_value(fields[key])}" for key in sorted(fields))
    write_err(f"{{{body}}}\n")


def uptime_ms() -> float:
    """Milliseconds since this process started.

    The kernel records the start in clock ticks since boot (/proc/self/stat, field 22;
    0.1 ms to read), which places it within one tick (10 ms) before its value; the CPU
    time used so far says where in that window: a start-up spends its time on the CPU,
    unless it waits for one. Elsewhere than Linux, the CPU time alone.
    """
    cpu = time.process_time()
    try:
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()  # the command name may hold spaces
        tick = 1 / os.sysconf("SC_CLK_TCK")
        since_tick = time.clock_gettime(time.CLOCK_BOOTTIME) - int(fields[19]) * tick
    except (OSError, ValueError, IndexError, AttributeError):
        return cpu * 1000
    return min(max(cpu, since_tick - tick), since_tick) * 1000


def _timestamp() -> str:
    """Now, in UTC, as structlog's TimeStamper(fmt="iso", utc=True) writes it (datetime's
    isoformat: microseconds unless there are none), without importing datetime (~4 M
    instructions, which PyYAML no longer imports: yamlfile/pyyaml.py)."""
    seconds, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    microseconds = nanoseconds // 1000
    return f"{text}.{microseconds:06d}Z" if microseconds else f"{text}Z"


def _json_value(value: str | int | float) -> str:
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # what json.dumps writes for a number (nan and inf never reach here)
    raise TypeError(f"a log field must be a string or a number, not {type(value).__name__}")


def _configure() -> Any:
    import structlog

    renderer = (structlog.dev.ConsoleRenderer(colors=False) if sys.stderr.isatty()
                else structlog.processors.JSONRenderer(sort_keys=True))
    structlog.configure(
        processors=[structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True), renderer],
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    return structlog.get_logger("bgrender")
