"""Clocks: the processor never reads the wall clock directly, so tests can run 25 hours in seconds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (thread-safe: a test thread may drive a worker's clock)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            if instant < self._now:
                raise ValueError("a clock does not run backwards")
            self._now = instant

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


def to_micros(instant: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (the unit of Avro timestamp-micros)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: every instant in Omnibus is timezone-aware")
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def read_instant(text: str) -> datetime:
    """An instant a user typed: ISO 8601, a date (its midnight) or a time; UTC when it names no zone (``2026-03-01``,
    ``2026-03-01T10:00``), the one rule of every command option and HTTP query parameter that takes a time.
    Raises ``ValueError`` (fromisoformat's) for anything else."""
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
