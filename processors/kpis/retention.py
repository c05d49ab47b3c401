"""How far back the rollup's windows table (and so ``GET /kpis``) answers: windows that ended more than
``windows_kept_days`` of event time ago leave the table; ``omnibus report kpis`` still shows them (it reads
``kpi.aggregates.v1``, kept 400 days).

The clock is event time: per partials partition, the newest ``through`` the partials carry (stage one's
closed-through instant, the hour its ticks closed; ``ledger.Change.through``), never the wall clock. When it enters a
new day the partition's windows are swept, with the cutoff from that day's start: a restart (the clock starts again
from the next partial) or a replay of the partials cuts at the same place. A partial for a window past the cutoff is
a stale copy, never a change: stage one stops changing a window ``horizon_days`` after its end, and the setting is
refused below ``horizon_days`` plus the retention of ``kpi.partials.v1`` (``KpisSettings``), so a replayed partial
never reaches a pruned window. It is dropped and counted, never re-creates the window (that would publish an
aggregate with one partition's counts).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from processors.kpis.metrics import PRUNED
from processors.kpis.windows import DAY_US, WindowKey


class WindowsKept:
    """The per-partition clock and the sweep of the windows table (``Rollup.store``)."""

    def __init__(self, kept_us: int, sweep_us: int = DAY_US) -> None:
        self.kept_us, self.sweep_us = kept_us, sweep_us
        self._clock: dict[int, int] = {}  # partials partition -> newest ``through`` (µs)
        self._swept: dict[int, int] = {}  # partials partition -> the interval index last swept

    def cutoff(self, partition: int) -> int | None:
        """Windows of ``partition`` ending before this instant (µs) are no longer kept; None: no clock yet."""
        swept = self._swept.get(partition)
        return None if swept is None else swept * self.sweep_us - self.kept_us

    def expired(self, store: MutableMapping[str, Any], window_key: str, partial: dict[str, Any], partition: int,
                owns: Callable[[str], bool]) -> bool:
        """Advance ``partition``'s clock with the partial's ``through`` (sweeping the windows ``owns`` accepts when
        a new day begins); True when the partial's window is older than what is kept (drop the partial)."""
        through = partial.get("through")
        if isinstance(through, int) and through > self._clock.get(partition, 0):
            self._clock[partition] = through
            interval = through // self.sweep_us
            if self._swept.get(partition) != interval:
                self._swept[partition] = interval
                self._sweep(store, interval * self.sweep_us - self.kept_us, owns)
        cutoff = self.cutoff(partition)
        if cutoff is not None and WindowKey.parse(window_key).end_us < cutoff:
            PRUNED.labels(table="windows", reason="late").inc()
            return True
        return False

    @staticmethod
    def _sweep(store: MutableMapping[str, Any], cutoff: int, owns: Callable[[str], bool]) -> None:
        gone = [key for key in list(store.keys()) if owns(key) and WindowKey.parse(key).end_us < cutoff]
        for key in gone:
            del store[key]
        if gone:
            PRUNED.labels(table="windows", reason="expired").inc(len(gone))
