"""Tick order: a tick scans partition p only once the inputs of p published before the tick were read.

faust takes fetched records round-robin across the topics of one agent, so after a restart or a backlog a
tick published at T can reach the agent before input records of the same partition published earlier (the
acknowledgement of a handoff, say): a scan run then fires what those records would have cancelled, and a
replay of the same log gives another result. So the ticker stamps each tick with the log end offset of
each co-partitioned input partition as it publishes it (``bus.ticks.Tick.ends``), and ``TickGate``
admits the tick only when the agent's read position has reached those offsets. A tick that comes too early
is *deferred*, not dropped: its scan runs as soon as the input record that completes it was processed
(``read``), on that record (faust lets a table be written only while processing a record of the partition;
the inputs are co-partitioned). Nothing here is durable: a deferred scan lost in a crash is redone by the
next tick, as every due instant lives in the processor's state.

Bounded: when the oldest tick still deferred is ``max_defer_s`` older (by tick instants, not by a timer)
than the tick just arrived, the scan runs anyway at the new tick's instant (``forced``): a partition whose
backlog never drains, an end offset the agent never reaches (a transaction marker ends the log; the
position is unknown after an assignment without a commit) must not starve its deadlines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bus.ticks imports faust; configs import MAX_DEFER_S from here
    from bus.ticks import Tick

MAX_DEFER_S = 300.0  # default bound of a deferral (seconds of tick time): the processors' tick_max_defer_s
MAX_PENDING = 4096  # deferred ticks kept per partition; beyond, the oldest are merged into the next (see _defer)


class Outcome(StrEnum):
    """What became of a tick (label ``outcome`` of ``omnibus_tick_scans_total``)."""

    SCANNED = "scanned"  # every input published before it was read: scanned at once
    DEFERRED = "deferred"  # inputs published before it are unread: scanned when they are
    CAUGHT_UP = "caught_up"  # a deferred scan ran, on the input record that completed it
    FORCED = "forced"  # deferred longer than max_defer_s: scanned with inputs still unread


@dataclass(frozen=True)
class Admission:
    """``scan_at_us``: the instant to scan partition ``partition`` at now (µs), None: nothing to scan now."""

    scan_at_us: int | None
    outcome: Outcome


@dataclass
class _Pending:
    ends: dict[str, int]
    now_us: int  # the latest instant of the ticks it stands for: the scan's
    since_us: int  # the earliest: how long they have waited


@dataclass
class TickGate:
    """Per partition: where the agent has read each input, and the ticks waiting for it.

    ``max_defer_s``: the longest a scan waits for unread inputs (seconds of tick time). ``committed``:
    (topic, partition) -> the next offset to read after the last commit, or None; the read position of a
    partition before the agent processed any of its records since the last ``reset`` (an assignment).
    """

    max_defer_s: float
    committed: Callable[[str, int], int | None] = lambda topic, partition: None
    _positions: dict[tuple[str, int], int] = field(default_factory=dict)
    _pending: dict[int, list[_Pending]] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget positions and deferred ticks (a rebalance: another worker may have read on meanwhile)."""
        self._positions.clear()
        self._pending.clear()

    def position(self, topic: str, partition: int) -> int:
        """The next offset of ``topic``/``partition`` the agent has still to read (0 when unknown)."""
        known = self._positions.get((topic, partition))
        if known is None:
            known = self.committed(topic, partition)
        return known or 0

    def unread(self, partition: int, ends: Mapping[str, int]) -> int:
        """Input records of ``partition`` below ``ends`` not read yet (0: the tick may scan)."""
        return sum(max(0, end - self.position(topic, partition)) for topic, end in ends.items())

    def admit(self, partition: int, tick: Tick) -> Admission:
        """A tick of ``partition`` arrived: scan now (at its instant or a later one), or defer it."""
        if not tick.ends or not self.unread(partition, tick.ends):
            waiting = self._pending.pop(partition, [])
            return Admission(max([tick.now_us, *(p.now_us for p in waiting)]), Outcome.SCANNED)
        waiting = self._pending.setdefault(partition, [])
        self._defer(waiting, _Pending(dict(tick.ends), tick.now_us, tick.now_us))
        oldest = min(p.since_us for p in waiting)
        if tick.now_us - oldest >= self.max_defer_s * 1_000_000:
            del self._pending[partition]
            return Admission(max(p.now_us for p in waiting), Outcome.FORCED)
        return Admission(None, Outcome.DEFERRED)

    def read(self, topic: str, partition: int, offset: int) -> int | None:
        """The agent processed the input record at ``offset`` (applied, refused or dead-lettered alike): the
        instant of the deferred scan it completes (µs; outcome ``caught_up``), None if none."""
        key = (topic, partition)
        self._positions[key] = max(offset + 1, self._positions.get(key, 0))
        waiting = self._pending.get(partition)
        if not waiting:
            return None
        ready = [not self.unread(partition, p.ends) for p in waiting]
        if not any(ready):
            return None
        left = [p for p, done in zip(waiting, ready, strict=True) if not done]
        if left:
            self._pending[partition] = left
        else:
            del self._pending[partition]
        return max(p.now_us for p, done in zip(waiting, ready, strict=True) if done)

    def deferred(self, partition: int) -> int:
        """Ticks of ``partition`` waiting for inputs."""
        return len(self._pending.get(partition, ()))

    @staticmethod
    def _defer(waiting: list[_Pending], tick: _Pending) -> None:
        if waiting and waiting[-1].ends == tick.ends:  # nothing published in between: one scan serves both
            last = waiting[-1]
            last.now_us, last.since_us = max(last.now_us, tick.now_us), min(last.since_us, tick.since_us)
            return
        waiting.append(tick)
        if len(waiting) > MAX_PENDING:  # merged: its scan waits for the later ends, at the later instant
            first, second = waiting.pop(0), waiting[0]
            second.now_us, second.since_us = max(second.now_us, first.now_us), min(second.since_us, first.since_us)
