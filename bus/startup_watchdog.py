"""A watchdog for a worker that never becomes ready: a start-up that makes no progress ends the process.

The other watchdogs (``bus.commit_watchdog``, ``bus.lag_watchdog``, ``bus.recovery_watchdog``) are faust timers,
and faust starts an app's timers only once its first table recovery has completed (``App.on_started``: "Worker
ready"). A worker stuck before that point — a rebalance that never ends, a recovery that never starts, a first
restore that reads nothing, a start-up Kafka call that hangs — used to stay up and silent forever: ``/ready`` 503,
``/live`` 200, so neither Kubernetes nor an operator restarted it.

What it does, every ``interval_s`` from the app's first start until the worker is ready once (faust's first
recovery completed: ``Recovery.completed``): it notes the start-up's progress marker (``startup_progress``: the
phase, and per changelog partition the records left to restore). A marker unchanged for ``stall_after_s``
(``OMNIBUS_STARTUP__STALL_AFTER_S``) is a stalled start-up: the worker logs why (the phase, the records left),
``/live`` answers 503 from then on (``gave_up``), and the worker stops the way the other watchdogs stop it
(``bus.stall_exit.exit_when_stuck``: SIGTERM, then exit status ``WORKER_STALLED_EXIT`` with one line naming the
cause, ``bus.worker_exit``), to be started again by its supervisor. A restore that reads records, however slowly,
changes the marker and is never stopped (a large table may take minutes); a process that was itself frozen
(SIGSTOP) for a stall window starts its clock afresh (``TickGap``). Once ready, the worker is never judged here
again: later rebalances and restores are the other watchdogs' business.

Before it gives up, a start-up unchanged for a minute (``bus.lag_watchdog.STALL_AFTER_S``) is logged once a minute
with the consumer's state and what every task waits on (``bus.consumer_state``): the other watchdogs are faust
timers that run only once the worker is ready, so a worker that meets a broker outage in its first restore was
silent until this one gave up (a CI run of the 60 s broker-outage fault test, 2026-12-01: 4 minutes without a line).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bus import lag_watchdog, stall_exit
from bus.consumer_state import consumer_state, task_chains
from bus.log_window import LogWindow
from bus.logging import get_logger
from bus.stall_clock import StallClock, TickGap

INTERVAL_S = 5.0
STARTUP = "startup"  # the one "partition" the stall clock watches: the start-up as a whole

log = get_logger(__name__)

# Phases of a start-up, in order; ``READY`` ends the watch.
STARTING, REBALANCING, RESTORING, READY = "starting", "rebalancing", "restoring", "ready"
PHASE_DESCRIPTIONS = {
    STARTING: "it was not given its partitions (its consumer did not start, join its group or begin a recovery)",
    REBALANCING: "a rebalance of its consumer group did not end",
    RESTORING: "its table restore read no changelog record",
}


@dataclass(frozen=True, slots=True)
class StartupProgress:
    """Where a start-up is: ``phase`` (``STARTING``, ``REBALANCING``, ``RESTORING``, ``READY``) and, while
    restoring, the records left per changelog partition (``(topic, partition, records)`` tuples, sorted)."""

    phase: str
    remaining: tuple[tuple[str, int, int], ...] = ()

    @property
    def records_left(self) -> int:
        return sum(left for _, _, left in self.remaining)


def startup_progress(app: Any) -> StartupProgress:
    """``app``'s (a faust App) start-up progress, read from faust's recovery and consumer state."""
    recovery = app.tables.recovery
    if recovery.completed.is_set():
        return StartupProgress(READY)
    if getattr(app, "in_recovery", False):
        left = recovery.active_remaining()
        return StartupProgress(RESTORING, tuple(sorted((tp.topic, tp.partition, int(n)) for tp, n in left.items())))
    return StartupProgress(REBALANCING if app.rebalancing else STARTING)


@dataclass
class StartupStallDetector:
    """``check(progress, now_s)``: None while the start-up moves (or is done), else why it stalled: the same
    ``StartupProgress`` for ``stall_after_s`` seconds of a monotonic clock. A gap of more than the stall window
    between two checks (the process was frozen) starts the clock again."""

    stall_after_s: float
    interval_s: float = INTERVAL_S
    _clock: StallClock[StartupProgress] = field(init=False)
    _ticks: TickGap = field(init=False)

    def __post_init__(self) -> None:
        self._clock = StallClock(self.stall_after_s)
        self._ticks = TickGap(max(self.stall_after_s, 3 * self.interval_s))

    def check(self, progress: StartupProgress, now_s: float) -> str | None:
        if self._ticks.frozen(now_s):
            self._clock.reset()
        waiting = progress.phase != READY
        if not self._clock.observe(STARTUP, progress, waiting, now_s):
            return None
        why = PHASE_DESCRIPTIONS.get(progress.phase, progress.phase)
        left = f" ({progress.records_left} records left to restore)" if progress.phase == RESTORING else ""
        return f"the worker did not become ready: {why} for {self.stall_after_s:g} s{left}"

    def unchanged_s(self, now_s: float) -> float:
        """Seconds the start-up's progress marker has stood still (0 once ready)."""
        return self._clock.unchanged_s(STARTUP, now_s)


@dataclass
class StartupWatch:
    """One app's watch: ``tick()`` once per ``interval_s`` until it returns False (ready, or given up)."""

    app: Any
    component: str
    detector: StartupStallDetector
    stop: Callable[[str], None]
    clock: Callable[[], float] = time.monotonic
    gave_up: str | None = None  # why the worker is being stopped (``/live`` answers 503 with it)
    ready: bool = False
    _said: LogWindow = field(init=False)

    def __post_init__(self) -> None:
        self._said = LogWindow(lag_watchdog.STALL_AFTER_S, clock=self.clock)

    def tick(self) -> bool:
        """One look; False when there is nothing more to watch."""
        if self.ready or self.gave_up is not None:
            return False
        try:
            progress = startup_progress(self.app)
        except RuntimeError:  # faust's dicts changed while read; the next look reads them again
            return True
        if progress.phase == READY:
            self.ready = True
            return False
        now = self.clock()
        reason = self.detector.check(progress, now)
        if reason is None:
            still_s = self.detector.unchanged_s(now)
            if still_s >= lag_watchdog.STALL_AFTER_S and self._said.due() is not None:
                log.warning("start-up has not moved for a while; the consumer's state follows",
                            component=self.component, phase=progress.phase, records_left=progress.records_left,
                            still_s=round(still_s), stall_after_s=self.detector.stall_after_s,
                            **consumer_state(self.app), tasks=task_chains(self.app))
            return True
        self.gave_up = reason
        log.error(f"start-up stalled; {stall_exit.stop_outcome(self.stop)}", component=self.component,
                  phase=progress.phase, records_left=progress.records_left,
                  stall_after_s=self.detector.stall_after_s)
        self.stop(reason)
        return False

    async def run(self) -> None:
        while self.tick():
            await asyncio.sleep(self.detector.interval_s)


_watches: weakref.WeakKeyDictionary[Any, StartupWatch] = weakref.WeakKeyDictionary()


def gave_up(app: Any) -> str | None:
    """Why ``app``'s start-up watch is stopping the worker (None: it is not, or no watch is installed)."""
    try:
        watch = _watches.get(app)
    except TypeError:  # not a faust App (a stand-in without weak references): never watched
        return None
    return None if watch is None else watch.gave_up


def install(app: Any, component: str, *, stall_after_s: float, stop: Callable[[str], None] | None = None,
            clock: Callable[[], float] = time.monotonic) -> StartupWatch:
    """Watch faust ``app``'s start-up from its first start (``App.on_first_start``); returns the watch. ``stop``:
    what ends the worker (None: ``bus.stall_exit.exit_when_stuck``). Checks every ``INTERVAL_S``, more often
    when ``stall_after_s`` is short (a third of it)."""
    interval_s = min(INTERVAL_S, stall_after_s / 3)
    watch = StartupWatch(app, component, StartupStallDetector(stall_after_s, interval_s),
                         stop or stall_exit.exit_when_stuck, clock)
    _watches[app] = watch
    first_start = app.on_first_start

    async def on_first_start() -> None:
        await first_start()
        app.add_future(watch.run())

    app.on_first_start = on_first_start
    return watch
