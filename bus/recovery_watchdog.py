"""A watchdog for a table restore that stopped receiving changelog records (#13: a worker stuck in recovery).

After a rebalance faust restores the worker's active table partitions from their changelogs before it
processes anything (``faust.tables.recovery.Recovery``: it reads each partition up to the highwater it noted
at the assignment, then logs "Restore complete!" and "Worker ready"). Seen once in a `kill -9` fault run on a
loaded machine (load 18): one identity worker's restore of ``identity-nodes-changelog`` partition 3 (offsets
425 to 763, all on the broker) received no record at all for four minutes; faust only warned ("No event
received for active tp ... since recovery start") every 30 s while the partitions it held stayed unprocessed,
and the run did not settle. Nothing in the process unblocks such a restore, and ``bus.lag_watchdog`` stays out
of rebalances and recoveries on purpose.

What it does, every ``interval_s``: while faust restores active partitions (``App.in_recovery``, set by its
``Recovery``), it notes per partition the records still to read (``Recovery.active_remaining``: highwater
minus the offset read).
A partition whose remainder has not moved for ``stall_after_s`` while records remain stalls the restore:
the watchdog counts ``omnibus_table_restore_stalls_total`` and stops the worker (``stop``; by default
``bus.lag_watchdog.exit_when_stuck``: SIGTERM, then exit status 75 in a worker process) to be started again.
Leaving the group hands its partitions to the other workers at once; a fresh process restores with a new
consumer. A restore that progresses, however slowly, is never stopped; a process that was frozen (SIGSTOP)
for a stall window starts its clocks afresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter

from bus import lag_watchdog
from bus.logging import get_logger
from bus.stall_clock import StallClock, TickGap

STALL_AFTER_S = 60.0  # faust's own warning comes after 30 s without a record; a restore reads thousands a second
INTERVAL_S = 5.0

RESTORE_STALLS = Counter(
    "omnibus_table_restore_stalls_total",
    "Table restores that read nothing from a changelog partition with records left for stall_after_s; the worker "
    "stopped to be started again (bus.recovery_watchdog).",
    ["component"],
)

log = get_logger(__name__)


@dataclass
class RestoreStallDetector(StallClock[int]):
    """Which partitions have had the same number of records left to restore for ``stall_after_s``.

    ``check`` takes the records left per partition (partitions with none left are done) and the time in
    seconds of a monotonic clock; it returns the stalled partitions.
    """

    stall_after_s: float = STALL_AFTER_S

    def check(self, remaining: Mapping[Any, int], now_s: float) -> list[Any]:
        return self.stalled({tp: (left, left > 0) for tp, left in remaining.items()}, now_s)


@dataclass
class RestoreWatch:
    """One app's watchdog: ``tick()`` is its timer body (``install`` registers it)."""

    app: Any
    component: str
    detector: RestoreStallDetector
    stop: Callable[[str], None]
    interval_s: float = INTERVAL_S
    clock: Callable[[], float] = time.monotonic
    _stopped: bool = False
    _ticks: TickGap = field(init=False)

    def __post_init__(self) -> None:
        self._ticks = TickGap(max(self.detector.stall_after_s, 3 * self.interval_s))

    async def tick(self) -> None:
        now = self.clock()
        restoring = getattr(self.app, "in_recovery", False)  # set by faust's Recovery
        if self._ticks.frozen(now) or not restoring or self._stopped:
            self.detector.reset()
            return
        remaining = {tp: int(left) for tp, left in self.app.tables.recovery.active_remaining().items()}
        stalled = self.detector.check(remaining, now)
        if not stalled:
            return
        partitions = ", ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in stalled))
        reason = f"the table restore read nothing from {partitions} for {self.detector.stall_after_s:.0f} s"
        log.error("table restore stalled; stopping the worker to be started again", component=self.component,
                  partitions=partitions, remaining=sum(remaining[tp] for tp in stalled))
        RESTORE_STALLS.labels(component=self.component).inc()
        self._stopped = True
        self.stop(reason)


def install(app: Any, component: str, *, stall_after_s: float = STALL_AFTER_S, interval_s: float = INTERVAL_S,
            stop: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic) -> RestoreWatch:
    """Run the watchdog as a timer of faust ``app``; returns it (tests call ``tick``). ``stop(reason)``: the last
    step (None: ``bus.lag_watchdog.exit_when_stuck``)."""
    watch = RestoreWatch(app, component, RestoreStallDetector(stall_after_s), stop or lag_watchdog.exit_when_stuck,
                         interval_s=interval_s, clock=clock)

    async def restore_watchdog() -> None:
        await watch.tick()

    app.timer(interval_s, name=f"{component}.restore-watchdog")(restore_watchdog)
    return watch
