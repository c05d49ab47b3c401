"""Instants in section states: epoch microseconds (JSON-safe, sortable, exact)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bus.serde import Event


def micros(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() * 1_000_000)
    return int(value)


def occurred_micros(event: Event) -> int:
    return micros(event.value["envelope"]["occurred_at"]) or 0


def iso(value: int | None) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1_000_000, UTC).isoformat()
