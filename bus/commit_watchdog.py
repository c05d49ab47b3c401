"""A watchdog for partitions whose committed offset stops moving while records are processed (#13 build 2).

Why it happens: faust commits a partition only up to the first gap in its acknowledged offsets
(``Consumer._new_offset``). faust-streaming 0.15.3, the version we run, still has the race of upstream
issue #596 (open): recovery clears the stream queues after records were fetched, the consumer goes on
from its fetch position, and the cleared records are never delivered again, so the gap never closes and
the partition never commits again (seen: one partition of ``handoff.events`` held at 366 of 1,257 for
15 minutes). Issue #606 (open) is the other face of the same check: a gap of exactly one record at the
head is committed past.

What the watchdog does, every ``interval_s``: for each assigned partition with acknowledged offsets
waiting to be committed, it notes when the committed offset last moved. After ``stall_after_s`` without
a move it reports the partition (gauge ``omnibus_consumer_commit_stalled`` = 1, by component, topic and
partition) and recovers it by seeking back to the committed offset: the records of the gap are fetched
and processed again (at-least-once; the processors dedupe on event ids), the gap closes and commits
resume. It never commits past a record that was not processed (acknowledging the gap would lose it).
Each recovery counts in ``omnibus_consumer_commit_stall_recoveries_total``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter, Gauge

from bus.logging import get_logger
from bus.stall_clock import StallClock

STALL_AFTER_S = 60.0  # faust commits every 2.8 s by default: a minute without a move is never normal
INTERVAL_S = 10.0

COMMIT_STALLED = Gauge(
    "omnibus_consumer_commit_stalled",
    "1 while a partition's committed offset has not moved for stall_after_s although processed records wait to be "
    "committed (bus.commit_watchdog); 0 otherwise.",
    ["component", "topic", "partition"],
)
STALL_RECOVERIES = Counter(
    "omnibus_consumer_commit_stall_recoveries_total",
    "Stalled partitions the watchdog sought back to their committed offset.",
    ["component", "topic", "partition"],
)

log = get_logger(__name__)


@dataclass
class StallDetector(StallClock[int | None]):
    """Which partitions have had processed records waiting on an unmoved commit for ``stall_after_s``.

    ``check`` takes, per partition, the committed offset (None: never committed) and how many processed
    (acknowledged) offsets wait beyond it, and the time in seconds; it returns the stalled partitions.
    """

    stall_after_s: float = STALL_AFTER_S

    def check(self, progress: Mapping[Any, tuple[int | None, int]], now_s: float) -> list[Any]:
        return self.stalled({tp: (committed, waiting > 0) for tp, (committed, waiting) in progress.items()}, now_s)


def faust_progress(consumer: Any) -> dict[Any, tuple[int | None, int]]:
    """Per assigned partition of a faust consumer: (committed offset, acknowledged offsets waiting).

    Reads faust's own bookkeeping (``_committed_offset``, ``_acked``): that is what decides commits.
    """
    committed: Mapping[Any, int | None] = consumer._committed_offset  # noqa: SLF001
    acked: Mapping[Any, list[int]] = consumer._acked  # noqa: SLF001
    return {tp: (committed.get(tp), len(acked.get(tp) or ())) for tp in consumer.assignment()}


def install(app: Any, component: str, *, stall_after_s: float = STALL_AFTER_S, interval_s: float = INTERVAL_S,
            clock: Callable[[], float] = time.monotonic) -> StallDetector:
    """Run the watchdog as a timer of faust ``app``; returns its detector (for tests)."""
    detector = StallDetector(stall_after_s)
    flagged: set[Any] = set()

    async def watch() -> None:
        consumer = app.consumer
        progress = faust_progress(consumer)
        now = clock()
        stalled = detector.check(progress, now)
        for tp in flagged - set(stalled):
            COMMIT_STALLED.labels(component, tp.topic, str(tp.partition)).set(0)
        flagged.clear()
        for tp in stalled:
            committed = progress[tp][0]
            labels = (component, tp.topic, str(tp.partition))
            COMMIT_STALLED.labels(*labels).set(1)
            flagged.add(tp)
            log.warning("committed offset stalled; seeking back to it", component=component, topic=tp.topic,
                        partition=tp.partition, committed=committed, waiting=progress[tp][1])
            if committed is not None:
                await consumer.seek(tp, committed)
                STALL_RECOVERIES.labels(*labels).inc()
            detector.restart(tp, committed, now)

    app.timer(interval_s, name=f"{component}.commit-watchdog")(watch)
    return detector
