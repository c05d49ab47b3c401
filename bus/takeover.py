"""Takeover time (#13 build 3): from a partition assignment to the tables restored, and to caught up.

A rebalance hands partitions to a worker; before it processes them faust restores their tables from
the changelogs (``Restore complete!``, signal ``on_rebalance_complete``), then the worker works off what
accumulated (the lag). Both durations are measured per rebalance, from the assignment:

* ``restore_s``: assignment -> tables restored (faust's recovery, including its highwater/offset reads);
* ``catch_up_s``: assignment -> every assigned input partition committed up to its highwater (lag 0).

Each is logged once per rebalance (``takeover restored`` / ``takeover caught up``, with the number of
partitions) and exported as the gauges ``omnibus_takeover_restore_seconds`` and
``omnibus_takeover_catch_up_seconds`` (label ``component``; the last rebalance's figure).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import Gauge

from bus.logging import get_logger

INTERVAL_S = 0.5
# Failure detection: a worker that stops heartbeating (kill -9, a lost node) keeps its partitions this long.
# faust's default is 60 s, most of the 83 s takeover seen before (#13 case 3); Kafka's own default was 10 s
# until 3.0. faust heartbeats from its consumer thread, so a busy event loop does not miss them.
SESSION_TIMEOUT_S = 10.0

RESTORE_SECONDS = Gauge("omnibus_takeover_restore_seconds",
                        "Seconds from the last partition assignment to the tables restored (bus.takeover).",
                        ["component"])
CATCH_UP_SECONDS = Gauge("omnibus_takeover_catch_up_seconds",
                         "Seconds from the last partition assignment to lag 0 on every assigned input partition.",
                         ["component"])

log = get_logger(__name__)


@dataclass
class TakeoverClock:
    """Pure bookkeeping of one worker's rebalances (times in seconds of a monotonic clock)."""

    assigned_at: float | None = None
    restored_at: float | None = None
    restore_s: float | None = None
    catch_up_s: float | None = None
    partitions: int = 0

    def assigned(self, now: float, partitions: int) -> None:
        self.assigned_at, self.restored_at, self.restore_s, self.catch_up_s = now, None, None, None
        self.partitions = partitions

    def restored(self, now: float) -> float | None:
        """The restore time of this rebalance, the first time it is known (else None)."""
        if self.assigned_at is None or self.restore_s is not None:
            return None
        self.restored_at = now
        self.restore_s = max(now - self.assigned_at, 0.0)
        return self.restore_s

    def progress(self, lags: Mapping[Any, int], now: float) -> float | None:
        """The catch-up time, the first time every partition of ``lags`` is at lag 0 after the restore."""
        if self.restore_s is None or self.catch_up_s is not None or self.assigned_at is None or any(lags.values()):
            return None
        self.catch_up_s = now - self.assigned_at
        return self.catch_up_s


def input_lags(consumer: Any, is_changelog: Callable[[Any], bool]) -> dict[Any, int]:
    """Per assigned input partition: highwater - committed offset (faust's own view; changelogs left out)."""
    lags = {}
    for tp in consumer.assignment():
        if is_changelog(tp):
            continue
        highwater = consumer.highwater(tp)
        committed = consumer._committed_offset.get(tp)  # noqa: SLF001 - what faust committed
        lags[tp] = max(0, (highwater or 0) - (committed or 0)) if highwater is not None else 0
    return lags


def install(app: Any, component: str, *, interval_s: float = INTERVAL_S,
            clock: Callable[[], float] = time.monotonic) -> TakeoverClock:
    """Measure every takeover of ``app`` (a faust App); returns the clock (tests read it)."""
    takeover = TakeoverClock()
    changelogs = app.tables._changelogs  # noqa: SLF001 - topic name -> table

    @app.on_partitions_assigned.connect
    async def on_assigned(sender: Any, assigned: Any, **_: Any) -> None:
        takeover.assigned(clock(), len([tp for tp in assigned if tp.topic not in changelogs]))

    @app.on_rebalance_complete.connect
    async def on_restored(sender: Any, **_: Any) -> None:
        if (seconds := takeover.restored(clock())) is not None:
            RESTORE_SECONDS.labels(component=component).set(seconds)
            log.info("takeover restored", component=component, restore_s=round(seconds, 3),
                     partitions=takeover.partitions)

    @app.timer(interval_s, name=f"{component}.takeover")
    async def watch() -> None:
        if takeover.restore_s is None or takeover.catch_up_s is not None:
            return
        lags = input_lags(app.consumer, lambda tp: tp.topic in changelogs)
        if (seconds := takeover.progress(lags, clock())) is not None:
            CATCH_UP_SECONDS.labels(component=component).set(seconds)
            log.info("takeover caught up", component=component, catch_up_s=round(seconds, 3),
                     restore_s=round(takeover.restore_s, 3), partitions=takeover.partitions)

    return takeover
