from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.handoffs.calendar import BusinessCalendar, NoWorkingTime, rebase_us
from bus.clock import to_micros
from processors.handoffs.config import TeamCalendar

H = timedelta(hours=1)
OFFICE = BusinessCalendar("UTC", working_days=range(5), opens_minute=8 * 60, closes_minute=18 * 60)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_round_the_clock_is_plain_arithmetic() -> None:
    calendar = BusinessCalendar.round_the_clock()
    assert calendar.always_open
    assert calendar.add_working(utc(2026, 11, 6, 23), 20 * H) == utc(2026, 11, 7, 19)
    assert calendar.working_between(utc(2026, 11, 6), utc(2026, 11, 8)) == 48 * H


def test_inside_one_working_day() -> None:
    assert OFFICE.add_working(utc(2026, 11, 2, 9), 3 * H) == utc(2026, 11, 2, 12)
    assert OFFICE.add_working(utc(2026, 11, 6, 16), 2 * H) == utc(2026, 11, 6, 18)  # ends exactly at closing


def test_weekend_is_skipped() -> None:
    friday_5pm = utc(2026, 11, 6, 17)
    assert OFFICE.add_working(friday_5pm, 2 * H) == utc(2026, 11, 9, 9)  # Monday 09:00
    assert OFFICE.working_between(friday_5pm, utc(2026, 11, 9, 9)) == 2 * H
    assert OFFICE.add_working(utc(2026, 11, 7, 12), H) == utc(2026, 11, 9, 9)  # a Saturday start counts from Monday


def test_night_and_early_morning_count_from_opening() -> None:
    assert OFFICE.add_working(utc(2026, 11, 3, 22), H) == utc(2026, 11, 4, 9)
    assert OFFICE.add_working(utc(2026, 11, 3, 6), H) == utc(2026, 11, 3, 9)
    assert OFFICE.working_between(utc(2026, 11, 3, 18), utc(2026, 11, 4, 8)) == timedelta(0)


def test_twenty_working_hours_span_days() -> None:
    # Monday 09:00 + 20 h: Mon 9 h, Tue 10 h, Wed 1 h.
    assert OFFICE.add_working(utc(2026, 11, 2, 9), 20 * H) == utc(2026, 11, 4, 9)


def test_explicit_holidays_are_days_off() -> None:
    calendar = BusinessCalendar("UTC", opens_minute=8 * 60, closes_minute=18 * 60, holidays=[date(2026, 11, 9)])
    assert calendar.add_working(utc(2026, 11, 6, 17), 2 * H) == utc(2026, 11, 10, 9)  # Monday off -> Tuesday
    assert calendar.working_between(utc(2026, 11, 6, 17), utc(2026, 11, 10, 9)) == 2 * H


def test_public_holidays_from_the_holidays_package() -> None:
    calendar = TeamCalendar(working_days=["mon", "tue", "wed", "thu", "fri"], opens="08:00", closes="18:00",
                            holiday_country="FR").build()
    assert calendar.is_holiday(date(2026, 12, 25)) and not calendar.is_holiday(date(2026, 12, 24))
    # Thursday 24 Dec 17:00 + 2 h: Friday 25 is Christmas, so Monday 28.
    assert calendar.add_working(utc(2026, 12, 24, 17), 2 * H) == utc(2026, 12, 28, 9)


def test_hours_are_local_to_the_team_time_zone() -> None:
    paris = BusinessCalendar("Europe/Paris", opens_minute=9 * 60, closes_minute=17 * 60)
    tokyo = BusinessCalendar("Asia/Tokyo", opens_minute=9 * 60, closes_minute=17 * 60)
    start = utc(2026, 11, 2, 7)  # Monday: 08:00 in Paris, 16:00 in Tokyo
    assert paris.add_working(start, H) == datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/Paris"))
    assert tokyo.add_working(start, 2 * H) == datetime(2026, 11, 3, 10, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_daylight_saving_change_is_exact() -> None:
    paris = ZoneInfo("Europe/Paris")
    every_day = BusinessCalendar("Europe/Paris", working_days=range(7), opens_minute=8 * 60, closes_minute=18 * 60)
    # Clocks go forward on Sunday 29 March 2026: 17:00 CET Saturday + 2 h -> 09:00 CEST Sunday (07:00 UTC).
    due = every_day.add_working(datetime(2026, 3, 28, 17, tzinfo=paris), 2 * H)
    assert due == datetime(2026, 3, 29, 9, tzinfo=paris) and due == utc(2026, 3, 29, 7)
    # A whole local day is 23 hours long that day.
    whole_day = BusinessCalendar("Europe/Paris", working_days=[6], opens_minute=0, closes_minute=24 * 60)
    assert whole_day.working_between(utc(2026, 3, 28), utc(2026, 3, 31)) == 23 * H


def test_a_pause_moves_the_deadline_by_the_working_time_it_lasted() -> None:
    deadline = to_micros(utc(2026, 11, 9, 10))  # Monday 10:00: 3 working hours left at Friday 17:00
    paused, resumed = to_micros(utc(2026, 11, 6, 17)), to_micros(utc(2026, 11, 10, 9))
    assert rebase_us(deadline, paused, resumed, OFFICE, OFFICE) == to_micros(utc(2026, 11, 10, 12))
    # Something already due when the clock stopped stays due.
    assert rebase_us(paused - 1, paused, resumed, OFFICE, OFFICE) == paused - 1


def test_moving_to_another_calendar_keeps_the_working_time_left() -> None:
    night_shift = BusinessCalendar("UTC", working_days=range(7), opens_minute=0, closes_minute=6 * 60)
    now = to_micros(utc(2026, 11, 2, 12))
    due = to_micros(utc(2026, 11, 2, 15))  # 3 office hours left
    assert rebase_us(due, now, now, OFFICE, night_shift) == to_micros(utc(2026, 11, 3, 3))


def test_is_working() -> None:
    assert OFFICE.is_working(utc(2026, 11, 2, 8)) and not OFFICE.is_working(utc(2026, 11, 2, 18))
    assert not OFFICE.is_working(utc(2026, 11, 7, 12))


def test_invalid_calendars_are_refused() -> None:
    with pytest.raises(ValueError):
        BusinessCalendar("UTC", opens_minute=18 * 60, closes_minute=8 * 60)
    with pytest.raises(ValueError):
        BusinessCalendar("UTC", working_days=[7])
    with pytest.raises(ValueError):
        OFFICE.add_working(utc(2026, 11, 2), -H)

    class EveryDay:
        def __contains__(self, day: object) -> bool:
            return True

    with pytest.raises(NoWorkingTime):
        BusinessCalendar("UTC", holiday_rules=EveryDay()).add_working(utc(2026, 11, 2), H)


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    minutes=st.integers(min_value=0, max_value=60 * 80),
    zone=st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]),
)
def test_adding_then_measuring_gives_back_the_duration(start: datetime, minutes: int, zone: str) -> None:
    calendar = BusinessCalendar(zone, opens_minute=8 * 60 + 30, closes_minute=17 * 60, holidays=[date(2026, 5, 1)])
    due = calendar.add_working(start, timedelta(minutes=minutes))
    assert due >= start
    assert calendar.working_between(start, due) == timedelta(minutes=minutes)
    if minutes:
        assert calendar.is_working(due - timedelta(microseconds=1))


# --- several windows a day (issue #10 case 5) ---------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")
LUNCH_BREAK = TeamCalendar(timezone="Europe/Paris", working_days=["mon", "tue", "wed", "thu", "fri"],
                           windows=["09:00-13:00", "14:00-18:00"])


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_the_lunch_break_is_not_working_time() -> None:
    calendar = LUNCH_BREAK.build()
    monday_1230 = paris(2026, 11, 2, 12, 30)
    assert calendar.add_working(monday_1230, H) == paris(2026, 11, 2, 14, 30)
    assert calendar.working_between(monday_1230, paris(2026, 11, 2, 14, 30)) == H
    assert not calendar.is_working(paris(2026, 11, 2, 13)) and calendar.is_working(paris(2026, 11, 2, 14))
    assert calendar.next_working(paris(2026, 11, 2, 13, 20)) == paris(2026, 11, 2, 14)
    assert calendar.add_working(paris(2026, 11, 2, 9), 8 * H) == paris(2026, 11, 2, 18)  # one full day


def test_breaks_cut_out_of_opening_hours_give_the_same_calendar() -> None:
    with_breaks = TeamCalendar(timezone="Europe/Paris", working_days=["mon", "tue", "wed", "thu", "fri"],
                               opens="09:00", closes="18:00", breaks=["13:00-14:00"])
    assert with_breaks.week() == LUNCH_BREAK.week() == {d: ((540, 780), (840, 1080)) for d in range(5)}


def test_windows_per_weekday_and_per_date() -> None:
    calendar = TeamCalendar(
        timezone="Europe/Paris", working_days=["mon", "tue", "wed", "thu", "fri"], windows=["09:00-13:00", "14:00-18:00"],
        weekdays={"sat": ["10:00-12:00"], "wed": ["09:00-12:00"]},
        exceptions={date(2026, 12, 24): ["09:00-11:00"], date(2026, 12, 23): [], date(2026, 12, 25): ["10:00-11:00"]},
        holiday_country="FR",
    ).build()
    assert calendar.add_working(paris(2026, 11, 4, 11), 2 * H) == paris(2026, 11, 5, 10)  # Wednesday ends at 12:00
    assert calendar.add_working(paris(2026, 11, 6, 17), 2 * H) == paris(2026, 11, 7, 11)  # Saturday 10:00-12:00
    # Tuesday 22 Dec 17:30 + 1 h: Wednesday 23 closed by exception, Thursday 24 opens 09:00 to 11:00 only.
    assert calendar.add_working(paris(2026, 12, 22, 17, 30), H) == paris(2026, 12, 24, 9, 30)
    # 2 h from Thursday 24 10:00: 1 h that day, then Christmas (a public holiday opened 10-11 by exception).
    assert calendar.add_working(paris(2026, 12, 24, 10), 2 * H) == paris(2026, 12, 25, 11)
    assert calendar.working_between(paris(2026, 12, 21), paris(2026, 12, 28)) == (8 + 8 + 0 + 2 + 1 + 2) * H


def test_a_window_crossing_midnight_belongs_to_the_shift_that_started_it() -> None:
    night = TeamCalendar(working_days=["mon", "tue", "wed", "thu", "fri"], windows=["22:00-06:00"],
                         holidays=[date(2026, 11, 7)]).build()
    assert night.week[4] == ((22 * 60, 30 * 60),)
    assert night.is_working(utc(2026, 11, 3, 3)) and not night.is_working(utc(2026, 11, 3, 12))
    # Friday 22:00 + 8 h = Saturday 06:00, although Saturday is a holiday and not a working day.
    assert night.add_working(utc(2026, 11, 6, 22), 8 * H) == utc(2026, 11, 7, 6)
    # Sunday has no shift: Saturday 05:00 + 2 h = 1 h until 06:00, then Monday 22:00 + 1 h.
    assert night.add_working(utc(2026, 11, 7, 5), 2 * H) == utc(2026, 11, 9, 23)
    assert night.working_between(utc(2026, 11, 2), utc(2026, 11, 9)) == (2 + 4 * 8 + 6) * H


def test_overlapping_windows_count_once() -> None:
    calendar = BusinessCalendar("UTC", week={0: ((8 * 60, 12 * 60), (10 * 60, 14 * 60))})
    assert calendar.working_between(utc(2026, 11, 2), utc(2026, 11, 3)) == 6 * H
    assert calendar.add_working(utc(2026, 11, 2, 8), 5 * H) == utc(2026, 11, 2, 13)


def test_windows_across_daylight_saving_changes() -> None:
    calendar = BusinessCalendar("Europe/Paris", week={d: ((9 * 60, 13 * 60), (14 * 60, 18 * 60)) for d in range(7)})
    # Sunday 29 March 2026 (spring forward at 02:00) and Sunday 25 October (fall back at 03:00): the windows are
    # local, so a working day is 8 hours on either side of the change.
    for day in (date(2026, 3, 29), date(2026, 10, 25)):
        start = datetime.combine(day, datetime.min.time(), tzinfo=PARIS)
        assert calendar.working_between(start, start + 25 * H) == 8 * H
        assert calendar.add_working(start, 5 * H) == paris(day.year, day.month, day.day, 15)
    # A window inside the spring-forward gap (02:00-03:00 does not exist that night) is empty.
    gap = BusinessCalendar("Europe/Paris", week={6: ((2 * 60, 3 * 60),), 0: ((9 * 60, 10 * 60),)})
    assert gap.working_between(paris(2026, 3, 29), paris(2026, 3, 31)) == H
    assert gap.add_working(paris(2026, 3, 29), H) == paris(2026, 3, 30, 10)


@pytest.mark.parametrize("bad", [
    {"windows": ["09:00-13:00", "nine to five"]},
    {"windows": ["09:00"]},
    {"windows": ["25:00-26:00"]},
    {"windows": ["09:00-13:00"], "breaks": ["08:00-14:00"]},  # nothing left
    {"working_days": [], "weekdays": {}},
])
def test_invalid_windows_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        TeamCalendar(**bad)


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    minutes=st.integers(min_value=0, max_value=60 * 80),
    zone=st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe"]),
    windows=st.lists(st.tuples(st.integers(0, 47), st.integers(1, 16)), min_size=1, max_size=4),
    days=st.sets(st.integers(0, 6), min_size=1),
)
def test_adding_then_measuring_gives_back_the_duration_with_any_windows(
    start: datetime, minutes: int, zone: str, windows: list[tuple[int, int]], days: set[int]
) -> None:
    week = {d: tuple((half * 30, half * 30 + length * 30) for half, length in windows) for d in days}
    calendar = BusinessCalendar(zone, week=week, exceptions={date(2026, 5, 1): ()})
    due = calendar.add_working(start, timedelta(minutes=minutes))
    assert due >= start
    assert calendar.working_between(start, due) == timedelta(minutes=minutes)
    if minutes:
        assert calendar.is_working(due - timedelta(microseconds=1))
    assert calendar.is_working(calendar.next_working(start))
