"""Source clocks are not trusted blindly: the one rule every adapter applies to a source's timestamps.

Two checks, in this order (``docs``: README "Source clocks"):

1. **Range.** A time must convert to UTC and lie in ``[EARLIEST, LATEST)`` (1970-01-01 to 2100-01-01):
   before the epoch no source we read existed, and ``9999-12-31T23:59:59.999999-14:00`` would overflow
   every downstream conversion. Outside it the record is refused (``RejectedInput``, code
   ``out_of_range``): no correction can recover a meaningful time.
2. **Future.** A time later than the receive time plus ``future_tolerance_s`` comes from a clock that
   runs ahead. It is moved back by the excess (``Skew``), and the original is kept by the mapper (an
   ``original_*`` property), so a deadline is never set from a time that has not happened yet.

Segment's own rule comes first for web messages (``segment_skew``): ``timestamp`` is corrected by the
skew between the device's ``sentAt`` and the receive time, per message and per batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter

from adapters.base.errors import RejectedInput

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
DEFAULT_FUTURE_TOLERANCE_S = 300.0
_NONE = timedelta(0)  # built once: these run per record

# The contract of a source time (OpenAPI 3.1): an RFC 3339 date-time whose year is in the range (a pattern: JSON Schema
# has no bound on a date-time; at the range's edges a UTC offset may still carry a time outside it, which is refused).
# It spells the years of EARLIEST..LATEST (tests/adapters/base/test_clock_contract.py holds it to them).
YEAR_PATTERN = "^(19[7-9][0-9]|20[0-9][0-9])-"


def date_time_schema(description: str = "", *, offset_required: bool) -> dict[str, Any]:
    """The OpenAPI schema of a source time read with ``in_range``: ``format: date-time``, its year bounded by
    ``YEAR_PATTERN``, and a description that says the range and what a time without a UTC offset is (read as UTC by
    the web adapter, ``offset_required`` False; refused by the counter's, True), then ``description``."""
    offset = ("A time without a UTC offset is refused (400 bad_field)." if offset_required else
              "A time without a UTC offset is read as UTC.")
    said = (f"ISO 8601 date-time, e.g. 2026-12-05T08:00:00Z, from {EARLIEST.date().isoformat()} to before "
            f"{LATEST.date().isoformat()} (UTC): outside it the record is refused (400 out_of_range). {offset} "
            f"{description}").strip()
    return {"type": "string", "format": "date-time", "pattern": YEAR_PATTERN, "description": said}


CORRECTED = Counter(
    "omnibus_adapter_clock_corrections_total",
    "Source timestamps moved back because they lay in the future beyond the tolerance, by source system.",
    ["source_system"],
)


def in_range(moment: datetime, field: str, source: str) -> datetime:
    """``moment`` (naive means UTC) if it converts to UTC inside ``[EARLIEST, LATEST)``; else refused."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        utc = aware.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise _out_of_range(field, source) from exc
    if not EARLIEST <= utc < LATEST:
        raise _out_of_range(field, source)
    return aware


def _out_of_range(field: str, source: str) -> RejectedInput:
    return RejectedInput(
        # Years alone: a full date is scrubbed from log lines like any 8 digits (bus.redact: a birth date)
        f"{source}: {field} is outside the years {EARLIEST.year} to {LATEST.year - 1} (UTC)", code="out_of_range"
    )


@dataclass(frozen=True)
class Skew:
    """How far a source's clock ran ahead of ours (``ahead``, zero when it did not)."""

    ahead: timedelta = _NONE

    @property
    def corrected(self) -> bool:
        return self.ahead > _NONE

    def apply(self, moment: datetime | None) -> datetime | None:
        return moment - self.ahead if moment is not None and self.corrected else moment


NO_SKEW = Skew()  # immutable: shared by every record whose clock did not run ahead


def future_skew(
    latest: datetime, received_at: datetime, *, tolerance_s: float = DEFAULT_FUTURE_TOLERANCE_S,
    source_system: str = "unknown",
) -> Skew:
    """The correction for a record whose latest time is ``latest``: none within the tolerance, else the
    whole excess over the receive time (the record then ends when we received it; durations kept)."""
    ahead = latest - received_at
    if ahead.total_seconds() <= tolerance_s:
        return NO_SKEW
    CORRECTED.labels(source_system=source_system).inc()
    return Skew(ahead)


def segment_skew(sent_at: datetime | None, received_at: datetime) -> timedelta:
    """Segment's rule: ``timestamp = receivedAt - (sentAt - originalTimestamp)``, i.e. every time the
    device wrote is shifted by ``receivedAt - sentAt`` (zero when the sender gave no ``sentAt``).
    Source: https://segment.com/docs/connections/spec/common/#timestamps"""
    return _NONE if sent_at is None else received_at - sent_at
