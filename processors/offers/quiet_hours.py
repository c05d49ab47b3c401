"""Quiet hours: a daily span of local time in the customer's time zone when no offer is presented.

``21:00``-``08:00`` spans midnight. Local time is computed with ``zoneinfo`` from the instant, so a
daylight-saving change is handled by the IANA database: on the night clocks go forward the span is
an hour shorter in real time, on the night they go back an hour longer. ``next_allowed`` answers the
first instant (UTC) after the span, which push channels receive as ``not_before``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class QuietHours(BaseModel):
    """``start`` and ``end`` are local clock times 'HH:MM'; ``start`` is inside the span, ``end`` is not."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"{value!r} is not a local time HH:MM (00:00 to 23:59)")
        return value

    @field_validator("end")
    @classmethod
    def _not_empty(cls, value: str, info: Any) -> str:
        if info.data.get("start") == value:
            raise ValueError("start and end are equal: the span would be empty")
        return value

    def _minutes(self, clock: str) -> int:
        hours, minutes = clock.split(":")
        return int(hours) * 60 + int(minutes)

    def contains(self, instant: datetime, zone: str) -> bool:
        """True when ``instant`` (aware) falls inside the span in ``zone`` (an IANA name)."""
        local = instant.astimezone(ZoneInfo(zone))
        now, start, end = local.hour * 60 + local.minute, self._minutes(self.start), self._minutes(self.end)
        return start <= now < end if start < end else (now >= start or now < end)

    def next_allowed(self, instant: datetime, zone: str) -> datetime:
        """``instant`` itself when outside the span, else the first instant (UTC) at which it ends."""
        if not self.contains(instant, zone):
            return instant.astimezone(UTC)
        tz = ZoneInfo(zone)
        local = instant.astimezone(tz)
        end = time(*map(int, self.end.split(":")))
        day = local.date() if local.time() < end else local.date() + timedelta(days=1)
        wall = datetime.combine(day, end, tzinfo=tz)
        # A wall time can repeat (clocks go back) or not exist (clocks go forward): the span ends at the
        # first real instant whose local time is past ``end``.
        instants = sorted({wall.replace(fold=0).astimezone(UTC), wall.replace(fold=1).astimezone(UTC)})
        early, late = instants[0], instants[-1]
        if not self.contains(early, zone):
            return early
        while late - early > timedelta(minutes=1):  # a gap: find the jump to the minute
            middle = early + (late - early) / 2
            early, late = (middle, late) if self.contains(middle, zone) else (early, middle)
        return late.replace(second=0, microsecond=0)

    def to_record(self) -> dict[str, str]:
        return {"start": self.start, "end": self.end}

    @classmethod
    def from_record(cls, value: dict[str, Any]) -> QuietHours:
        return cls(start=value["start"], end=value["end"])
