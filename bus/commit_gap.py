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
between the committed one and the lowest acknowledged one (or faust's recorded gaps): the partition does
not commit, and once the gap is ``seek_after_s`` old (acknowledgements come in offset order, so it is not
going to close) the partition is sought back to the committed offset and the skipped records are processed
again (at-least-once; processors dedupe on event ids). faust's "gaps" (jumps in fetched offsets it
commits over, meant for compaction and transaction markers) are not recorded on these topics: with
neither, a jump means records were skipped. Compacted topics keep faust's rules: there a missing
offset may have been compacted away and would never arrive. ``bus.commit_watchdog`` stays the backstop.

A head gap can only be seen against a known committed offset, and faust forgets it in two cases: a
partition that was never committed (``None``), and every revoked partition, whose bookkeeping
``Consumer.on_partitions_revoked`` drops *before* the app's revocation handler waits for the batches in
flight and commits their acknowledgements. With no committed offset faust commits the first run of
acknowledged offsets, whatever lies before it: a batch held back (fenced, failed, cancelled) followed by
an acknowledged one was committed past, and the held-back records were lost for good (#13: the residual
loss of the fault tests, more frequent under load, where more batches are fenced). So on strict topics a
partition whose committed offset is unknown is not committed at all; ``bus.seek_uncommitted`` gives a
partition never committed its log start offset as the committed one when faust seeks the stream
partitions after a rebalance, so commits go on from there. Nor is anything committed between an
assignment and that seek (``sought``): faust resumes the stream partitions *before* it reads the committed
offsets in faust's own ``Recovery.on_recovery_completed`` (``bus.seek_before_resume`` now seeks first; the
guard stays for apps without tables and for faust versions that change the order), and until then its
bookkeeping holds the previous generation's values, or a commit that failed (``Consumer._commit_offsets``
records it either way).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bus.logging import get_logger
from bus.stall_clock import StallClock

SEEK_AFTER_S = 10.0  # acknowledgements come in offset order: a head gap this old is records that were skipped

_installed: dict[str, Any] = {}
_SOUGHT = "_omnibus_sought_generation"  # on a faust Consumer: the generation its committed offsets were read in
log = get_logger(__name__)


def head_gap(acked: list[int], gap_starts: list[int], committed: int | None) -> bool:
    """True when an offset between ``committed`` (the next offset to read) and the lowest acknowledged
    (or recorded-gap) offset was never acknowledged."""
    if not acked or committed is None:
        return False
    return min([*acked, *gap_starts]) > committed


def sought(consumer: Any, generation: int) -> None:
    """Record that faust ``consumer``'s committed offsets were read from the broker (``perform_seek``) by a seek
    that started in consumer-group ``generation``: only if the group is still in it (a seek that straddled a
    rebalance read offsets of the generation before; the new one's own seek follows)."""
    if generation == consumer.app.consumer_generation_id:
        consumer.__dict__[_SOUGHT] = generation


def committed_known(consumer: Any) -> bool:
    """True when ``consumer``'s committed offsets were read in the group generation it is in now."""
    app = getattr(consumer, "app", None)
    return app is None or consumer.__dict__.get(_SOUGHT) == app.consumer_generation_id


def is_strict(topic: str) -> bool:
    """True when ``topic`` follows the exact commit rules of this module (the predicate ``install`` was given)."""
    strict: Callable[[str], bool] | None = _installed.get("strict")
    return strict is not None and strict(topic)


def install(strict: Callable[[str], bool], *, seek_after_s: float = SEEK_AFTER_S,
            clock: Callable[[], float] = time.monotonic) -> None:
    """Patch faust's ``Consumer`` once per process; ``strict(topic)``: apply the exact rules to this topic
    (the last call's predicate wins, so every app of a process should agree).

    On strict topics: (0) a partition with no known committed offset (``None``, or none read yet in this
    group generation) is not committed; (1) a head gap
    blocks the commit; once it is ``seek_after_s`` old the partition is
    sought back to its committed offset, so the skipped records are fetched and processed again; (2) faust
    never records a jump in fetched offsets as a "gap" to commit over (``Consumer._add_gap``: meant for
    compaction and transaction markers; our topics have neither, so a jump means records were skipped).
    """
    from faust.transport.consumer import Consumer

    _installed.update(strict=strict, seek_after_s=seek_after_s, clock=clock)
    if getattr(Consumer._new_offset, "omnibus_head_gap", False):
        return
    original_new_offset, original_add_gap = Consumer._new_offset, Consumer._add_gap

    def _new_offset(self: Any, tp: Any) -> int | None:
        acked = self._acked[tp]
        if acked and _installed["strict"](tp.topic):
            gaps = [interval.begin for interval in self._gap[tp]] if self._gap[tp] else []
            committed = self._committed_offset[tp]
            if committed is None or not committed_known(self):
                return None  # nothing to tell a head gap by: commit once the seek set it (bus.seek_uncommitted)
            if head_gap(acked, gaps, committed):
                _seek_when_old(self, tp, committed)
                return None
        return original_new_offset(self, tp)

    async def _add_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        if not _installed["strict"](tp.topic):
            await original_add_gap(self, tp, offset_from, offset_to)

    _new_offset.omnibus_head_gap = True  # type: ignore[attr-defined]
    Consumer._new_offset = _new_offset  # type: ignore[method-assign]
    Consumer._add_gap = _add_gap  # type: ignore[method-assign]


def _seek_when_old(consumer: Any, tp: Any, committed: int) -> None:
    clock: StallClock[int] = consumer.__dict__.setdefault("_omnibus_head_gap_clock", StallClock(0.0))
    clock.stall_after_s = _installed["seek_after_s"]
    now = _installed["clock"]()
    if not clock.observe(tp, committed, True, now):
        return
    clock.restart(tp, committed, now)
    log.warning("records before the acknowledged ones were skipped; seeking back to the committed offset",
                topic=tp.topic, partition=tp.partition, committed=committed)
    asyncio.ensure_future(consumer.seek(tp, committed))
