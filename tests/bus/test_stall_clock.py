"""The one stall clock every watchdog of ``bus`` runs on (``bus.stall_clock``)."""

from __future__ import annotations

from bus.stall_clock import BlindSpell, StallClock, TickGap


def test_a_marker_unmoved_while_work_waits_stalls_after_the_window_and_a_move_starts_the_clock_again() -> None:
    clock: StallClock[int] = StallClock(stall_after_s=60)
    assert clock.stalled({"p0": (366, True), "p1": (10, False)}, now_s=0) == []
    assert clock.stalled({"p0": (366, True), "p1": (10, False)}, now_s=59.9) == []
    assert clock.stalled({"p0": (366, True), "p1": (10, False)}, now_s=60) == ["p0"]
    assert clock.stalled({"p0": (370, True)}, now_s=61) == []  # it moved
    assert clock.stalled({"p0": (370, True)}, now_s=121) == ["p0"]


def test_nothing_waiting_restarts_the_clock_and_a_partition_not_observed_is_forgotten() -> None:
    clock: StallClock[int] = StallClock(stall_after_s=5)
    clock.stalled({"p": (3, True)}, now_s=0)
    assert clock.stalled({"p": (3, False)}, now_s=10) == []  # idle, not stalled
    assert clock.stalled({"p": (3, True)}, now_s=14) == []  # the clock started at 10
    assert clock.stalled({"p": (3, True)}, now_s=15) == ["p"]
    assert clock.stalled({}, now_s=16) == [] and clock.last_marker("p") is None  # revoked: forgotten
    assert clock.stalled({"p": (3, True)}, now_s=17) == []


def test_observe_checks_one_partition_and_leaves_the_others_alone() -> None:
    clock: StallClock[int] = StallClock(stall_after_s=5)
    clock.stalled({"p": (3, True), "q": (8, True)}, now_s=0)
    assert clock.observe("p", 3, True, now_s=5)
    assert clock.last_marker("q") == (8,)
    clock.restart("p", 3, now_s=5)
    assert not clock.observe("p", 3, True, now_s=9)
    clock.reset()
    assert clock.last_marker("p") is None and clock.last_marker("q") is None


def test_a_tick_gap_longer_than_the_window_means_the_process_was_frozen() -> None:
    ticks = TickGap(window_s=30, last_s=0)
    assert not ticks.frozen(10) and not ticks.frozen(40)
    assert ticks.frozen(71)  # stopped for 31 s
    assert not ticks.frozen(80)
    assert not TickGap(window_s=30).frozen(1_000)  # the first tick has nothing to compare with


def test_a_blind_spell_is_reported_once_it_lasted_the_window_then_once_a_window_until_judged() -> None:
    blind = BlindSpell(report_after_s=60)
    assert [blind.blind(t) for t in (0, 10, 50)] == [None, None, None]
    assert blind.blind(60) == 60
    assert blind.blind(70) is None and blind.blind(119) is None
    assert blind.blind(120) == 120
    blind.judged()
    assert blind.blind(130) is None and blind.blind(189) is None and blind.blind(190) == 60


def test_unchanged_s_is_how_long_a_waiting_marker_stood_still() -> None:
    clock: StallClock[int] = StallClock(stall_after_s=60)
    assert clock.unchanged_s("p", 5) == 0.0  # not seen
    clock.observe("p", 3, True, now_s=10)
    assert clock.unchanged_s("p", 55) == 45
    clock.observe("p", 4, True, now_s=56)
    assert clock.unchanged_s("p", 60) == 4
