"""Intake paced on the graph's backlog, so the repeat contacts of a backlog find their customer (#9).

The fast path (``fastpath.py``) sends a repeat contact straight to its customer's root only when the
worker's view already knows the customer, that is once the graph has decided the person's earlier event.
Taking input in bulk (``bus.consume_bulk``), intake outruns the graph on a backlog (a replay, a catch-up
after a stop): it starts every saga before the first customer exists and none takes the fast path. So
before each chunk intake waits, a bounded time, until this worker's graph partitions are (nearly) caught
up. Live traffic slower than the processor never waits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

from aiokafka.structs import ConsumerRecord

POLL_S = 0.005


class GraphBacklog:
    """The records on this worker's graph partitions not yet handled (high watermark − next to handle).

    ``app``: the faust app (its consumer's assignment and high watermarks); ``graph_batch`` reports
    what it handled with ``handled``.
    """

    def __init__(self, app: Any, graph_topic: str) -> None:
        self._app, self._topic = app, graph_topic
        self._next: dict[int, int] = {}  # graph partition -> next offset to handle

    def handled(self, partition: int, offset: int) -> None:
        if offset >= self._next.get(partition, 0):
            self._next[partition] = offset + 1

    def records(self) -> int:
        consumer = self._app.consumer
        total = 0
        for tp in consumer.assignment():
            if tp.topic == self._topic:
                end = consumer.highwater(tp) or 0
                total += max(end - self._next.get(tp.partition, consumer._committed_offset.get(tp) or 0), 0)
        return total

    async def wait(self, most: int, max_s: float) -> float:
        """Until at most ``most`` records wait, or ``max_s`` seconds passed; returns the seconds waited."""
        started = time.monotonic()
        while self.records() > most and time.monotonic() - started < max_s:
            await asyncio.sleep(POLL_S)
        return time.monotonic() - started


def chunks(taken: dict[Any, list[ConsumerRecord]] | Any, size: int) -> Iterator[dict[Any, list[ConsumerRecord]]]:
    """``taken`` (partition -> records, in offset order) in pieces of at most ``size`` records, in order."""
    chunk: dict[Any, list[ConsumerRecord]] = {}
    count = 0
    for tp, records in taken.items():
        start = 0
        while start < len(records):
            piece = list(records[start:start + size - count])
            chunk.setdefault(tp, []).extend(piece)
            count += len(piece)
            start += len(piece)
            if count >= size:
                yield chunk
                chunk, count = {}, 0
    if chunk:
        yield chunk
