"""structlog, configured for a tool whose stdout is the product: logs go to stderr only,
as JSON when stderr is not a terminal (Argo CD's sidecar log), readable text when it is.

structlog costs ~50 ms to import, more than a whole render, so it is imported on the
first message that passes the level, not before.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # the typing module costs ~3 ms at startup; only type checkers need it
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
