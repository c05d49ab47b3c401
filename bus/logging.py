"""One structlog set-up for every Omnibus process: JSON lines on stderr, identifiers masked, and
repeated lines of the libraries (a broker outage makes aiokafka log ~1,100 warnings in 30 s, and a broker restart
hundreds of INFO lines in seconds) folded into one line with a count."""

from __future__ import annotations

import ast
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import structlog

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


REPEAT_WINDOW_S = 30.0
# The least level of the library lines ``RepeatLimiter`` folds. INFO, not WARNING: after a broker restart aiokafka wrote
# "OffsetCommit failed for group %s due to a coordinator error (%s), will find new coordinator and retry" at INFO, once
# per partition and commit, 312 lines in 4 s. DEBUG is left whole: who asks for it reads every line.
FOLDED_FROM_LEVEL = logging.INFO
# Loggers whose every line is a record of its own, never folded: an access log, a line per HTTP request (a probe, a
# screen-pop query), is read whole.
UNFOLDED_LOGGERS = frozenset({"aiohttp.access"})
# A number inside a library's message, for the fold key only: faust formats its own ("producer buffer full size 104",
# an f-string), so each line differed from the last and none was folded (844 lines in 12 min).
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def fold_key(record: logging.LogRecord) -> tuple[str, int, str]:
    """Which records ``RepeatLimiter`` folds together: same logger, level and message template, numbers in it aside
    (``producer buffer full size 104`` and ``... 98`` fold; ``... size 104`` and ``... full 104`` do not). The
    folded line is the last one held back, as written, so its numbers stay visible."""
    return record.name, record.levelno, _NUMBER.sub("#", record.msg)


@dataclass
class _Repeats:
    first_at: float
    suppressed: int = 0
    record: logging.LogRecord | None = None  # the last one held back
    first_suppressed_at: float = 0.0  # wall clock (``LogRecord.created``) of the first one held back


def _iso(created: float) -> str:
    return datetime.fromtimestamp(created, tz=UTC).isoformat().replace("+00:00", "Z")


class RepeatLimiter(logging.Filter):
    """Lets through the first of identical library lines at ``FOLDED_FROM_LEVEL`` or above (same logger, level and
    message template, numbers aside: ``fold_key``) per ``window_s`` seconds; the count of those held back is written
    as a copy of the last one, carrying ``repeated`` (how many) and ``repeated_from`` / ``repeated_until`` (ISO 8601
    UTC wall-clock times of the first and the last held back: the line itself is stamped when it is written). It is
    written with the next identical one let through, or, once its window has passed, before the next record of any
    kind that reaches the handler (``emit``, when given), and at the latest by ``flush`` (called when the handler
    closes, at exit) — so a broker outage that ended does not show as errors stamped with the process's stop time.

    Only records logged with a %-template (the libraries: aiokafka, faust, mode, aiohttp) are limited;
    Omnibus's own structured events pass untouched.

    Thread-safe, and it never raises: ``logging`` calls a handler's filters outside the handler's lock, from every
    thread that logs (faust runs its aiokafka consumer in a thread of its own), and an exception in a filter is
    raised at the library's log call. A ``KeyError`` here, two threads writing out the same expired count during a
    broker outage, ended aiokafka's producer sender task ("Unexpected error during batch delivery"): kpis stopped
    on a non-retriable publish error, and a sender that died while nothing was pending left every later publish
    waiting forever — a worker alive that processed nothing (#13 broker fault test, struck early).
    """

    def __init__(self, window_s: float = REPEAT_WINDOW_S, clock: Callable[[], float] = time.monotonic,
                 emit: Callable[[logging.LogRecord], None] | None = None) -> None:
        super().__init__()
        self.window_s = window_s
        self._clock = clock
        self._emit = emit
        self._seen: dict[tuple[str, int, str], _Repeats] = {}
        self._lock = threading.Lock()  # ``_seen`` is shared by every thread that logs; never held while emitting

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            return self._filter(record)
        except Exception:  # noqa: BLE001 - a filter that raises breaks the caller's code path (see the class doc)
            return True

    def _filter(self, record: logging.LogRecord) -> bool:
        now = self._clock()
        if self._emit is not None:
            self._write_expired(now, self._emit)
        if record.levelno < FOLDED_FROM_LEVEL or not isinstance(record.msg, str) or hasattr(record, "repeated") \
                or record.name in UNFOLDED_LOGGERS:
            return True
        key = fold_key(record)
        with self._lock:
            seen = self._seen.get(key)
            if seen is None or now - seen.first_at >= self.window_s:
                self._seen[key] = _Repeats(first_at=now)
                if seen is not None and seen.suppressed:
                    _mark(record, seen)
                return True
            if not seen.suppressed:
                seen.first_suppressed_at = record.created
            seen.suppressed += 1
            seen.record = record
            return False

    def _write_expired(self, now: float, emit: Callable[[logging.LogRecord], None]) -> None:
        with self._lock:  # each expired count is taken out once, by one caller, and written outside the lock
            expired = [self._seen.pop(key) for key, seen in list(self._seen.items())
                       if now - seen.first_at >= self.window_s]
        for seen in expired:
            if seen.suppressed and seen.record is not None:
                emit(_mark(seen.record, seen))

    def flush(self, emit: Callable[[logging.LogRecord], None]) -> None:
        with self._lock:
            pending, self._seen = list(self._seen.values()), {}
        for seen in pending:
            if seen.suppressed and seen.record is not None:
                emit(_mark(seen.record, seen))


def _mark(record: logging.LogRecord, seen: _Repeats) -> logging.LogRecord:
    assert seen.record is not None
    record.repeated = seen.suppressed
    record.repeated_from = _iso(seen.first_suppressed_at)
    record.repeated_until = _iso(seen.record.created)
    return record


# aiokafka logs at ERROR what is a normal transient while a consumer group starts: the broker answers the
# coordinator look-up with error 15 until its offsets topic exists and a coordinator is elected, and aiokafka
# retries (aiokafka/consumer/group_coordinator.py, ``ensure_coordinator_known``). Seen on every first start.
TRANSIENT_LIBRARY_ERRORS = frozenset({
    ("aiokafka.consumer.group_coordinator", "Group Coordinator Request failed: %s",
     "GroupCoordinatorNotAvailableError"),
})


# Library WARNINGs of a healthy, busy process (new-user finding #12: "a new user thinks something broke"):
# (logger, template) -> the line said plainly. What they are about is watched by Omnibus itself: a coordinator
# that does not come back shows as consumer lag (processors/readiness.py, bus/lag_watchdog.py); an event loop
# too busy for its timers as commit and lag stalls (bus/commit_watchdog.py, bus/lag_watchdog.py).
ROUTINE_LIBRARY_WARNINGS = {
    # aiokafka/consumer/group_coordinator.py ``coordinator_dead``: a request to the coordinator failed or timed out,
    # and the client looks it up again (its template lacks a space before "for").
    ("aiokafka.consumer.group_coordinator", "Marking the coordinator dead (node %s)for group %s."):
        "Looking up the group coordinator again (node %s stopped answering) for group %s",
    # mode/timers.py ``Timer.tick``: a periodic task ran longer than its interval (a loaded machine).
    ("mode.timers", "Timer %s is overlapping (interval=%r runtime=%r)"):
        "Timer %s ran longer than its interval (interval=%r runtime=%r): the machine is busy",
}


# Library lines print records' keys and values (bytes) and messages holding them, at DEBUG mostly: faust.topics
# "send: topic=%r k=%r v=%r ..." for every record sent (a changelog's too: names, addresses, postcodes, user ids and
# an IBAN's letters were read there), aiokafka's "Sending (key=%s value=%s) to %s", faust's consumer
# "DROPPED MESSAGE ROFF %r: k=%r v=%r", its stream's "Skipping message %r ..." and producer's "_on_published error
# ... message <FutureMessage ...>" (a message's repr shows its key and value), aiokafka's connection "Request to
# %s:%d %d: %s" (a produce request's record batches; a fetch response's). A record's content holds identifiers
# and traits the text scrubber cannot tell apart (a user id, a name or a street in Avro, JSON or msgpack bytes has no
# shape of its own), so every bytes value in a line is written as its size, wherever the library put it: an argument
# that is bytes, a bytes literal in an argument's str/repr (a message, a record, a tuple), or in the line itself
# (f-strings). Text arguments are left to the scrubber (``bus.redact``).
_BYTES_LITERAL = re.compile(r"""(?<![\w'"])b(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""")
_PLAIN = (str, int, float, bool, type(None), BaseException)  # printed as they are (an exception: its type is matched)


class RecordContentOmitted(logging.Filter):
    """Writes every record key and value (bytes) a log line carries as its size (``<812 bytes>``), at any level:
    bytes arguments, bytes inside an argument's str/repr (lazily, when the line is written) and bytes literals in
    the line's text (an argument is printed as before when it holds no bytes). Never raises (see ``RepeatLimiter``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            if isinstance(record.msg, str):
                if _has_bytes_literal(record.msg):
                    record.msg = _sizes_for_bytes(record.msg)
                if isinstance(record.args, tuple):
                    record.args = tuple(_omitted(arg) for arg in record.args)
                elif isinstance(record.args, Mapping):
                    record.args = {key: _omitted(arg) for key, arg in record.args.items()}
        except Exception:  # noqa: BLE001, S110 - a filter that raises breaks the library's code path
            pass
        return True


class _ContentOmitted:
    """An argument printed (``%s``, ``%r``) with the bytes literals of its str/repr written as their size."""

    __slots__ = ("_arg",)

    def __init__(self, arg: object) -> None:
        self._arg = arg

    def __str__(self) -> str:
        return _sizes_for_bytes(str(self._arg))

    def __repr__(self) -> str:
        return _sizes_for_bytes(repr(self._arg))


def _omitted(arg: object) -> object:
    if isinstance(arg, bytes | bytearray | memoryview):
        return _size(arg)
    if isinstance(arg, str):
        return _sizes_for_bytes(arg) if _has_bytes_literal(arg) else arg
    if isinstance(arg, _PLAIN):
        return arg
    # wrapped only when it prints bytes: a wrapper breaks a numeric format (``%d`` of a ``Decimal``)
    own_str = type(arg).__str__ is not object.__str__  # else str() is repr(): one look is enough
    return _ContentOmitted(arg) if _has_bytes_literal(repr(arg)) or (own_str and _has_bytes_literal(str(arg))) \
        else arg


def _has_bytes_literal(text: str) -> bool:
    return ("b'" in text or 'b"' in text) and _BYTES_LITERAL.search(text) is not None


def _sizes_for_bytes(text: str) -> str:
    return _BYTES_LITERAL.sub(_literal_size, text)


def _literal_size(match: re.Match[str]) -> str:
    try:
        return _size(ast.literal_eval(match.group(0)))
    except (ValueError, SyntaxError):
        return "<? bytes>"


class _Size(str):
    """``<812 bytes>``, printed so by ``%s`` and ``%r`` alike (no quotes around it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _size(value: Any) -> str:
    sized = isinstance(value, bytes | bytearray | memoryview | str)
    return _Size("<none>" if value is None else f"<{len(value) if sized else '?'} bytes>")


class TransientErrorsAsInfo(logging.Filter):
    """Lowers the libraries' retried transients (``TRANSIENT_LIBRARY_ERRORS``: logger, template, error class)
    from ERROR to INFO, and their routine warnings (``ROUTINE_LIBRARY_WARNINGS``) from WARNING to INFO in plain
    words; they still go through ``RepeatLimiter`` (one line per window with a count), and a coordinator that
    never comes shows in consumer lag (``processors/readiness.py``) rather than here."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            return True
        plain = ROUTINE_LIBRARY_WARNINGS.get((record.name, record.msg)) if record.levelno == logging.WARNING else None
        if plain is not None:
            record.msg = plain
        elif not (record.levelno == logging.ERROR and any(
            record.name == name and record.msg == template and type(arg).__name__ == error
            for name, template, error in TRANSIENT_LIBRARY_ERRORS for arg in _args(record)
        )):
            return True
        record.levelno, record.levelname, record.transient = logging.INFO, "INFO", True
        return logging.getLogger(record.name).isEnabledFor(logging.INFO)  # a one-shot command hides library INFO


def _args(record: logging.LogRecord) -> tuple[Any, ...]:
    return record.args if isinstance(record.args, tuple) else ()


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


def flush_repeats() -> None:
    """Write now the held-back repeat counts (``RepeatLimiter``) of the root handlers, and flush them: a command
    that ends with one ``error:`` line calls this first, so that no log line follows the error (new-user #13)."""
    for handler in logging.getLogger().handlers:
        for limiter in handler.filters:
            if isinstance(limiter, RepeatLimiter):
                limiter.flush(handler.emit)
        handler.flush()


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
