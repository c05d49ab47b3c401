from __future__ import annotations

from bus.commit_watchdog import StallDetector


def test_a_partition_is_stalled_only_when_processed_records_wait_on_an_unmoved_commit() -> None:
    detector = StallDetector(stall_after_s=60)
    assert detector.check({"p0": (366, 40), "p1": (10, 0)}, now_s=0) == []
    assert detector.check({"p0": (366, 80), "p1": (10, 0)}, now_s=59) == []
    assert detector.check({"p0": (366, 120), "p1": (10, 0)}, now_s=60) == ["p0"]  # #13: held at 366 while consuming
    assert detector.check({"p0": (370, 2), "p1": (10, 0)}, now_s=61) == []  # it moved: the clock starts again
    assert detector.check({"p0": (370, 2)}, now_s=120) == []
    assert detector.check({"p0": (370, 2)}, now_s=121) == ["p0"]


def test_an_idle_partition_and_one_that_was_recovered_are_not_stalled() -> None:
    detector = StallDetector(stall_after_s=5)
    assert detector.check({"p": (None, 0)}, now_s=0) == []
    assert detector.check({"p": (None, 0)}, now_s=100) == []  # nothing processed: nothing to commit
    assert detector.check({"p": (3, 5)}, now_s=100) == []
    assert detector.check({"p": (3, 5)}, now_s=105) == ["p"]
    detector.restart("p", 3, 105)
    assert detector.check({"p": (3, 5)}, now_s=106) == []
