"""The one rule for source clocks: out of range refused, future beyond the tolerance moved back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.base import clock
from adapters.base.errors import RejectedInput
from bus.redact import scrub_text

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("moment", [
    datetime.max.replace(tzinfo=timezone(timedelta(hours=-14))),  # 9999-12-31T23:59:59.999999-14:00
    datetime.min.replace(tzinfo=timezone(timedelta(hours=14))),  # 0001-01-01T00:00:00+14:00
    datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
    datetime(2100, 1, 1, tzinfo=UTC),
])
def test_times_that_cannot_be_real_are_refused(moment: datetime) -> None:
    with pytest.raises(RejectedInput) as refused:
        clock.in_range(moment, "timestamp", "message")
    assert refused.value.code == "out_of_range"
    assert scrub_text(str(refused.value)) == str(refused.value)  # the reason reads the same in the log




def test_a_naive_time_is_utc() -> None:
    assert clock.in_range(datetime(2024, 5, 2, 10), "t", "s") == datetime(2024, 5, 2, 10, tzinfo=UTC)


def test_a_clock_ahead_beyond_the_tolerance_is_moved_back_to_the_receive_time() -> None:
    skew = clock.future_skew(NOW + timedelta(days=3), NOW, tolerance_s=300)
    assert skew.corrected and skew.apply(NOW + timedelta(days=3)) == NOW
    assert skew.apply(NOW + timedelta(days=3, seconds=-10)) == NOW - timedelta(seconds=10)  # durations kept


def test_a_clock_ahead_within_the_tolerance_or_behind_is_trusted() -> None:
    assert not clock.future_skew(NOW + timedelta(seconds=299), NOW, tolerance_s=300).corrected
    assert not clock.future_skew(NOW - timedelta(days=1), NOW, tolerance_s=300).corrected


def test_segment_skew_is_receive_time_minus_sent_at() -> None:
    assert clock.segment_skew(NOW + timedelta(days=3), NOW) == -timedelta(days=3)
    assert clock.segment_skew(None, NOW) == timedelta(0)
