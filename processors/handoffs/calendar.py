"""The business-hours clock: deadlines count only a team's working time, in its time zone, minus holidays.

Instants are integers of microseconds since the epoch (the unit of Avro ``timestamp-micros`` and of the
handoff state); ``datetime`` wrappers are given for readability at the edges. Each working day has one
window ``[opens, closes)`` in local time, converted to UTC per date, so daylight-saving changes are exact
(a 00:00-24:00 window is 23 or 25 hours long on the days the clocks change).
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bus.errors import OmnibusError
from processors.handoffs.clock import from_micros, to_micros

MINUTES_PER_DAY = 24 * 60
ALL_DAYS = frozenset(range(7))
SEARCH_LIMIT_DAYS = 3_700  # ten years without a working minute means the calendar is wrong


class NoWorkingTime(OmnibusError, ValueError):
    """The calendar has no working time in the next ten years (every day a holiday or a closed weekday)."""


class BusinessCalendar:
    def __init__(
        self,
        timezone: str = "UTC",
        *,
        working_days: Iterable[int] = range(5),
        opens_minute: int = 8 * 60,
        closes_minute: int = 18 * 60,
        holidays: Iterable[date] = (),
        holiday_rules: Container[date] | None = None,
    ) -> None:
        if not 0 <= opens_minute < closes_minute <= MINUTES_PER_DAY:
            raise ValueError("working hours must satisfy 00:00 <= opens < closes <= 24:00")
        self.timezone = ZoneInfo(timezone)
        self.working_days = frozenset(working_days)
        if not self.working_days <= ALL_DAYS:
            raise ValueError("working days are 0 (Monday) to 6 (Sunday)")
        self.opens_minute = opens_minute
        self.closes_minute = closes_minute
        self.holidays = frozenset(holidays)
        self._holiday_rules = holiday_rules
        self._windows: dict[date, tuple[int, int] | None] = {}
        self.always_open = (
            self.working_days == ALL_DAYS and opens_minute == 0 and closes_minute == MINUTES_PER_DAY
            and not self.holidays and holiday_rules is None
        )

    @classmethod
    def round_the_clock(cls, timezone: str = "UTC") -> BusinessCalendar:
        return cls(timezone, working_days=ALL_DAYS, opens_minute=0, closes_minute=MINUTES_PER_DAY)

    # --- one day ----------------------------------------------------------------------------------

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (self._holiday_rules is not None and day in self._holiday_rules)

    def window_us(self, day: date) -> tuple[int, int] | None:
        """The working window of a local date as UTC microseconds, or None on a day off."""
        if day in self._windows:
            return self._windows[day]
        window = None
        if day.weekday() in self.working_days and not self.is_holiday(day):
            window = (self._local_us(day, self.opens_minute), self._local_us(day, self.closes_minute))
        self._windows[day] = window
        return window

    def _local_us(self, day: date, minute: int) -> int:
        if minute == MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.timezone)
        return to_micros(local)

    def _local_date(self, instant_us: int) -> date:
        return from_micros(instant_us).astimezone(self.timezone).date()

    # --- arithmetic -------------------------------------------------------------------------------

    def add_working_us(self, start_us: int, duration_us: int) -> int:
        """The instant when ``duration_us`` of working time will have elapsed after ``start_us``."""
        if duration_us < 0:
            raise ValueError("a working duration cannot be negative")
        if self.always_open or duration_us == 0:
            return start_us + duration_us
        remaining = duration_us
        day = self._local_date(start_us)
        for _ in range(SEARCH_LIMIT_DAYS):
            window = self.window_us(day)
            day += timedelta(days=1)
            if window is None or window[1] <= start_us:
                continue
            begin = max(window[0], start_us)
            available = window[1] - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise NoWorkingTime(f"no working time in {SEARCH_LIMIT_DAYS} days after {from_micros(start_us)}")

    def working_between_us(self, start_us: int, end_us: int) -> int:
        """Working time in ``[start_us, end_us)``; 0 when ``end_us <= start_us``."""
        if end_us <= start_us:
            return 0
        if self.always_open:
            return end_us - start_us
        total = 0
        day, last = self._local_date(start_us), self._local_date(end_us)
        while day <= last:
            window = self.window_us(day)
            if window is not None:
                total += max(0, min(window[1], end_us) - max(window[0], start_us))
            day += timedelta(days=1)
        return total

    def is_working_us(self, instant_us: int) -> bool:
        window = self.window_us(self._local_date(instant_us))
        return window is not None and window[0] <= instant_us < window[1]

    # --- datetime wrappers ------------------------------------------------------------------------

    def add_working(self, start: datetime, duration: timedelta) -> datetime:
        return from_micros(self.add_working_us(to_micros(start), _micros(duration)))

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        return timedelta(microseconds=self.working_between_us(to_micros(start), to_micros(end)))

    def is_working(self, instant: datetime) -> bool:
        return self.is_working_us(to_micros(instant))


def _micros(duration: timedelta) -> int:
    return (duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds


def rebase_us(
    due_us: int, paused_at_us: int, resumed_at_us: int, before: BusinessCalendar, after: BusinessCalendar
) -> int:
    """Move a due instant so that the working time left at ``paused_at_us`` (counted in ``before``)
    is left again at ``resumed_at_us`` (counted in ``after``).

    Used when the clock stops while waiting on the customer (same calendar, later resume) and when a
    case moves to a team with other working hours (different calendar, same instant). Instants already
    due at the pause keep their value: they were due before the clock stopped.
    """
    if due_us <= paused_at_us:
        return due_us
    remaining = before.working_between_us(paused_at_us, due_us)
    return after.add_working_us(resumed_at_us, remaining)
