"""Closed handoffs leave the table: a closed case is kept whole ``closed_s``, then as a compact tombstone (id, closed
instant, final version) ``tombstone_s``, then dropped.

The rule (the reasoning is in the handoffs README, *Retention*):

- The clock is event time: per partition, the newest ``envelope.occurred_at`` of the lifecycle records read (the
  tracker's own outputs excluded, as ``omnibus replay`` applies them), never the wall clock. A sweep runs on the
  record path when that clock enters a new ``sweep_s`` interval, before the record is applied, with the cutoffs
  computed from the interval's start: a restart (the clock starts again from the next record) or a replay sweeps
  with the same cutoffs at the same place, so it reaches the same state.
- A record for a tombstoned handoff that occurred at or before its close is a copy of what the whole state already
  applied (a redelivery or a replayed HandoffCreated): a duplicate, no effect. One that occurred after (a reopen, a
  new case reusing the id) is refused (dead letter ``IllegalTransition:pruned``).
- A tombstone is dropped ``tombstone_s`` after the close; the default is the retention of ``handoff.events.v1``
  (``bus.topics.HANDOFF_EVENTS``, 400 days) plus a margin (30 days: Kafka deletes whole segments, records are
  stamped when published): by then Kafka has deleted every record of the case, so no replay reads its creation.
- A HandoffCreated whose ``occurred_at`` is older than the clock minus ``tombstone_s`` finds no tombstone to
  consult: it is refused as late (``IllegalTransition:late_creation``) rather than re-create a case maybe closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from bus.topics import DAY_MS, HANDOFF_EVENTS
from processors.handoffs.state import Status

DAY_S = 86_400
PRUNED = "pruned"  # the key marking a tombstone row
# Kafka deletes a whole segment once its newest record is past the retention, and a record's timestamp is when it
# was published (after ``occurred_at``): the margin covers both.
TOMBSTONE_MARGIN_S = 30 * DAY_S
CLOSED_KEPT_S = 90 * DAY_S  # a closed case stays whole (reopenable, in the reports of the table) three months
TOMBSTONE_KEPT_S = HANDOFF_EVENTS.retention_ms // DAY_MS * DAY_S + TOMBSTONE_MARGIN_S


def is_tombstone(row: Mapping[str, Any] | None) -> TypeGuard[Mapping[str, Any]]:
    """Whether a table row is a pruned handoff's tombstone (not a ``HandoffState``)."""
    return row is not None and row.get(PRUNED) is True


def tombstone(row: Mapping[str, Any], closed_at_us: int) -> dict[str, Any]:
    """The compact row that replaces a closed handoff's state: id, closed instant (µs), final version, partition."""
    return {PRUNED: True, "handoff_id": row["handoff_id"], "closed_at_us": closed_at_us,
            "version": row.get("version", 0), "partition": row.get("partition"), "next_due_us": None}


@dataclass(frozen=True)
class Retention:
    """How long a closed handoff is kept whole and as a tombstone (seconds of event time), how often the sweep runs."""

    closed_s: float = CLOSED_KEPT_S
    tombstone_s: float = TOMBSTONE_KEPT_S
    sweep_s: float = DAY_S

    def __post_init__(self) -> None:
        if self.tombstone_s < HANDOFF_EVENTS.retention_ms / 1000:
            raise ValueError("tombstones must outlive the records of handoff.events.v1 (its retention, "
                             f"{HANDOFF_EVENTS.retention_ms // DAY_MS} days): a replayed creation would re-create "
                             "a dropped case")


@dataclass
class Sweep:
    """The changes one sweep makes: rows to write (tombstones, stamped legacy rows) and ids to delete."""

    write: dict[str, dict[str, Any]] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)
    closed: int = 0  # closed states turned into tombstones
    expired: int = 0  # tombstones dropped


class Pruner:
    """The per-partition event-time clock and the sweep of one partition's rows."""

    def __init__(self, retention: Retention) -> None:
        self.retention = retention
        self._clock: dict[int | None, int] = {}  # partition -> newest occurred_at read (µs)
        self._swept: dict[int | None, int] = {}  # partition -> the interval index last swept

    def read(self, partition: int | None, occurred_us: int) -> int | None:
        """Advance ``partition``'s clock; returns the start (µs) of the interval a sweep is due for, or None."""
        now = max(self._clock.get(partition, occurred_us), occurred_us)
        self._clock[partition] = now
        interval = now // int(self.retention.sweep_s * 1e6)
        if self._swept.get(partition) == interval:
            return None
        self._swept[partition] = interval
        return interval * int(self.retention.sweep_s * 1e6)

    def too_late(self, partition: int | None, occurred_us: int) -> bool:
        """Whether a creation that occurred at ``occurred_us`` is older than any tombstone kept."""
        clock = self._clock.get(partition)
        return clock is not None and occurred_us < clock - int(self.retention.tombstone_s * 1e6)

    def sweep(self, rows: Iterable[tuple[str, Mapping[str, Any] | None]], partition: int | None, at_us: int) -> Sweep:
        """What to change in ``partition``'s rows at ``at_us``: closed states older than ``closed_s`` become
        tombstones, tombstones older than ``tombstone_s`` go. A closed state saved before closings were stamped
        gets ``closed_at_us = at_us`` (its retention starts now)."""
        closed_before = at_us - int(self.retention.closed_s * 1e6)
        dropped_before = at_us - int(self.retention.tombstone_s * 1e6)
        sweep = Sweep()
        for key, row in rows:
            if not row or row.get("partition") != partition:
                continue
            if is_tombstone(row):
                if row["closed_at_us"] < dropped_before:
                    sweep.delete.append(key)
                    sweep.expired += 1
            elif row.get("status") == Status.CLOSED and not row.get("timers"):
                closed_at = row.get("closed_at_us")
                if closed_at is None:
                    sweep.write[key] = {**row, "closed_at_us": at_us}
                elif closed_at < dropped_before:  # closed longer ago than a tombstone is kept: straight out
                    sweep.delete.append(key)
                    sweep.closed += 1
                    sweep.expired += 1
                elif closed_at < closed_before:
                    sweep.write[key] = tombstone(row, closed_at)
                    sweep.closed += 1
        return sweep
