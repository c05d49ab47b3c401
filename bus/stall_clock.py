"""One clock for the watchdogs: how long each partition's progress marker has stood still while work waits.

Every watchdog of ``bus`` asks the same question of a different marker, per partition:

- ``bus.commit_watchdog``: the committed offset, while acknowledged offsets wait to be committed;
- ``bus.lag_watchdog``: the consumer's position and committed offset, while the consumer lag is above 0;
- ``bus.recovery_watchdog``: the records left to restore from a changelog partition, while some are left;
- ``bus.commit_gap``: the committed offset, while records before the acknowledged ones were skipped;
- ``bus.startup_watchdog``: the start-up's phase and records left to restore, while the worker is not ready yet
  (one "partition": the start-up).

A partition is stalled when its marker has not changed for ``stall_after_s`` seconds of a monotonic clock
while work waits. A partition with nothing waiting, seen for the first time, or whose marker moved starts its
clock again; a partition no longer observed (revoked, restored) is forgotten. ``TickGap`` tells a watchdog
that its process was stopped (SIGSTOP, a paused VM) between two ticks, when no clock means anything.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Marker = TypeVar("Marker", bound=Hashable)


@dataclass
class StallClock(Generic[Marker]):
    """Per partition: the marker last seen and since when (seconds). ``stalled`` takes ``{partition: (marker,
    waiting)}`` and the time, and returns the partitions stalled for ``stall_after_s`` or more."""

    stall_after_s: float
    _since: dict[Any, tuple[Marker, float]] = field(default_factory=dict)

    def stalled(self, markers: Mapping[Any, tuple[Marker, bool]], now_s: float) -> list[Any]:
        stalled = [partition for partition, (marker, waiting) in markers.items()
                   if self.observe(partition, marker, waiting, now_s)]
        for partition in self._since.keys() - markers.keys():
            del self._since[partition]
        return stalled

    def observe(self, partition: Any, marker: Marker, waiting: bool, now_s: float) -> bool:
        """One partition's step of ``stalled`` (the others are neither checked nor forgotten)."""
        seen = self._since.get(partition)
        if not waiting or seen is None or seen[0] != marker:
            self._since[partition] = (marker, now_s)
            return False
        return now_s - seen[1] >= self.stall_after_s

    def unchanged_s(self, partition: Any, now_s: float) -> float:
        """Seconds ``partition``'s marker has stood still while work waited (0: not seen, or nothing waits)."""
        seen = self._since.get(partition)
        return 0.0 if seen is None else now_s - seen[1]

    def last_marker(self, partition: Any) -> tuple[Marker] | None:
        """The marker seen at the last check, as a 1-tuple (None: not seen, or forgotten)."""
        seen = self._since.get(partition)
        return None if seen is None else (seen[0],)

    def restart(self, partition: Any, marker: Marker, now_s: float) -> None:
        """Start ``partition``'s clock again (after a recovery)."""
        self._since[partition] = (marker, now_s)

    def reset(self) -> None:
        """Forget every clock (a rebalance, a freeze)."""
        self._since.clear()


@dataclass
class TickGap:
    """``frozen(now_s)`` is True when more than ``window_s`` seconds passed since the last call (or since
    ``last_s``): the process was stopped in between and its stall clocks mean nothing."""

    window_s: float
    last_s: float | None = None

    def frozen(self, now_s: float) -> bool:
        gap = self.last_s is not None and now_s - self.last_s > self.window_s
        self.last_s = now_s
        return gap


@dataclass
class BlindSpell:
    """How long a watchdog has judged nothing (every tick skipped: a rebalance, a restore, offsets it could not
    read). ``blind(now_s)`` counts a skipped tick and returns the seconds since the first one when a report is due
    (once the spell lasted ``report_after_s``, then at most once per ``report_after_s``), else None; ``judged()``
    ends the spell."""

    report_after_s: float
    since_s: float | None = None
    _reported_s: float | None = None

    def blind(self, now_s: float) -> float | None:
        if self.since_s is None:
            self.since_s = now_s
        if now_s - self.since_s < self.report_after_s or (
                self._reported_s is not None and now_s - self._reported_s < self.report_after_s):
            return None
        self._reported_s = now_s
        return now_s - self.since_s

    def judged(self) -> None:
        self.since_s = self._reported_s = None
