from datetime import UTC, datetime, timedelta, timezone

import pytest

from bus.clock import ManualClock, SystemClock, from_micros, read_instant, to_micros


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(datetime(2026, 11, 2, tzinfo=UTC))
    assert clock.advance(timedelta(hours=25)) == datetime(2026, 11, 3, 1, tzinfo=UTC) == clock.now()
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 11, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 11, 2))


def test_micros_round_trip_and_refuse_naive_datetimes() -> None:
    instant = datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=UTC)
    assert from_micros(to_micros(instant)) == instant
    with pytest.raises(ValueError):
        to_micros(datetime(2026, 11, 2))
    assert SystemClock().now().tzinfo is not None


def test_read_instant_takes_a_date_or_a_time_without_zone_as_utc_and_refuses_other_text() -> None:
    """The one rule of every option and query parameter that takes a time (a plain date reached ``to_micros`` naive:
    a 500 from ``GET /kpis``)."""
    assert read_instant("2026-12-05") == datetime(2026, 12, 5, tzinfo=UTC)
    assert read_instant(" 2026-12-05T10:00 ") == datetime(2026, 12, 5, 10, tzinfo=UTC)
    assert read_instant("2026-12-05T10:00+02:00") == datetime(2026, 12, 5, 10, tzinfo=timezone(timedelta(hours=2)))
    for text in ("yesterday", "", "2026-13-01"):
        with pytest.raises(ValueError):
            read_instant(text)
