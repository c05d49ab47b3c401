"""Never commit past an offset that was not processed: faust-streaming #606, patched for our topics.

faust commits a partition up to the first gap in its acknowledged offsets (``Consumer._new_offset``),
but its check of the gap *at the head* is off by one and skipped when nothing was committed yet::

    if committed_offset:                            # None or 0: no check at all
        if min(acked) - committed_offset > 1:       # committed is the next offset to read: a gap of
            return None                             # exactly one record is committed past

So when exactly one record at the head was not acknowledged — a one-record batch held back because the
worker stopped or lost its partitions in the middle of it (``bus.consume.hold_back``, ``bus.fencing``) —
faust commits past it and the record is lost (seen in ``tests/faults/test_workers.py``: one contact never
re-keyed, one merge never finished, after three rebalances; upstream issue #606, open).

The patch: on the topics given to ``install`` (Omnibus' own, not compacted) a head gap is any offset
between the committed one and the lowest acknowledged one (or faust's recorded gaps), and the partition
waits; the commit watchdog (``bus.commit_watchdog``) seeks back to the committed offset after
``stall_after_s``, if the normal re-fetch after a rebalance has not closed it first. Compacted topics keep
faust's rule: there a missing offset may have been compacted away and would never arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_installed: dict[str, Callable[[str], bool]] = {}


def head_gap(acked: list[int], gap_starts: list[int], committed: int | None) -> bool:
    """True when an offset between ``committed`` (the next offset to read) and the lowest acknowledged
    (or recorded-gap) offset was never acknowledged."""
    if not acked or committed is None:
        return False
    return min([*acked, *gap_starts]) > committed


def install(strict: Callable[[str], bool]) -> None:
    """Patch faust's ``Consumer._new_offset`` once per process; ``strict(topic)``: apply the exact head
    check to this topic (the last call's predicate wins, so every app of a process should agree)."""
    from faust.transport.consumer import Consumer

    _installed["strict"] = strict
    if getattr(Consumer._new_offset, "omnibus_head_gap", False):
        return
    original = Consumer._new_offset

    def _new_offset(self: Any, tp: Any) -> int | None:
        acked = self._acked[tp]
        if acked and _installed["strict"](tp.topic):
            gaps = [interval.begin for interval in self._gap[tp]] if self._gap[tp] else []
            if head_gap(acked, gaps, self._committed_offset[tp]):
                return None
        return original(self, tp)

    _new_offset.omnibus_head_gap = True  # type: ignore[attr-defined]
    Consumer._new_offset = _new_offset  # type: ignore[method-assign]
