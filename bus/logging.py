"""One structlog set-up for every Omnibus process: JSON lines on stderr, identifiers masked."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from bus.redact import redact

class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record, not at configuration time
    (test runners and daemonisers swap it, and a handler holding a closed stream drops lines)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # type: ignore[no-untyped-def]
        pass


_NOT_REDACTED = frozenset({"level", "timestamp", "logger", "component"})


def _redact_event(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if k in _NOT_REDACTED else redact(v, key=k)) for k, v in event_dict.items()}


def configure_logging(level: str = "INFO", *, json_output: bool = True) -> None:
    """Configure structlog and the standard library (aiokafka, faust) to emit the same redacted lines."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_event,
    ]
    renderer = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _CurrentStderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def get_logger(name: str, **context: Any) -> structlog.stdlib.BoundLogger:
    """A lazy logger: module-level loggers pick up ``configure_logging`` even when created before it."""
    return structlog.stdlib.get_logger(name, **context)
