"""Repeated library lines folded into one line with a count: a broker outage makes aiokafka log ~1,100 warnings in
30 s, and a broker restart hundreds of INFO lines in seconds (``RepeatLimiter``, a filter of the handler
``bus.logging.configure_logging`` sets up), and the held-back counts written out before a process's last line
(``flush_repeats``). The rest of the logging set-up: ``bus/logging.py``; the libraries' record contents written as
their size: ``bus/log_content.py``; their transients and routine warnings lowered to INFO: ``bus/log_transients.py``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

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


def flush_repeats() -> None:
    """Write now the held-back repeat counts (``RepeatLimiter``) of the root handlers, and flush them: a command
    that ends with one ``error:`` line calls this first, so that no log line follows the error (new-user #13)."""
    for handler in logging.getLogger().handlers:
        for limiter in handler.filters:
            if isinstance(limiter, RepeatLimiter):
                limiter.flush(handler.emit)
        handler.flush()
