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
A partition whose remainder has not moved for ``stall_after_s`` while records remain stalls the restore. The
first time in a restore, the watchdog restarts the partition's reading within the worker (``restart``; by default
``restart_restore``: faust's own seek to the offset the restore has applied, and the partition resumed), counts
``omnibus_table_restore_restarts_total`` and logs the partition's offsets (highwater, applied, the consumer's read
offset, paused or not) for the next investigation. The CI stall of ``tests/processors/identity/test_web.py`` was
records fetched while the partition was paused and dropped by faust (``bus.changelog_rewind`` now seeks them back):
a seek reads them again, where stopping the worker left a test's only worker, and its lookups, dead. A partition
that stalls again after its restart stops the worker (``stop``; by default ``bus.stall_exit.exit_when_stuck``:
SIGTERM, then exit status 75 in a worker process) to be started again, and counts
``omnibus_table_restore_stalls_total``: leaving the group hands its partitions to the other workers at once; a
fresh process restores with a new consumer. A restore that progresses, however slowly, is never restarted nor
stopped; a process that was frozen (SIGSTOP) for a stall window starts its clocks afresh.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter

from bus import stall_exit
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

RESTORE_RESTARTS = Counter(
    "omnibus_table_restore_restarts_total",
    "Changelog partitions whose table restore read nothing for stall_after_s and were sought back to read again "
    "within the worker (bus.recovery_watchdog).",
    ["component"],
)

log = get_logger(__name__)

Restart = Callable[[Collection[Any]], Awaitable[None]]


async def restart_restore(app: Any, partitions: Collection[Any]) -> None:
    """Read ``partitions`` (active changelog partitions being restored) again from the offset the restore has
    applied: faust's own seek of a restore (``Recovery._seek_offsets``, which also resets the consumer's read
    offset; the restore skips the records it has by offset), then the partitions resumed."""
    recovery, consumer = app.tables.recovery, app.consumer
    tps = set(partitions)
    await recovery._seek_offsets(consumer, tps, recovery.active_offsets, "active")  # noqa: SLF001
    consumer.resume_partitions(tps)


def restore_offsets(app: Any, tp: Any) -> dict[str, Any]:
    """What a stalled partition's restore looks like, for the log: the highwater and the offset applied (faust's
    ``Recovery``), the consumer's read offset and whether faust has the partition paused or active."""
    recovery, consumer = app.tables.recovery, app.consumer
    active = getattr(consumer, "_active_partitions", None) or ()
    return {"highwater": recovery.active_highwaters.get(tp), "applied": recovery.active_offsets.get(tp),
            "read_offset": getattr(consumer, "_read_offset", {}).get(tp),
            "paused": tp in getattr(consumer, "_paused_partitions", ()), "fetching": tp in active}


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
    restart: Restart
    interval_s: float = INTERVAL_S
    clock: Callable[[], float] = time.monotonic
    _stopped: bool = False
    _restarted: set[Any] = field(default_factory=set)  # partitions restarted in the current restore
    _ticks: TickGap = field(init=False)

    def __post_init__(self) -> None:
        self._ticks = TickGap(max(self.detector.stall_after_s, 3 * self.interval_s))

    async def tick(self) -> None:
        now = self.clock()
        restoring = getattr(self.app, "in_recovery", False)  # set by faust's Recovery
        if not restoring:
            self._restarted.clear()
        if self._ticks.frozen(now) or not restoring or self._stopped:
            self.detector.reset()
            return
        remaining = {tp: int(left) for tp, left in self.app.tables.recovery.active_remaining().items()}
        stalled = self.detector.check(remaining, now)
        if not stalled:
            return
        if not self._restarted.intersection(stalled):
            await self._restart(stalled, remaining, now)
            return
        partitions = ", ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in stalled))
        reason = f"the table restore read nothing from {partitions} for {self.detector.stall_after_s:.0f} s"
        log.error(f"table restore stalled; {stall_exit.stop_outcome(self.stop)}", component=self.component,
                  partitions=partitions, remaining=sum(remaining[tp] for tp in stalled))
        RESTORE_STALLS.labels(component=self.component).inc()
        self._stopped = True
        self.stop(reason)

    async def _restart(self, stalled: list[Any], remaining: Mapping[Any, int], now: float) -> None:
        for tp in sorted(stalled, key=lambda tp: (tp.topic, tp.partition)):
            offsets = {}
            try:
                offsets = restore_offsets(self.app, tp)
            except AttributeError:  # an app without faust's recovery or consumer: the log line goes without
                pass
            log.warning("table restore stalled; reading the partition again", component=self.component,
                        partition=f"{tp.topic}[{tp.partition}]", remaining=remaining[tp], **offsets)
        self._restarted.update(stalled)
        RESTORE_RESTARTS.labels(component=self.component).inc(len(stalled))
        try:
            await self.restart(stalled)
        except Exception as exc:  # a rebalance moved them meanwhile: the next restore seeks them itself
            log.warning("table restore not restarted", component=self.component, error_type=type(exc).__name__)
        for tp in stalled:
            self.detector.restart(tp, remaining[tp], now)


def install(app: Any, component: str, *, stall_after_s: float = STALL_AFTER_S, interval_s: float = INTERVAL_S,
            stop: Callable[[str], None] | None = None, restart: Restart | None = None,
            clock: Callable[[], float] = time.monotonic) -> RestoreWatch:
    """Run the watchdog as a timer of faust ``app``; returns it (tests call ``tick``). ``restart(partitions)``: the
    first step for stalled partitions (None: ``restart_restore``); ``stop(reason)``: the last step (None:
    ``bus.stall_exit.exit_when_stuck``)."""

    async def restart_app(partitions: Collection[Any]) -> None:
        await restart_restore(app, partitions)

    watch = RestoreWatch(app, component, RestoreStallDetector(stall_after_s), stop or stall_exit.exit_when_stuck,
                         restart or restart_app, interval_s=interval_s, clock=clock)

    async def restore_watchdog() -> None:
        await watch.tick()

    app.timer(interval_s, name=f"{component}.restore-watchdog")(restore_watchdog)
    return watch
