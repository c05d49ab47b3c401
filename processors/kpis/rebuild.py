"""Rebuilding the KPI state from the topics, and comparing it with what the running processor published.

``rebuild`` feeds the input records (per partition, in offset order) through a fresh ``KpiLedger`` and
``Rollup`` held in dicts, then closes the windows once at ``now_us`` (the running processor's last tick):
the result depends only on the events and the clock, not on how records and ticks interleaved.
``published`` keeps the highest revision of every aggregate on ``kpi.aggregates.v1``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bus.topics import moved_from
from processors.kpis.config import KpisSettings
from processors.kpis.ledger import KpiLedger, Source
from processors.kpis.rollup import Rollup, counts_of
from processors.replay import Replayed


@dataclass
class Rebuilt:
    windows: dict[str, dict[str, int]]
    applied: int = 0
    too_late: int = 0


def rebuild(
    records: Iterable[Replayed], sources: dict[str, Source], settings: KpisSettings, now_us: int
) -> Rebuilt:
    store: dict[str, Any] = {}
    ledger = KpiLedger(settings, store)
    rollup = Rollup({}, settings.source_system, lambda: datetime.now(UTC))
    partitions: set[int] = set()
    applied = 0

    def roll(change: Any) -> None:
        for key, partial in change.partials():
            rolled = rollup.receive(key, partial)
            if rolled is not None:
                rollup.save(key, rolled)
        ledger.commit(change)
        for survivor, move in change.moves:  # in the worker these go through kpi.merges.v1, after the commit
            roll(ledger.move(survivor, move, change.partition))

    for record in records:
        if record.event is None or record.topic not in sources:
            continue
        partitions.add(record.partition)
        key = record.key.decode() if record.key else None
        roll(ledger.apply(record.event, sources[record.topic], record.partition, key, moved_from(record.headers)))
        applied += 1
    for partition in sorted(partitions):
        roll(ledger.tick(partition, now_us))
    return Rebuilt(rollup.current(), applied, ledger.too_late)


def published(records: Iterable[Replayed]) -> dict[str, dict[str, int]]:
    """Window key -> counts of the highest revision published of each window."""
    best: dict[str, tuple[int, dict[str, int]]] = {}
    for record in records:
        if record.event is None or record.key is None:
            continue
        key, revision = record.key.decode(), record.event.value["revision"]
        if key not in best or revision >= best[key][0]:
            best[key] = (revision, counts_of(record.event.value))
    return {key: counts for key, (_, counts) in best.items()}
