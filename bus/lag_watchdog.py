"""A watchdog for partitions that consume nothing while records wait (#13: stalls the commit watchdog cannot see).

``bus.commit_watchdog`` needs processed records: it finds a committed offset that does not move while
acknowledged offsets pile up behind it. A consumer that takes nothing from a partition at all is invisible
to it, and to ``omnibus_consumer_lag`` too, whose high watermark comes from the consumer's own fetch
responses and goes stale when nothing is fetched. Seen in the pause test (#13, fence's run 12: after a
seek-back the resumed worker consumed nothing for 4 minutes with a lag of 292) and in the records dropped
during a suspended flow (``bus.seek_uncommitted``). faust has such states of its own: a partition taken out
of its fetch set when a stream buffer was full (``Consumer.on_buffer_full``) comes back only when the buffer
reports a drop; if the buffer is cleared instead (the flow control clears it on every rebalance), the drop may
never be reported and the partition stays out of the fetch set (faust-streaming, ``mode.utils.queues``).

What it does, every ``interval_s``, outside rebalances and table recovery: it asks the broker for the log end
offset of every assigned input partition and compares it with the consumer's position and committed offset
(``PartitionProgress``, read by ``bus.faust_partitions``). It exports ``omnibus_consumer_end_lag`` (log end offset -
committed offset, records) and, when records wait (end above committed) while neither the position nor the committed
offset moved for ``stall_after_s``, ``omnibus_consumer_lag_stalled`` = 1.

Partitions faust pauses on purpose (``Consumer.pause_partitions``: back pressure, e.g. identity's bulk intake
while a batch waits) are not recovered; one stalled for ``stall_after_s`` is only reported (a warning with the
consumer's state, ``bus.consumer_state``). It recovers the others in two steps:

1. ``revive`` (``bus.faust_partitions``): the partition is put back into faust's fetch set and
   sought to its committed offset (its log start when never committed), so the records are fetched and
   processed again (at-least-once; processors dedupe on event ids). ``..._recoveries_total{action="seek"}``.
2. if it is still stalled ``stall_after_s`` after that, the worker stops (``stop``; by default ``bus.stall_exit``:
   SIGTERM in a worker process, then exit status ``WORKER_STALLED_EXIT``) so the orchestrator starts it afresh: a new
   consumer, a rebalance, a restore from the committed offsets. ``{action="exit"}``. Not while the worker moves and
   nothing holds the partition: while the committed offset of another of its input partitions moved within the last
   ``stall_after_s`` and the partition is not paused inside aiokafka (where no seek and nothing of faust reaches), it
   waits behind the worker's own backlog and is sought again instead (``{action="seek"}``), for up to
   ``BEHIND_MAX_WINDOWS`` times ``stall_after_s`` (then the exit, as before: a stall the seek does not cure while the
   worker moves must not hide for ever) (after a broker restart under a 30,000-line import, the handoff
   tracker stopped with every ``handoff.ticks.v1`` partition "stalled" while it worked through
   ``business.events.v1``, whose stream buffers were full, and the offer processor with 2 records of one partition
   waiting while its other partitions moved by thousands: faust's one fetch loop waits on a full stream buffer, so
   records of a partition in the fetch set wait behind those of another; a restart, a rebalance and a table restore
   only delayed them further).

A worker that stops consuming on purpose, all of its inputs at once, says why with ``hold_while`` (a processor that
runs as one worker and holds only part of its partitions: ``processors.sole_worker``): while that reason holds the
watchdog judges nothing (no warning, no seek, no exit): its partitions wait for the worker's own decision.

A partition found stalled stays *known stalled* (``LagStallDetector.standing``, ``stalled_on(app)``) until its
committed offset moves or nothing waits on it any more (a seek moves the position, not the commit, so it does not
count as progress): the worker's ``/ready`` answers 503 meanwhile and names it (``processors.readiness``; ``/ready``
said 200 for two minutes while four of identity's partitions stood still with 123-138 records
waiting and half the new users' screen pops answered 404).

Why ``stall_after_s`` is a minute and not less, although a stall costs an interactive screen pop that long: the
same clock, run twice, stops the worker (``WORKER_STALLED_EXIT``; a rebalance and a table restore for every
partition of the group), and a partition also stands still while its records wait on something slow but working
(a produce held through a partition leader election, a slow downstream), which a seek does not help. Its clock
starts only once the broker answers again (no offsets, no judgement: ``reset``), so after a broker outage a stall
is found at the earliest ``stall_after_s`` (plus up to ``interval_s``) after the first offsets read then.

A watchdog that judges nothing says so: every tick skipped for ``stall_after_s`` (a rebalance or a restore that
does not end, a stopped flow, offsets it could not read, a read faust's consumer thread did not answer within
``READ_TIMEOUT_S``) logs a warning with the reason, the consumer's state and what every task waits on
(``bus.consumer_state``), then once per ``stall_after_s`` while it lasts. A CI run of the 60 s broker-outage fault
test (2026-12-01) had identity consume nothing for 4 minutes after the outage without a line from any watchdog.
Not while it waits for the schema registry: that outage is announced by its own warning, exported in
``omnibus_schema_registry_unreachable`` and named by ``/ready`` (``bus.registry_outage``); the watchdog says once per
spell, at info, one bounded line: that it judges nothing, since when, and the input partitions it leaves unjudged
(a registry outage logged a ~6 KB warning with every task's stack 60 s in, which read as a second fault).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter, Gauge

from bus import registry_outage, stall_exit
from bus.consumer_state import consumer_state, partition_names, task_chains
from bus.faust_partitions import (
    PartitionProgress,
    client_paused,
    faust_progress,
    input_partitions,
    revive,
    routed_by,
)
from bus.log_window import LogWindow
from bus.logging import get_logger
from bus.stall_clock import BlindSpell, StallClock, TickGap

STALL_AFTER_S = 60.0  # records waiting and nothing moving for a minute: faust fetches and commits every few seconds
INTERVAL_S = 10.0
READ_TIMEOUT_S = 30.0  # a tick's offsets read; faust's consumer thread answers in milliseconds when it works
BEHIND_MAX_WINDOWS = 10  # a partition waiting behind its moving worker is sought again for up to 10 stall windows
WAITING_FOR_REGISTRY = "waiting for the schema registry"  # a blind spell's reason announced by bus.registry_outage

END_LAG = Gauge(
    "omnibus_consumer_end_lag",
    "Records between the committed offset and the log end offset the broker reports for an assigned input "
    "partition (asked by bus.lag_watchdog; unlike omnibus_consumer_lag it does not depend on the consumer fetching).",
    ["component", "topic", "partition"],
)
LAG_STALLED = Gauge(
    "omnibus_consumer_lag_stalled",
    "1 while records wait on a partition (log end offset above the committed offset) and neither its position "
    "nor its committed offset moved for stall_after_s (bus.lag_watchdog); 0 otherwise.",
    ["component", "topic", "partition"],
)
LAG_RECOVERIES = Counter(
    "omnibus_consumer_lag_stall_recoveries_total",
    "Stalled partitions the lag watchdog recovered: action=seek (back into the fetch set, sought to the committed "
    "offset) or action=exit (the worker stopped to be started again).",
    ["component", "topic", "partition", "action"],
)

log = get_logger(__name__)
_detectors: weakref.WeakKeyDictionary[Any, LagStallDetector] = weakref.WeakKeyDictionary()  # app -> its watchdog's
# app -> why its worker consumes nothing on purpose now (None: it consumes), ``hold_while``
_holds: weakref.WeakKeyDictionary[Any, Callable[[], str | None]] = weakref.WeakKeyDictionary()


@dataclass
class LagStallDetector(StallClock[tuple[int | None, int | None]]):
    """``check`` returns the partitions whose lag is above 0 while neither their position nor their committed
    offset moved for ``stall_after_s`` seconds; ``recovered`` starts a partition's clock again and remembers the
    recovery, ``escalate`` says whether a partition stalled again after one."""

    stall_after_s: float = STALL_AFTER_S
    _recovered: set[Any] = field(default_factory=set)
    # partition found stalled -> (its committed offset then, its lag at the last check)
    _standing: dict[Any, tuple[int | None, int]] = field(default_factory=dict)

    def check(self, progress: Mapping[Any, PartitionProgress], now_s: float) -> list[Any]:
        for tp, seen in progress.items():
            last = self.last_marker(tp)
            if seen.lag == 0 or (last is not None and last[0] != (seen.position, seen.committed)):
                self._recovered.discard(tp)  # it moved (or has nothing waiting): a recovery worked
        self._recovered.intersection_update(progress)
        stalled = self.stalled({tp: ((seen.position, seen.committed), seen.lag > 0) for tp, seen in progress.items()},
                               now_s)
        self._standing = {tp: (committed, latest.lag) for tp, (committed, _) in self._standing.items()
                          if (latest := progress.get(tp)) is not None and latest.lag > 0
                          and latest.committed == committed}
        for tp in stalled:
            self._standing[tp] = (progress[tp].committed, progress[tp].lag)
        return stalled

    def standing(self) -> dict[Any, int]:
        """``{partition: lag in records}``: the partitions found stalled whose committed offset has not moved since,
        with records still waiting (a seek alone does not clear one; empty after ``reset``)."""
        return {tp: lag for tp, (_, lag) in self._standing.items()}

    def escalate(self, tp: Any) -> bool:
        """True when ``tp`` was recovered once and has not moved since."""
        return tp in self._recovered

    def recovered(self, tp: Any, progress: PartitionProgress, now_s: float) -> None:
        self.restart(tp, (progress.position, progress.committed), now_s)
        self._recovered.add(tp)

    def reset(self) -> None:
        """Forget every clock (a rebalance: positions and ownership change)."""
        super().reset()
        self._recovered.clear()
        self._standing.clear()


def stalled_on(app: Any) -> dict[str, int]:
    """``{"topic[partition]": lag in records}``: the partitions of faust ``app`` its lag watchdog knows stalled
    (``LagStallDetector.standing``); empty when none, or when no watchdog runs in ``app``."""
    detector = _detectors.get(app)
    if detector is None:
        return {}
    return {f"{tp.topic}[{tp.partition}]": lag for tp, lag in sorted(detector.standing().items())}


def hold_while(app: Any, reason: Callable[[], str | None]) -> None:
    """While ``reason()`` names one, faust ``app``'s worker consumes nothing on purpose (its partitions paused and
    its records held back): its watchdog judges no partition then (none is stalled, none is sought back)."""
    _holds[app] = reason


def held_on_purpose(app: Any) -> str | None:
    """Why faust ``app``'s worker consumes nothing on purpose now (``hold_while``), None when it consumes."""
    reason = _holds.get(app)
    return reason() if reason is not None else None


def waits_for_registry(app: Any, component: str, blind_s: float) -> None:
    """The one line of a blind spell spent waiting for the schema registry (``install``): info, bounded by the
    assignment (``partitions``: ``{topic: [partition, ...]}`` of the input partitions left unjudged), ``since`` the
    UTC instant the spell began (ISO 8601, to the second), ``blind_s`` its length in seconds; no consumer state and no
    task stacks (the outage is the registry's, said by ``bus.registry_outage``)."""
    try:
        partitions = partition_names(input_partitions(app.consumer))
    except Exception:  # noqa: BLE001 - an assignment changing under the read: the line goes out without it
        partitions = {}
    since = datetime.now(UTC) - timedelta(seconds=blind_s)
    log.info("lag watchdog judges no partition while the schema registry does not answer: the records wait for it, "
             "nothing is stalled (omnibus_schema_registry_unreachable, /ready)", component=component,
             why=WAITING_FOR_REGISTRY, since=since.isoformat(timespec="seconds"), blind_s=round(blind_s),
             partitions=partitions)


def install(app: Any, component: str, *, stall_after_s: float = STALL_AFTER_S, interval_s: float = INTERVAL_S,
            stop: Callable[[str], None] | None = None,
            clock: Callable[[], float] = time.monotonic) -> LagStallDetector:
    """Run the watchdog as a timer of faust ``app``; returns its detector (for tests). ``stop(reason)``: the last
    step (None: ``bus.stall_exit.exit_when_stuck``)."""
    detector = _detectors[app] = LagStallDetector(stall_after_s)
    exported: set[Any] = set()

    ticks = TickGap(max(stall_after_s, 3 * interval_s), clock())
    blind, held_detector, held_said = BlindSpell(stall_after_s), LagStallDetector(stall_after_s), LogWindow(
        stall_after_s, clock=clock)

    committed_before: dict[Any, int | None] = {}  # each input partition's committed offset at the last check
    moved_at: dict[Any, float] = {}  # each input partition's last check that saw its committed offset move
    behind_since: dict[Any, float] = {}  # a stalled partition sought again while its worker moved: since when

    said_for: list[float | None] = [None]  # the blind spell (its start) whose registry wait was said

    def cannot_judge(why: str, now: float) -> None:
        """A tick that judged nothing; after ``stall_after_s`` of them, what the consumer is doing is logged (a wait
        for the schema registry: ``waits_for_registry``, once per spell)."""
        detector.reset()
        held_detector.reset()
        if (blind_s := blind.blind(now)) is None:
            return
        if why == WAITING_FOR_REGISTRY:
            if said_for[0] != blind.since_s:
                said_for[0] = blind.since_s
                waits_for_registry(app, component, blind_s)
            return
        log.warning("lag watchdog has judged no partition for a while; the consumer's state follows",
                    component=component, why=why, blind_s=round(blind_s), **consumer_state(app), tasks=task_chains(app))

    async def watch() -> None:
        consumer, now = app.consumer, clock()
        if ticks.frozen(now):
            detector.reset()
            blind.judged()
            return
        why = ("rebalancing" if app.rebalancing else "restoring tables" if getattr(app, "in_recovery", False)
               else WAITING_FOR_REGISTRY if registry_outage.OUTAGE.ongoing()
               else None if consumer.flow_active else "flow stopped")
        if why is not None:
            cannot_judge(why, now)
            return
        if held_on_purpose(app) is not None:  # the worker's own decision, said by it (hold_while): nothing stalls
            detector.reset()
            held_detector.reset()
            blind.judged()
            return
        # A partition faust pauses on purpose (back pressure: bulk intake holds its inputs while a batch waits) is
        # waiting on its own processing, not stalled; the commit watchdog covers processing that never completes.
        # Its progress is read all the same: one that stalls is reported (``held_detector``), never recovered.
        held = consumer._paused_partitions  # noqa: SLF001
        try:
            inputs = [tp for tp in input_partitions(consumer) if app.topics.acks_enabled_for(tp.topic)]
            # faust hands these reads to its consumer thread; one that never answers must not silence the watchdog
            read = await asyncio.wait_for(faust_progress(consumer, inputs), READ_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - no end offsets (the broker is away): nothing can be judged
            log.warning("lag watchdog could not read offsets; checking again later", error=type(exc).__name__)
            cannot_judge(f"offsets not read ({type(exc).__name__})", now)
            return
        blind.judged()
        for tp, seen in read.items():
            if committed_before.get(tp, seen.committed) != seen.committed:
                moved_at[tp] = now
        committed_before.clear()
        committed_before.update({tp: seen.committed for tp, seen in read.items()})
        moved = {tp for tp in read if now - moved_at.get(tp, -stall_after_s) < stall_after_s}
        progress = {tp: seen for tp, seen in read.items() if tp not in held}
        for tp in held_detector.check({tp: seen for tp, seen in read.items() if tp in held}, clock()):
            if held_said.due(tp) is not None:
                log.warning("paused partition consumed nothing with records waiting; left to faust, which paused it",
                            component=component, topic=tp.topic, partition=tp.partition, lag=read[tp].lag,
                            **consumer_state(app), tasks=task_chains(app))
        now = clock()
        stalled = set(detector.check(progress, now))
        for tp in exported - set(progress):
            for gauge in (END_LAG, LAG_STALLED):
                gauge.remove(component, tp.topic, str(tp.partition))
        exported.clear()
        for tp, seen in progress.items():
            labels = (component, tp.topic, str(tp.partition))
            END_LAG.labels(*labels).set(seen.lag)
            LAG_STALLED.labels(*labels).set(1 if tp in stalled else 0)
            exported.add(tp)
        for tp in stalled:
            seen, labels = progress[tp], (component, tp.topic, str(tp.partition))
            behind = (detector.escalate(tp) and bool(moved - {tp}) and tp not in client_paused(consumer)
                      and now - behind_since.setdefault(tp, now) < BEHIND_MAX_WINDOWS * stall_after_s)
            if not detector.escalate(tp) or not behind:
                behind_since.pop(tp, None)
            if detector.escalate(tp) and not behind:
                reason = f"{tp.topic}[{tp.partition}] consumed nothing with {seen.lag} records waiting after a seek"
                log.error(f"partition still stalled after a seek; {stall_exit.stop_outcome(stop)}",
                          component=component, topic=tp.topic, partition=tp.partition, lag=seen.lag,
                          **consumer_state(app))
                LAG_RECOVERIES.labels(*labels, "exit").inc()
                detector.recovered(tp, seen, now)
                (stop or stall_exit.exit_when_stuck)(reason)
                continue
            offset = await revive(consumer, tp, seen.committed, routed=routed_by(app, tp))
            log.warning("partition consumed nothing with records waiting, while the worker's other partitions move: "
                        "behind its backlog; sought back again, not stopped" if behind else
                        "partition consumed nothing with records waiting; sought back and fetching again",
                        component=component, topic=tp.topic, partition=tp.partition, lag=seen.lag,
                        position=seen.position, committed=seen.committed, sought=offset,
                        moving=len(moved - {tp}), **consumer_state(app))
            LAG_RECOVERIES.labels(*labels, "seek").inc()
            detector.recovered(tp, seen, now)

    app.timer(interval_s, name=f"{component}.lag-watchdog")(watch)
    return detector
