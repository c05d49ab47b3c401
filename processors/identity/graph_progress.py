"""How far this worker's graph agent got through the graph records this worker produced (#9).

Intake runs ahead of the graph: on a backlog it starts every saga of a fetch before the first customer
of the fetch exists, so a repeat contact whose person's first contact is a few hundred records earlier
finds no customer in the fast path's view (``fastpath.AssignmentView``) and takes the slow path, hop by
hop through the graph topic. Letting intake wait, for a bounded time, until the graph agent has handled
what this worker produced on the graph partitions it owns, gives the view those customers first: measured
in ``tests/bench/results/identity.md``. The wait is only an optimisation: a timeout, a partition owned by
another worker, a record another worker produced, or a dead-lettered record only cost the slow path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection


class GraphProgress:
    """Highest graph-topic offset produced and handled per partition (offsets as Kafka acknowledged them)."""

    def __init__(self) -> None:
        self._produced: dict[int, int] = {}
        self._handled: dict[int, int] = {}
        self._changed: asyncio.Event | None = None  # created in the running loop

    def produced(self, partition: int, offset: int) -> None:
        if offset > self._produced.get(partition, -1):
            self._produced[partition] = offset

    def handled(self, partition: int, offset: int) -> None:
        if offset > self._handled.get(partition, -1):
            self._handled[partition] = offset
            if self._changed is not None:
                self._changed.set()

    def pending(self, owned: Collection[int]) -> bool:
        """True while a record produced to one of the ``owned`` partitions is not handled yet."""
        handled = self._handled
        return any(handled.get(partition, -1) < offset
                   for partition, offset in self._produced.items() if partition in owned)

    async def settled(self, owned: Collection[int], timeout_s: float) -> bool:
        """Wait until nothing is ``pending(owned)``, at most ``timeout_s`` seconds; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.pending(owned):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._changed is None:
                self._changed = asyncio.Event()
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return False
        return True
