from datetime import UTC, datetime

import pytest

from processors.offers.quiet_hours import QuietHours

NIGHT = QuietHours(start="21:00", end="08:00")


@pytest.mark.parametrize(("instant", "zone", "quiet"), [
    (datetime(2026, 6, 1, 12, 0, tzinfo=UTC), "Asia/Shanghai", False),  # 20:00 local
    (datetime(2026, 6, 1, 13, 30, tzinfo=UTC), "Asia/Shanghai", True),  # 21:30 local
    (datetime(2026, 6, 1, 13, 30, tzinfo=UTC), "Europe/Paris", False),  # 15:30 local
    (datetime(2026, 6, 1, 5, 59, tzinfo=UTC), "Europe/Paris", True),  # 07:59 CEST
    (datetime(2026, 6, 1, 6, 0, tzinfo=UTC), "Europe/Paris", False),  # 08:00 CEST: end is outside
    (datetime(2026, 6, 1, 3, 0, tzinfo=UTC), "America/New_York", True),  # 23:00 EDT
])
def test_same_instant_differs_by_zone(instant: datetime, zone: str, quiet: bool) -> None:
    assert NIGHT.contains(instant, zone) is quiet


def test_daytime_span_without_midnight() -> None:
    lunch = QuietHours(start="12:00", end="14:00")
    assert lunch.contains(datetime(2026, 6, 1, 10, 30, tzinfo=UTC), "Europe/Paris")  # 12:30 CEST
    assert not lunch.contains(datetime(2026, 6, 1, 12, 30, tzinfo=UTC), "Europe/Paris")  # 14:30


def test_winter_and_summer_offsets_move_the_span_in_utc() -> None:
    # 07:30 local is quiet in both seasons, but that is 06:30 UTC in winter and 05:30 UTC in summer.
    assert NIGHT.contains(datetime(2026, 1, 15, 6, 30, tzinfo=UTC), "Europe/Paris")
    assert not NIGHT.contains(datetime(2026, 7, 15, 6, 30, tzinfo=UTC), "Europe/Paris")
    assert NIGHT.next_allowed(datetime(2026, 1, 15, 2, 0, tzinfo=UTC), "Europe/Paris") == datetime(2026, 1, 15, 7, 0, tzinfo=UTC)
    assert NIGHT.next_allowed(datetime(2026, 7, 15, 2, 0, tzinfo=UTC), "Europe/Paris") == datetime(2026, 7, 15, 6, 0, tzinfo=UTC)


def test_spring_forward_night_is_an_hour_shorter() -> None:
    # 2026-03-29 in Paris: 02:00 CET jumps to 03:00 CEST (01:00 UTC). 21:00 CET = 20:00 UTC, 08:00 CEST = 06:00 UTC.
    start = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
    assert NIGHT.contains(start, "Europe/Paris")
    assert NIGHT.next_allowed(start, "Europe/Paris") == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 10 h, not 11


def test_fall_back_night_is_an_hour_longer() -> None:
    # 2026-10-25 in Paris: 03:00 CEST goes back to 02:00 CET. 21:00 CEST = 19:00 UTC, 08:00 CET = 07:00 UTC.
    start = datetime(2026, 10, 24, 19, 0, tzinfo=UTC)
    assert NIGHT.next_allowed(start, "Europe/Paris") == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # 12 h


def test_span_ending_inside_the_spring_gap_ends_at_the_jump() -> None:
    early = QuietHours(start="22:00", end="02:30")  # 02:30 does not exist on 2026-03-29 in Paris
    assert early.next_allowed(datetime(2026, 3, 28, 23, 0, tzinfo=UTC), "Europe/Paris") == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_span_ending_at_a_repeated_time_ends_at_its_first_occurrence() -> None:
    early = QuietHours(start="22:00", end="02:30")  # 02:30 happens twice on 2026-10-25 in Paris
    assert early.next_allowed(datetime(2026, 10, 24, 22, 0, tzinfo=UTC), "Europe/Paris") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_outside_the_span_is_now() -> None:
    noon = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert NIGHT.next_allowed(noon, "Europe/Paris") == noon


@pytest.mark.parametrize(("start", "end"), [("24:00", "08:00"), ("8:00", "09:00"), ("09:00", "09:00")])
def test_bad_spans_are_refused(start: str, end: str) -> None:
    with pytest.raises(ValueError):
        QuietHours(start=start, end=end)
