"""Hourly and daily windows and the key of one aggregate.

Instants are microseconds since the epoch. A window is ``[start_us, end_us)``; an event belongs to the window its
``occurred_at`` falls in, however late it arrives. Hours are UTC hours (aligned to the epoch). Days are cut at UTC
midnight, or at local midnight in the KPI time zone (``KpisSettings.timezone``, an IANA name read with zoneinfo):
such a day lasts 23 or 25 hours when daylight saving time starts or ends, and its key names the zone
(``DAY@Europe/Madrid|<start_us>|...``), so a window keeps its cut when the setting changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bus.clock import from_micros, to_micros  # noqa: F401 - one declaration, re-exported

HOUR_US = 3600 * 1_000_000
DAY_US = 24 * HOUR_US


UTC_DAYS = ""  # the zone of days cut at UTC midnight, in keys: none named (the keys written before zones existed)


def _local_midnight(instant_us: int, zone: str, days_after: int = 0) -> int:
    """The local midnight in ``zone`` that starts the day of ``instant_us``, or ``days_after`` days after it. A
    midnight skipped by a daylight saving change (the clocks going from 00:00 to 01:00) is the change's instant."""
    tz = ZoneInfo(zone)
    day = from_micros(instant_us).astimezone(tz).date() + timedelta(days=days_after)
    return to_micros(datetime.combine(day, time(), tzinfo=tz))


class Granularity(StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"

    @property
    def length_us(self) -> int:
        """The nominal length; a local day in a daylight-saving zone may last an hour more or less (``end_of``)."""
        return HOUR_US if self is Granularity.HOUR else DAY_US

    def start_of(self, instant_us: int, zone: str = UTC_DAYS) -> int:
        """The start of the window of this granularity ``instant_us`` falls in; ``zone``: the IANA zone whose
        midnight cuts days (``UTC_DAYS``: UTC midnight)."""
        if self is Granularity.DAY and zone != UTC_DAYS:
            return _local_midnight(instant_us, zone)
        return instant_us - instant_us % self.length_us

    def end_of(self, start_us: int, zone: str = UTC_DAYS) -> int:
        """The end of the window that starts at ``start_us`` (a local day's: the next local midnight)."""
        if self is Granularity.DAY and zone != UTC_DAYS:
            return _local_midnight(start_us, zone, days_after=1)
        return start_us + self.length_us


GRANULARITIES = (Granularity.HOUR, Granularity.DAY)


@dataclass(frozen=True, slots=True, order=True)
class WindowKey:
    """One aggregate: a window of one granularity, for one channel and one site ("" = no site); ``zone``: the IANA
    zone whose local midnight cuts a day window (``UTC_DAYS`` for UTC midnight and for hours)."""

    granularity: Granularity
    start_us: int
    channel: str
    site: str = ""
    zone: str = UTC_DAYS

    @property
    def end_us(self) -> int:
        return self.granularity.end_of(self.start_us, self.zone)

    def text(self) -> str:
        """``HOUR|<start_us>|CALL_CENTER|paris``, ``DAY@Europe/Madrid|<start_us>|CALL_CENTER|madrid``: the table key
        and the Kafka key of the aggregate."""
        period = f"{self.granularity.value}@{self.zone}" if self.zone != UTC_DAYS else self.granularity.value
        return f"{period}|{self.start_us}|{self.channel}|{self.site}"

    @classmethod
    def parse(cls, text: str) -> WindowKey:
        period, start, channel, site = text.split("|", 3)
        granularity, _, zone = period.partition("@")
        return cls(Granularity(granularity), int(start), channel, site, zone)


def zone_of(granularity: Granularity, zone: str) -> str:
    """The zone a window of ``granularity`` is cut in: ``zone`` for days, none for hours (UTC hours)."""
    return zone if granularity is Granularity.DAY else UTC_DAYS


def windows_of(instant_us: int, channel: str, site: str | None, zone: str = UTC_DAYS) -> tuple[WindowKey, ...]:
    """The hourly and the daily window ``instant_us`` falls in; ``zone``: the days' (``UTC_DAYS``: UTC)."""
    return tuple(WindowKey(g, g.start_of(instant_us, zone_of(g, zone)), channel, site or "", zone_of(g, zone))
                 for g in GRANULARITIES)


def windows_ending_between(after_us: int, through_us: int, granularity: Granularity,
                           zone: str = UTC_DAYS) -> list[WindowKey]:
    """The windows of ``granularity`` (no channel or site yet) that end in ``(after_us, through_us]``."""
    zone = zone_of(granularity, zone)
    found: list[WindowKey] = []
    start = granularity.start_of(after_us, zone)
    while (end := granularity.end_of(start, zone)) <= through_us:  # the first ends after after_us: it holds it
        found.append(WindowKey(granularity, start, "", "", zone))
        start = end
    return found
