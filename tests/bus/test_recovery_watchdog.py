"""A table restore that reads nothing from a changelog partition with records left stops the worker (#13)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from faust.types import TP

from bus.recovery_watchdog import RestoreStallDetector, RestoreWatch

NODES, PROFILES = TP("p.identity-identity-nodes-changelog", 3), TP("p.identity-identity-profiles-changelog", 1)


def test_a_partition_whose_remainder_does_not_move_for_the_stall_window_is_stalled() -> None:
    detector = RestoreStallDetector(stall_after_s=60.0)
    assert detector.check({NODES: 338, PROFILES: 40}, 0.0) == []
    assert detector.check({NODES: 338, PROFILES: 12}, 30.0) == []
    assert detector.check({NODES: 338, PROFILES: 12}, 59.0) == []
    assert detector.check({NODES: 338, PROFILES: 12}, 60.0) == [NODES]  # PROFILES moved at 30 s


def test_progress_or_nothing_left_restarts_the_clock() -> None:
    detector = RestoreStallDetector(stall_after_s=60.0)
    detector.check({NODES: 338}, 0.0)
    detector.check({NODES: 300}, 50.0)  # slow, but it reads
    assert detector.check({NODES: 300}, 100.0) == []
    assert detector.check({NODES: 300}, 110.0) == [NODES]
    assert detector.check({NODES: 0}, 111.0) == []  # restored
    assert detector.check({NODES: 5}, 112.0) == []  # a new restore starts its own clock
    assert detector.check({}, 200.0) == [] and detector.check({NODES: 5}, 201.0) == []  # a partition gone is forgotten


@dataclass
class Recovery:
    """The parts of faust's ``Recovery`` the watchdog reads."""

    in_recovery: bool = True
    left: dict[TP, int] = field(default_factory=dict)

    def active_remaining(self) -> Counter[TP]:
        return Counter(self.left)


@dataclass
class App:
    recovery: Recovery

    @property
    def tables(self) -> Any:
        return self

    @property
    def in_recovery(self) -> bool:  # faust's Recovery sets the app's flag with its own
        return self.recovery.in_recovery


def watch(recovery: Recovery, now: list[float], reasons: list[str]) -> RestoreWatch:
    return RestoreWatch(App(recovery), "identity", RestoreStallDetector(60.0), reasons.append, interval_s=5.0,
                        clock=lambda: now[0])


async def test_a_stalled_restore_stops_the_worker_once_and_a_progressing_one_never() -> None:
    now, reasons = [0.0], []  # type: ignore[var-annotated]
    recovery = Recovery(left={NODES: 338, PROFILES: 40})
    watchdog = watch(recovery, now, reasons)
    for second in range(0, 125, 5):
        now[0] = float(second)
        recovery.left[PROFILES] = 40 - second // 5  # reads on
        await watchdog.tick()
    assert reasons == ["the table restore read nothing from p.identity-identity-nodes-changelog[3] for 60 s"]


async def test_outside_a_restore_or_after_a_freeze_nothing_is_stalled() -> None:
    now, reasons = [0.0], []  # type: ignore[var-annotated]
    recovery = Recovery(in_recovery=False, left={NODES: 338})
    watchdog = watch(recovery, now, reasons)
    for second in range(0, 125, 5):
        now[0] = float(second)
        await watchdog.tick()
    recovery.in_recovery = True
    now[0] = 130.0
    await watchdog.tick()
    now[0] = 400.0  # the process was stopped (SIGSTOP) for longer than the stall window: its clocks start afresh
    await watchdog.tick()
    for second in (405.0, 464.0):
        now[0] = second
        await watchdog.tick()
    assert reasons == []
    now[0] = 466.0  # 61 s after the first look since the freeze
    await watchdog.tick()
    assert len(reasons) == 1
