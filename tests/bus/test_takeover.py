"""Takeover bookkeeping: restore and catch-up time measured from the assignment, once per rebalance."""

from __future__ import annotations

from bus.takeover import TakeoverClock


def test_restore_and_catch_up_are_measured_from_the_assignment_once_per_rebalance() -> None:
    clock = TakeoverClock()
    assert clock.restored(5.0) is None  # nothing assigned yet
    clock.assigned(10.0, partitions=4)
    assert clock.progress({"p0": 0}, 10.5) is None  # not restored yet: lag 0 means nothing
    assert clock.restored(12.5) == 2.5
    assert clock.restored(13.0) is None  # reported once
    assert clock.progress({"p0": 3, "p1": 0}, 14.0) is None
    assert clock.progress({"p0": 0, "p1": 0}, 17.0) == 7.0
    assert clock.progress({"p0": 0}, 18.0) is None
    clock.assigned(20.0, partitions=2)  # the next rebalance starts over
    assert (clock.restored(20.5), clock.progress({}, 21.0)) == (0.5, 1.0)
