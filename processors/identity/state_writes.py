"""The node tables' one writer at a time, and the order in which writes count as done (#9: latency).

Graph chunks (``graph_agent.py``) and repeat contacts applied at intake (``apply_here.py``) read and write
the same node and profile tables. Each batch holds ``lock`` from reading states to handing its changelog
records to the producer: it publishes its outputs (acknowledged), then writes its states in memory and
hands over their changelog. It then releases the lock *before* that changelog is acknowledged, so the next
batch need not wait a produce round trip — and may read states whose changelog is still in flight.

That is safe only if no batch counts as done (its input records acknowledged, hence committed) before
every batch it may have read from: ``settled(changelog)`` (called under the lock, right after the
hand-over) completes once this batch's changelog *and every earlier batch's* are acknowledged. A crash
before that leaves this batch's records and the earlier ones uncommitted: all are replayed on the old
state, and the handlers drop what they already did (dedupe on event ids). Changelog records of one key
keep their order (one producer, placed in lock order: ``EventProducer.hand_over``).

A worker whose partitions are revoked waits, before it rejoins the group, for the batch that holds the lock and for
every changelog handed over (``drained``): the new owner writes its fence markers (``bus.fenced_table``) only after
every member rejoined, so the whole of each batch's changelog lands before them and its restore applies all of it.
Without the wait, a changelog still on its way could land partly before the markers (applied) and partly after
(skipped as late writes): a batch restored in part, some keys as after it and some as before. The replay of its
records then finds the batch done where its node states say so, and leaves the rest as before it, for good: seen
as contact records their customer's index does not name (``tests/processors/identity/graph/test_partial_restore.py``).
A worker stopped while it sent (a pause past the session timeout, a kill) is not covered by the wait: there each batch's
done markers (``done`` of ``settled``, ``bus.batch_restore``), sent after its changelog and every earlier batch's
markers are acknowledged and before it counts as done, tell the new owner which batches it restored whole; it takes
back the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bus.errors import PublishError
from bus.logging import get_logger
from bus.producer import EventProducer
from bus.topic import KafkaRecord

log = get_logger(__name__, component="identity")


class StateWrites:
    """``lock``: held from reading states to the changelog's hand-over; ``settled(changelog)``: see the module."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self._last: asyncio.Future[None] | None = None

    def settled(self, changelog: Awaitable[Any], done: Callable[[], Awaitable[Any]] | None = None,
                ) -> asyncio.Future[None]:
        """Completes once ``changelog`` and every changelog handed over before it are acknowledged, and then what
        ``done()`` sends (the batch's done markers, ``bus.batch_restore``: after every earlier batch's, so that a
        writer's markers land in seq order); raises what ``changelog`` or ``done()`` raises (``PublishError``). Call
        under ``lock``, right after the hand-over."""
        settled = asyncio.ensure_future(self._settle(self._last, changelog, done))
        self._last = settled
        return settled

    async def drained(self, within_s: float) -> bool:
        """Wait, at most ``within_s`` seconds, for the batch holding ``lock`` to hand its changelog over and for
        every changelog handed over to be acknowledged or refused (its own batch raises a refusal, not this). True
        when drained; False, with a warning, when the time ran out."""
        try:
            await asyncio.wait_for(self._drain(), within_s)
            return True
        except TimeoutError:
            log.warning("changelog writes still in flight when the partitions were revoked; the new owner takes "
                        "back a batch without its done marker and handles its input again", waited_s=within_s)
            return False

    async def _drain(self) -> None:
        async with self.lock:
            last = self._last
        if last is not None:
            await asyncio.wait([last])

    @staticmethod
    async def _settle(before: asyncio.Future[None] | None, changelog: Awaitable[Any],
                      done: Callable[[], Awaitable[Any]] | None) -> None:
        if before is not None:
            await asyncio.wait([before])  # its end, not its outcome: an error is raised to its own batch
        await changelog
        if before is not None and (before.cancelled() or before.exception() is not None):
            raise PublishError("an earlier batch's changelog was not acknowledged: this batch may have read its "
                               "states, so it does not count as done either", retriable=True)
        if done is not None:
            await done()


def done_sender(producer: EventProducer, markers: Sequence[KafkaRecord]) -> Callable[[], Awaitable[Any]] | None:
    """``settled``'s ``done`` for a batch's done markers (``FaustTables.done_markers``): sent and acknowledged
    (``EventProducer.send_batched``, ``PublishError``); None when there are none."""
    if not markers:
        return None
    return lambda: producer.send_batched(markers)
