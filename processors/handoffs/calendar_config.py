"""Team calendars as written in the handoff policy: time zone, working days, windows, breaks, exceptions.

``TeamCalendar.build()`` turns one into the ``BusinessCalendar`` the deadlines are counted in.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bus.config import TimeZoneName
from processors.handoffs.calendar import BusinessCalendar, Window, check_windows

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _weekday(value: Any) -> int:
    if isinstance(value, str) and value[:3].lower() in WEEKDAYS:
        return WEEKDAYS.index(value[:3].lower())
    return value


def _minute_of_day(value: Any) -> Any:
    if isinstance(value, str):
        if not _CLOCK_TIME.match(value):
            raise ValueError(f"{value!r} is not a time of day HH:MM (00:00 to 24:00)")
        hours, minutes = value.split(":")
        return int(hours) * 60 + int(minutes)
    return value


Weekday = Annotated[int, BeforeValidator(_weekday), Field(ge=0, le=6)]
MinuteOfDay = Annotated[int, BeforeValidator(_minute_of_day), Field(ge=0, le=24 * 60)]


def _window(value: Any) -> Any:
    """'09:00-13:00' (or ['09:00', '13:00']) as (opens, closes) minutes; a closing time not after the opening
    (e.g. '22:00-06:00') is on the next day."""
    if isinstance(value, str):
        if value.count("-") != 1:
            raise ValueError(f"{value!r} is not a working window 'HH:MM-HH:MM'")
        value = value.split("-")
    if isinstance(value, list | tuple) and len(value) == 2:
        opens, closes = (_minute_of_day(v.strip() if isinstance(v, str) else v) for v in value)
        if isinstance(opens, int) and isinstance(closes, int) and closes <= opens:
            closes += 24 * 60  # crosses midnight
        return opens, closes
    return value


def _windows_after_breaks(windows: tuple[Window, ...], breaks: tuple[Window, ...]) -> tuple[Window, ...]:
    result = list(windows)
    for b_open, b_close in breaks:
        result = [piece for opens, closes in result
                  for piece in ((opens, min(closes, b_open)), (max(opens, b_close), closes)) if piece[0] < piece[1]]
    return tuple(result)


WorkingWindow = Annotated[tuple[int, int], BeforeValidator(_window)]


class TeamCalendar(Frozen):
    """Working hours of a team in its time zone, holidays off.

    Simplest form: ``opens``/``closes`` on every ``working_days``. Several windows a day: ``windows``
    (e.g. ``["09:00-13:00", "14:00-18:00"]``) or ``breaks`` cut out of ``opens``-``closes`` (or out of
    ``windows``). ``weekdays`` replaces the windows of named weekdays (``{sat: ["09:00-12:00"]}``; ``[]``
    closes it) and ``exceptions`` those of single dates (``{2026-12-24: ["09:00-12:00"], 2026-12-31: []}``;
    an exception also opens a public holiday). A window whose closing time is not after its opening
    (``"22:00-06:00"``) ends the next morning. Breaks apply to every day, exceptions included.
    """

    timezone: TimeZoneName = "UTC"
    working_days: tuple[Weekday, ...] = (0, 1, 2, 3, 4, 5, 6)
    opens: MinuteOfDay = Field(0, description="Local time the working day starts, 'HH:MM'.")
    closes: MinuteOfDay = Field(24 * 60, description="Local time it ends, 'HH:MM' ('24:00' = midnight).")
    windows: tuple[WorkingWindow, ...] | None = Field(
        None, description="Working windows of each working day, 'HH:MM-HH:MM'; replaces opens/closes."
    )
    breaks: tuple[WorkingWindow, ...] = Field((), description="Breaks cut out of every day's windows.")
    weekdays: dict[Weekday, tuple[WorkingWindow, ...]] = Field(
        default_factory=dict, description="Windows of particular weekdays (overrides working_days and windows)."
    )
    exceptions: dict[date, tuple[WorkingWindow, ...]] = Field(
        default_factory=dict, description="Windows of particular dates (ISO dates; [] = closed)."
    )
    holidays: tuple[date, ...] = Field((), description="Explicit days off (ISO dates).")
    holiday_country: str | None = Field(None, description="ISO country code of public holidays (`holidays` package).")
    holiday_subdivision: str | None = None

    @model_validator(mode="after")
    def _opens_before_closes(self) -> TeamCalendar:
        if self.windows is None and self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        if not self.working_days and not any(self.weekdays.values()):
            raise ValueError("a calendar needs at least one working day")
        try:
            for windows in (self.windows or (), self.breaks, *self.weekdays.values(), *self.exceptions.values()):
                check_windows(windows)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        if not any(self.week().values()):
            raise ValueError("the calendar has no working time on any weekday (breaks cover every window)")
        return self

    def _cut(self, windows: tuple[Window, ...]) -> tuple[Window, ...]:
        return _windows_after_breaks(windows, self.breaks)

    def week(self) -> dict[int, tuple[Window, ...]]:
        """Weekday (0 = Monday) -> its working windows after breaks."""
        every_day = self.windows if self.windows is not None else ((self.opens, self.closes),)
        week = {day: self._cut(tuple(every_day)) for day in self.working_days}
        week.update({day: self._cut(windows) for day, windows in self.weekdays.items()})
        return week

    def build(self) -> BusinessCalendar:
        rules = None
        if self.holiday_country:
            import holidays  # imported only when public holidays are asked for

            rules = holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision)
        return BusinessCalendar(
            self.timezone, week=self.week(), exceptions={d: self._cut(w) for d, w in self.exceptions.items()},
            holidays=self.holidays, holiday_rules=rules,
        )
