"""The business-hours clock: deadlines count only a team's working time, in its time zone, minus holidays.

Instants are integers of microseconds since the epoch (the unit of Avro ``timestamp-micros`` and of the
handoff state); ``datetime`` wrappers are given for readability at the edges.

A working day has any number of windows ``[opens, closes)`` in local time (minutes of the day, e.g.
09:00-13:00 and 14:00-18:00 around a lunch break), per weekday; a date-specific exception replaces the
weekday's windows on that date (an empty exception closes the day; an exception on a public holiday
opens it). A window may cross midnight (``closes`` up to 48:00, e.g. 22:00-06:00 is ``(1320, 1800)``):
the part after midnight belongs to the shift that started the day before, so it is worked even when the
next date is a holiday. Windows are converted to UTC per date, so daylight-saving changes are exact (a
00:00-24:00 window is 23 or 25 hours long on the days the clocks change; a window that falls in the
spring-forward gap is empty). Overlapping windows count once.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bus.clock import from_micros, to_micros
from bus.errors import OmnibusError

MINUTES_PER_DAY = 24 * 60
ALL_DAYS = frozenset(range(7))
SEARCH_LIMIT_DAYS = 3_700  # ten years without a working minute means the calendar is wrong

Window = tuple[int, int]  # (opens, closes) in minutes after local midnight; closes <= 48:00


class NoWorkingTime(OmnibusError, ValueError):
    """The calendar has no working time in the next ten years (every day a holiday or a closed weekday)."""


def check_windows(windows: Sequence[Window]) -> tuple[Window, ...]:
    """The windows sorted by opening; raises ValueError unless ``0 <= opens < closes <= opens + 24:00``."""
    for opens, closes in windows:
        if not 0 <= opens < MINUTES_PER_DAY or not opens < closes <= opens + MINUTES_PER_DAY:
            raise ValueError(
                "a working window must satisfy 00:00 <= opens < 24:00 and opens < closes <= opens + 24 h"
            )
    return tuple(sorted((int(o), int(c)) for o, c in windows))


class BusinessCalendar:
    """Working time of one team. ``week`` maps a weekday (0 = Monday) to its windows; without it every day
    of ``working_days`` has the one window ``opens_minute``-``closes_minute``. ``exceptions`` maps a date
    to the windows that replace its weekday's (``()``: closed that date)."""

    def __init__(
        self,
        timezone: str = "UTC",
        *,
        working_days: Iterable[int] = range(5),
        opens_minute: int = 8 * 60,
        closes_minute: int = 18 * 60,
        week: Mapping[int, Sequence[Window]] | None = None,
        exceptions: Mapping[date, Sequence[Window]] | None = None,
        holidays: Iterable[date] = (),
        holiday_rules: Container[date] | None = None,
    ) -> None:
        self.timezone = ZoneInfo(timezone)
        if week is None:
            if not 0 <= opens_minute < closes_minute <= MINUTES_PER_DAY:
                raise ValueError("working hours must satisfy 00:00 <= opens < closes <= 24:00")
            days = frozenset(working_days)
            if not days <= ALL_DAYS:
                raise ValueError("working days are 0 (Monday) to 6 (Sunday)")
            week = {day: ((opens_minute, closes_minute),) for day in days}
        if not set(week) <= ALL_DAYS:
            raise ValueError("working days are 0 (Monday) to 6 (Sunday)")
        self.week: dict[int, tuple[Window, ...]] = {d: check_windows(w) for d, w in week.items() if w}
        self.exceptions: dict[date, tuple[Window, ...]] = {d: check_windows(w) for d, w in (exceptions or {}).items()}
        self.working_days = frozenset(self.week)
        self.holidays = frozenset(holidays)
        self._holiday_rules = holiday_rules
        self._windows: dict[date, tuple[tuple[int, int], ...]] = {}
        self.always_open = (
            all(self.week.get(d) == ((0, MINUTES_PER_DAY),) for d in ALL_DAYS)
            and not self.exceptions and not self.holidays and holiday_rules is None
        )

    @classmethod
    def round_the_clock(cls, timezone: str = "UTC") -> BusinessCalendar:
        return cls(timezone, working_days=ALL_DAYS, opens_minute=0, closes_minute=MINUTES_PER_DAY)

    # --- single-window views (kept for callers of the one-window calendar) ---------------------------

    @property
    def opens_minute(self) -> int:
        return min((w[0][0] for w in self.week.values()), default=0)

    @property
    def closes_minute(self) -> int:
        return max((w[-1][1] for w in self.week.values()), default=0)

    # --- one day ----------------------------------------------------------------------------------

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (self._holiday_rules is not None and day in self._holiday_rules)

    def windows_of(self, day: date) -> tuple[Window, ...]:
        """The local windows of shifts starting on ``day``: its exception, else its weekday's unless a holiday."""
        if day in self.exceptions:
            return self.exceptions[day]
        if self.is_holiday(day):
            return ()
        return self.week.get(day.weekday(), ())

    def windows_us(self, day: date) -> tuple[tuple[int, int], ...]:
        """The shifts starting on local date ``day`` as UTC microsecond intervals (empty ones dropped)."""
        if day in self._windows:
            return self._windows[day]
        found = []
        for opens, closes in self.windows_of(day):
            start, end = self._local_us(day, opens), self._local_us(day, closes)
            if start < end:
                found.append((start, end))
        self._windows[day] = windows = tuple(found)
        return windows

    def window_us(self, day: date) -> tuple[int, int] | None:
        """From the first opening to the last closing of ``day``'s shifts, or None on a day off."""
        windows = self.windows_us(day)
        return (windows[0][0], max(w[1] for w in windows)) if windows else None

    def _local_us(self, day: date, minute: int) -> int:
        day, minute = day + timedelta(days=minute // MINUTES_PER_DAY), minute % MINUTES_PER_DAY
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.timezone)
        return to_micros(local)

    def _local_date(self, instant_us: int) -> date:
        return from_micros(instant_us).astimezone(self.timezone).date()

    def _intervals(self, from_us: int) -> Iterator[tuple[int, int]]:
        """Working intervals in time order, disjoint, clipped to start at ``from_us`` at the earliest."""
        cursor = from_us
        day = self._local_date(from_us) - timedelta(days=1)  # yesterday's shift may run past midnight
        for _ in range(SEARCH_LIMIT_DAYS):
            for start, end in self.windows_us(day):
                start = max(start, cursor)
                if start < end:
                    yield start, end
                    cursor = end
            day += timedelta(days=1)
        raise NoWorkingTime(f"no working time in {SEARCH_LIMIT_DAYS} days after {from_micros(from_us)}")

    # --- arithmetic -------------------------------------------------------------------------------

    def add_working_us(self, start_us: int, duration_us: int) -> int:
        """The instant when ``duration_us`` of working time will have elapsed after ``start_us``.

        Raises ValueError for a negative duration, NoWorkingTime when there is none in ten years.
        """
        if duration_us < 0:
            raise ValueError("a working duration cannot be negative")
        if self.always_open or duration_us == 0:
            return start_us + duration_us
        remaining = duration_us
        for begin, end in self._intervals(start_us):
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable: _intervals raises when it runs out")  # pragma: no cover

    def working_between_us(self, start_us: int, end_us: int) -> int:
        """Working time in ``[start_us, end_us)``; 0 when ``end_us <= start_us``."""
        if end_us <= start_us:
            return 0
        if self.always_open:
            return end_us - start_us
        total, day, last = 0, self._local_date(start_us) - timedelta(days=1), self._local_date(end_us)
        cursor = start_us
        while day <= last:
            for begin, end in self.windows_us(day):
                begin, end = max(begin, cursor), min(end, end_us)
                if begin < end:
                    total += end - begin
                    cursor = end
            day += timedelta(days=1)
        return total

    def is_working_us(self, instant_us: int) -> bool:
        day = self._local_date(instant_us)
        return any(
            start <= instant_us < end for d in (day - timedelta(days=1), day) for start, end in self.windows_us(d)
        )

    def next_working_us(self, instant_us: int) -> int:
        """``instant_us`` if it is working time, else the next opening (raises NoWorkingTime if none)."""
        if self.always_open:
            return instant_us
        return next(self._intervals(instant_us))[0]

    # --- datetime wrappers ------------------------------------------------------------------------

    def add_working(self, start: datetime, duration: timedelta) -> datetime:
        return from_micros(self.add_working_us(to_micros(start), _micros(duration)))

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        return timedelta(microseconds=self.working_between_us(to_micros(start), to_micros(end)))

    def is_working(self, instant: datetime) -> bool:
        return self.is_working_us(to_micros(instant))

    def next_working(self, instant: datetime) -> datetime:
        return from_micros(self.next_working_us(to_micros(instant)))


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
