"""One structlog set-up for every Omnibus process: JSON lines on stderr, identifiers masked, and
repeated lines of the libraries (a broker outage makes aiokafka log ~1,100 warnings in 30 s, and a broker restart
hundreds of INFO lines in seconds) folded into one line with a count.

The handler's filters live beside it: repeated lines folded and their counts written out (``bus/log_repeats.py``:
``RepeatLimiter``, ``flush_repeats``), record contents written as their size (``bus/log_content.py``), the
libraries' transients and routine warnings lowered to INFO (``bus/log_transients.py``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

from bus.log_content import RecordContentOmitted
from bus.log_repeats import RepeatLimiter
from bus.log_transients import TransientErrorsAsInfo
from bus.redact import redact


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record, not at configuration time
    (test runners and daemonisers swap it, and a handler holding a closed stream drops lines)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass

    def close(self) -> None:
        for limiter in self.filters:
            if isinstance(limiter, RepeatLimiter):
                limiter.flush(self.emit)
        super().close()


COMPONENT_KEY = "component"  # which component wrote a line: adapter.web, identity, handoffs (as metrics name it)
_NOT_REDACTED = frozenset({"level", "timestamp", "logger", COMPONENT_KEY})


def _redact_event(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if k in _NOT_REDACTED else redact(v, key=k)) for k, v in event_dict.items()}


LIBRARY_LOGGERS = ("aiokafka", "kafka", "httpx", "httpx2", "httpcore", "httpcore2", "faust", "mode", "aiohttp.access")
# Libraries whose DEBUG lines trace the customer data they work on, as text: celpy, the offers' CEL evaluator, logs
# each evaluation's activation (a customer's city, segment, products; found running offers at DEBUG).
# Shown from INFO whatever the level.
DATA_TRACE_LOGGERS = ("celpy",)
# HTTP clients (the schema registry's): their INFO is one line per request, "HTTP Request: GET ... 200 OK", in every
# process. Shown from WARNING whatever the level, except at DEBUG.
PER_REQUEST_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2")  # httpx2 logs through httpcore2
# Where a process says which port it bound (its web server, an adapter's HTTP server, its metrics endpoint): for port 0
# the one place that names the port. Shown from INFO whatever the level: at OMNIBUS_LOG__LEVEL=WARNING a process on
# port 0 said nothing of where it listened.
PORTS_LOGGER = "omnibus.ports"


def configure_logging(level: str = "INFO", *, json_output: bool = True, library_level: str | None = None) -> None:
    """Configure structlog and the standard library (aiokafka, faust) to emit the same redacted lines.

    ``library_level``: the least level of ``LIBRARY_LOGGERS`` shown (a one-shot command passes ``"WARNING"``: a new
    user read seven aiokafka and httpx INFO lines above the answer of ``identity review list``); None: as ``level``
    (a long-running process, whose group joins and connections ops want to see)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_process_component,  # after ``logged_as``'s (merged above): a component's own context wins
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(allow=["repeated", "repeated_from", "repeated_until", "transient"]),
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
    handler.addFilter(RecordContentOmitted())
    handler.addFilter(TransientErrorsAsInfo())
    handler.addFilter(RepeatLimiter(emit=handler.emit))
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(library_level or logging.NOTSET)
    for name in DATA_TRACE_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(library_level or "NOTSET")))
    logging.getLogger(PORTS_LOGGER).setLevel(min(logging.INFO, logging.getLevelName(level)))
    if logging.getLevelName(level) != logging.DEBUG:
        for name in PER_REQUEST_LOGGERS:
            logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(library_level or "NOTSET")))


@contextmanager
def recomputing(*packages: str) -> Iterator[None]:
    """While a command recomputes processors' state from their old input (``omnibus verify``, ``omnibus replay``),
    the lines of ``packages`` (``"processors.handoffs"``) below ERROR are not shown: they are the processor's own
    warnings about input of long ago, which a log shipper reading the command's stderr would count again as new; what
    the recomputation finds, the command reports."""
    loggers = [logging.getLogger(name) for name in packages]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)



_process_component: list[str] = []  # the process's own component (``bind_component``), or none


def bind_component(component: str | None) -> None:
    """From now on, every line of the process carries ``component`` (``COMPONENT_KEY``), from every thread (faust's
    consumer thread, the metrics server's): the component the process runs, bound once at its start
    (``bus.bootstrap.start_process``); None: none. A line's own ``component=`` wins, and so does ``logged_as``."""
    _process_component[:] = [component] if component is not None else []


def _add_process_component(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    if _process_component:
        event_dict.setdefault(COMPONENT_KEY, _process_component[0])
    return event_dict


@contextmanager
def logged_as(component: str) -> Iterator[None]:
    """While the block runs, every line of this context carries ``component`` (``COMPONENT_KEY``), and so do the
    tasks and servers started inside it, for their whole life (a server's connections are handled in the context it
    started listening in); afterwards the context's own again. For several components in one process (the demo):
    wrap a component's start and stop, never a ``yield`` that hands control back to its caller."""
    with structlog.contextvars.bound_contextvars(**{COMPONENT_KEY: component}):
        yield


def ports_logger() -> structlog.stdlib.BoundLogger:
    """The logger of the lines that name a port a process bound (``PORTS_LOGGER``: shown whatever the level)."""
    return get_logger(PORTS_LOGGER)


def get_logger(name: str, **context: Any) -> structlog.stdlib.BoundLogger:
    """A lazy logger: module-level loggers pick up ``configure_logging`` even when created before it."""
    return structlog.stdlib.get_logger(name, **context)
