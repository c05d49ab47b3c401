from datetime import UTC, datetime, timedelta

import pytest

from bus.clock import ManualClock, SystemClock, from_micros, to_micros


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
