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
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from bus.errors import PublishError


class StateWrites:
    """``lock``: held from reading states to the changelog's hand-over; ``settled(changelog)``: see the module."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self._last: asyncio.Future[None] | None = None

    def settled(self, changelog: Awaitable[Any]) -> asyncio.Future[None]:
        """Completes once ``changelog`` and every changelog handed over before it are acknowledged; raises what
        ``changelog`` raises (``PublishError``). Call under ``lock``, right after the hand-over."""
        settled = asyncio.ensure_future(self._settle(self._last, changelog))
        self._last = settled
        return settled

    @staticmethod
    async def _settle(before: asyncio.Future[None] | None, changelog: Awaitable[Any]) -> None:
        if before is not None:
            await asyncio.wait([before])  # its end, not its outcome: an error is raised to its own batch
        await changelog
        if before is not None and (before.cancelled() or before.exception() is not None):
            raise PublishError("an earlier batch's changelog was not acknowledged: this batch may have read its "
                               "states, so it does not count as done either", retriable=True)
