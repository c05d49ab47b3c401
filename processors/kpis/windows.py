"""Hourly and daily windows (UTC, aligned to the epoch) and the key of one aggregate.

Instants are microseconds since the epoch. A window is ``[start_us, start_us + length)``; an event
belongs to the window its ``occurred_at`` falls in, however late it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bus.clock import from_micros, to_micros  # noqa: F401 - one declaration, re-exported

HOUR_US = 3600 * 1_000_000
DAY_US = 24 * HOUR_US


class Granularity(StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"

    @property
    def length_us(self) -> int:
        return HOUR_US if self is Granularity.HOUR else DAY_US

    def start_of(self, instant_us: int) -> int:
        return instant_us - instant_us % self.length_us


GRANULARITIES = (Granularity.HOUR, Granularity.DAY)


@dataclass(frozen=True, slots=True, order=True)
class WindowKey:
    """One aggregate: a window of one granularity, for one channel and one site ("" = no site)."""

    granularity: Granularity
    start_us: int
    channel: str
    site: str = ""

    @property
    def end_us(self) -> int:
        return self.start_us + self.granularity.length_us

    def text(self) -> str:
        """``HOUR|<start_us>|CALL_CENTER|paris``: the table key and the Kafka key of the aggregate."""
        return f"{self.granularity.value}|{self.start_us}|{self.channel}|{self.site}"

    @classmethod
    def parse(cls, text: str) -> WindowKey:
        granularity, start, channel, site = text.split("|", 3)
        return cls(Granularity(granularity), int(start), channel, site)


def windows_of(instant_us: int, channel: str, site: str | None) -> tuple[WindowKey, ...]:
    """The hourly and the daily window ``instant_us`` falls in."""
    return tuple(WindowKey(g, g.start_of(instant_us), channel, site or "") for g in GRANULARITIES)


def window_ends_between(after_us: int, through_us: int, granularity: Granularity) -> range:
    """Ends of the windows of ``granularity`` that end in ``(after_us, through_us]``."""
    length = granularity.length_us
    first = after_us - after_us % length + length
    return range(first, through_us + 1, length)
