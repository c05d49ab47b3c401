"""A table restore that reads nothing from a changelog partition with records left is read again, then stops the
worker if it stalls again (#13; CI: a test's only worker stopped, its lookups answered 503)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from faust.types import TP

from bus.recovery_watchdog import RestoreStallDetector, RestoreWatch, restart_restore

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


def watch(recovery: Recovery, now: list[float], reasons: list[str],
          restarts: list[set[TP]] | None = None) -> RestoreWatch:
    restarted = restarts if restarts is not None else []

    async def restart(partitions: Any) -> None:
        restarted.append(set(partitions))

    return RestoreWatch(App(recovery), "identity", RestoreStallDetector(60.0), reasons.append, restart,
                        interval_s=5.0, clock=lambda: now[0])


async def test_a_stalled_restore_is_read_again_and_stops_the_worker_only_if_it_stalls_again() -> None:
    now, reasons, restarts = [0.0], [], []  # type: ignore[var-annotated]
    recovery = Recovery(left={NODES: 338, PROFILES: 40})
    watchdog = watch(recovery, now, reasons, restarts)
    for second in range(0, 125, 5):
        now[0] = float(second)
        recovery.left[PROFILES] = 40 - second // 5  # reads on
        await watchdog.tick()
        if second == 60:
            assert restarts == [{NODES}] and reasons == []  # the worker goes on; the partition is read again
    assert restarts == [{NODES}]
    assert reasons == ["the table restore read nothing from p.identity-identity-nodes-changelog[3] for 60 s"]


async def test_a_restore_that_reads_on_after_its_restart_never_stops_the_worker() -> None:
    """The CI stall (``test_web.py``): 18 records left on nodes-changelog[3] and nothing read for 60 s; the watchdog
    stopped the test's only worker. Read again, the restore finishes and the worker stays."""
    now, reasons, restarts = [0.0], [], []  # type: ignore[var-annotated]
    recovery = Recovery(left={NODES: 18})
    watchdog = watch(recovery, now, reasons, restarts)
    for second in range(0, 300, 5):
        now[0] = float(second)
        if restarts:
            recovery.left[NODES] = max(0, recovery.left[NODES] - 6)
        recovery.in_recovery = recovery.left[NODES] > 0
        await watchdog.tick()
    assert restarts == [{NODES}] and reasons == [] and not recovery.in_recovery


async def test_a_new_restore_may_be_restarted_again() -> None:
    now, reasons, restarts = [0.0], [], []  # type: ignore[var-annotated]
    recovery = Recovery(left={NODES: 18})
    watchdog = watch(recovery, now, reasons, restarts)
    for second in (0, 60):
        now[0] = float(second)
        await watchdog.tick()
    recovery.in_recovery = False  # restored after the restart
    now[0] = 65.0
    await watchdog.tick()
    recovery.in_recovery = True  # the next rebalance's restore stalls too: its first stall is read again
    for second in (70, 130):
        now[0] = float(second)
        await watchdog.tick()
    assert restarts == [{NODES}, {NODES}] and reasons == []


async def test_the_restart_is_faust_s_own_restore_seek_to_the_offset_applied_then_a_resume() -> None:
    seeks: list[dict[TP, int]] = []

    class Consumer:
        def __init__(self) -> None:
            self.resumed: set[TP] = set()

        async def seek_wait(self, offsets: dict[TP, int]) -> None:
            seeks.append(dict(offsets))

        def resume_partitions(self, tps: set[TP]) -> None:
            self.resumed |= tps

    from faust.tables.recovery import Recovery as FaustRecovery

    recovery = SimpleNamespace(active_offsets=Counter({NODES: 24, PROFILES: -1}),
                               _seek_offsets=FaustRecovery._seek_offsets.__get__(SimpleNamespace()))
    consumer = Consumer()
    await restart_restore(SimpleNamespace(tables=SimpleNamespace(recovery=recovery), consumer=consumer),
                          [NODES, PROFILES])
    assert seeks == [{NODES: 24, PROFILES: 0}] and consumer.resumed == {NODES, PROFILES}


async def test_outside_a_restore_or_after_a_freeze_nothing_is_stalled() -> None:
    now, reasons, restarts = [0.0], [], []  # type: ignore[var-annotated]
    recovery = Recovery(in_recovery=False, left={NODES: 338})
    watchdog = watch(recovery, now, reasons, restarts)
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
    assert reasons == restarts == []
    now[0] = 466.0  # 61 s after the first look since the freeze
    await watchdog.tick()
    assert len(restarts) == 1
