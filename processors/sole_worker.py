"""A processor that runs as one worker processes nothing while it holds only part of its inputs' partitions.

Which processors: ``processors.scaling`` (``Workers.ONE``: offers, whose tables are looked up by any key). faust
gives every member of a consumer group part of the partitions of every input and of the tables' changelogs; it has
no passive standby (its "standby replicas" are copies of tables on the other *active* workers). So a second worker
(a rolling update's surge, a ``replicas: 2``, a second ``omnibus offers run``) leaves each worker with half the
state: a customer query answers 404 on one, an offer is never shown, an answer is handled where the offer's
catalogue entry or the customer is not, and is lost without a line at warning. That is what this guard stops.

While the worker holds only part of the partitions of its inputs (``split``; the partition counts are those of the
cluster's metadata, else the declared ones):

* its agent processes no batch (``SoleWorkerGuard.admits``): the records are held back (``bus.consume.hold_back``:
  never committed) and its input partitions paused (faust's ``Consumer.pause_partitions``), so nothing is written
  to a table, published or committed past;
* ``/ready`` answers 503 with the reason (a ``processors.readiness`` check), and so do the views that read the tables;
* it logs an error naming how many of how many partitions it holds and what to do, at once and then once a minute;
* ``omnibus_one_worker_split{component}`` is 1 (``..._partitions_held`` and ``..._partitions`` give the counts), read
  by the alert ``OmnibusOneWorkerSplit`` (``deploy/monitoring/alerts.py``);
* the lag watchdog leaves its paused partitions alone (``bus.lag_watchdog.hold_while``), which it would otherwise seek
  back and, a minute later, stop the worker for.

Every worker of the group does the same, so neither processes anything. When the other one leaves, the group
rebalances (faust's eager protocol revokes every partition first, which also clears the pause), the worker left holds
all of them again, and faust seeks every stream partition to its committed offset before it resumes it
(``bus.seek_before_resume``): every record held back meanwhile is read again and processed. Nothing is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import faust
from prometheus_client import Gauge

from bus import lag_watchdog
from bus.consume import hold_back
from bus.log_window import LogWindow
from bus.logging import get_logger
from processors.readiness import ASSIGNMENT_CHANGING, REBALANCING

log = get_logger(__name__)

LOG_WINDOW_S = 60.0  # the error line again at most once a minute while the split lasts
INTERVAL_S = 5.0  # how often the worker judges its assignment when no record comes (its partitions paused)
SPLIT_LINE = "this worker holds only part of its inputs' partitions: processing nothing until it holds them all"
WHOLE_LINE = "this worker holds every partition of its inputs again: processing from the committed offsets"

SPLIT = Gauge(
    "omnibus_one_worker_split",
    "1 while a worker of a processor that runs as one worker (processors/scaling.py) holds only part of its inputs' "
    "partitions and so processes nothing (processors/sole_worker.py): another worker runs in its group; else 0.",
    ["component"],
)
HELD = Gauge(
    "omnibus_one_worker_partitions_held",
    "Partitions of its inputs a worker of a one-worker processor holds (all of them: it processes).", ["component"],
)
TOTAL = Gauge(
    "omnibus_one_worker_partitions",
    "Partitions of the inputs of a one-worker processor: what its worker must hold to process.", ["component"],
)


@dataclass(frozen=True, slots=True)
class Split:
    """A worker holds ``held`` of the ``total`` partitions of its inputs (``held < total``)."""

    held: int
    total: int


def split(assigned: Iterable[tuple[str, int]], partitions: Mapping[str, int]) -> Split | None:
    """None when ``assigned`` (``(topic, partition)`` pairs, any other topics ignored) holds every partition of
    ``partitions`` (``{input topic: partition count}``); else how many of them it holds."""
    held = {(topic, p) for topic, p in assigned if 0 <= p < partitions.get(topic, 0)}
    total = sum(partitions.values())
    return None if len(held) == total else Split(len(held), total)


def split_reason(component: str, found: Split, group: str) -> str:
    """What ``/ready`` and the views answer, and the error line says, while ``found``."""
    return (f"this worker holds {found.held} of the {found.total} partitions of its inputs: another {component} worker "
            f"runs in consumer group {group}, and {component} runs as one worker (processors/scaling.py). It processes "
            f"nothing until it holds them all: stop the other worker (replicas: 1, one `omnibus {component} run`); the "
            "one left then goes on from the committed offsets, nothing lost")


class SoleWorkerGuard:
    """The guard of faust ``app``, the worker of one-worker processor ``component`` reading ``inputs``
    (``{topic name: declared partition count}``). ``clock``: seconds, monotonic (the log window)."""

    def __init__(self, app: faust.App, component: str, inputs: Mapping[str, int], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._app = app
        self._component = component
        self._inputs = dict(inputs)
        self._window = LogWindow(LOG_WINDOW_S, clock=clock)
        self._split: Split | None = None  # as last judged outside a rebalance

    def partitions(self) -> dict[str, int]:
        """``{input topic: partition count}``: the count in the consumer group's metadata, else the declared one."""
        counts = {}
        for topic, declared in self._inputs.items():
            try:
                known = self._app.consumer.topic_partitions(topic)
            except Exception:  # noqa: BLE001 - no consumer yet, or its client not started: the declared count
                known = None
            counts[topic] = known or declared
        return counts

    def current(self) -> Split | None:
        """The worker's assignment judged now. Raises one of ``ASSIGNMENT_CHANGING`` while it changes."""
        return split(((tp.topic, tp.partition) for tp in self._app.consumer.assignment()), self.partitions())

    def reason(self) -> str | None:
        """Why the worker may not process or serve now (a ``processors.readiness`` check), None when it holds every
        partition. Judged steady (outside a rebalance), it updates the gauges and logs (``judged``)."""
        try:
            found = self.current()
        except ASSIGNMENT_CHANGING:
            return REBALANCING
        if not self._app.rebalancing:
            self.judged(found)
        return None if found is None else split_reason(self._component, found, self._app.conf.id)

    def admits(self, events: Sequence[Any]) -> bool:
        """True when the agent may process ``events`` (a batch) now: the worker holds every partition. Otherwise the
        events are held back (never committed), the input partitions paused, and False."""
        try:
            whole = self.reason() is None
        except Exception:  # noqa: BLE001 - a worker that cannot tell must not process: the records come back
            whole = False
        if whole:
            return True
        hold_back(events)
        if self._split is not None:
            self.pause()
        return False

    def judged(self, found: Split | None) -> None:
        """Record ``found`` (the assignment outside a rebalance): gauges, the error line (once per window), the
        pause, and a line when the worker holds every partition again."""
        total = sum(self.partitions().values())
        SPLIT.labels(self._component).set(0 if found is None else 1)
        HELD.labels(self._component).set(total if found is None else found.held)
        TOTAL.labels(self._component).set(total)
        if found is not None:
            self.pause()
            if (count := self._window.due()) is not None:
                log.error(SPLIT_LINE, component=self._component, held=found.held, total=found.total,
                          group=self._app.conf.id, times=count,
                          reason=split_reason(self._component, found, self._app.conf.id))
        elif self._split is not None:
            log.warning(WHOLE_LINE, component=self._component, total=total)
        self._split = found

    def holding(self) -> str | None:
        """Why the worker consumes nothing on purpose (its last judgement; ``bus.lag_watchdog.hold_while``)."""
        return None if self._split is None else split_reason(self._component, self._split, self._app.conf.id)

    def pause(self) -> None:
        """Take the input partitions out of faust's fetch set (the next rebalance's seek resumes them)."""
        consumer = self._app.consumer
        consumer.pause_partitions([tp for tp in consumer.assignment() if tp.topic in self._inputs])


def install(app: faust.App, component: str, inputs: Mapping[str, int], *,
            interval_s: float = INTERVAL_S) -> SoleWorkerGuard:
    """The guard of ``app`` (``SoleWorkerGuard``), judged every ``interval_s`` too (a paused worker gets no batch);
    give its ``reason`` to ``processors.readiness.install`` as a check, and call ``admits`` for every batch."""
    guard = SoleWorkerGuard(app, component, inputs)
    lag_watchdog.hold_while(app, guard.holding)

    @app.timer(interval_s, name=f"{component}.sole-worker")
    async def judge() -> None:
        guard.reason()

    return guard
