"""Intake fed in bulk from faust's fetch (``bus.consume_bulk``) (#9 build 3).

faust's per-record consumer path (a ``wait_first`` per record, an ``Event`` and a stream hop each) is
the floor of a stage that handles one faust record per input event. Intake is stateless, so its records
skip that path: ``taken`` receives each fetch's input records, a task starts their sagas chunk by chunk
(``IdentityProcessor.intake_batch``), and each chunk is acknowledged — hence committed by faust — only
after its outputs are acknowledged by Kafka and only if no rebalance took its partitions meanwhile
(``bus.fencing``). Anything not acknowledged is taken again by the partition's next owner.

The fetch never waits for intake, since it also brings the graph's records: while a batch is queued
the input partitions are paused instead (back pressure on the inputs alone).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

from aiokafka.structs import ConsumerRecord

from bus import consume_bulk
from bus.fencing import AssignmentFence
from bus.logging import get_logger

log = get_logger(__name__, component="identity")

Run = Callable[[Sequence[Any], Callable[[], bool]], Awaitable[bool]]  # records, still allowed? -> published
Crash = Callable[[str, Exception], Awaitable[Any]]  # stops the worker and raises


class BulkIntake:
    """``run(records, allowed)`` starts and publishes a chunk (False: fenced, nothing published);
    ``crash(agent, exc)`` stops the worker. ``batch_size``: records per chunk (one acknowledgement wait)."""

    def __init__(self, app: Any, inputs: Iterable[str], fence: AssignmentFence, run: Run, crash: Crash, *,
                 batch_size: int) -> None:
        self._app, self._inputs, self._fence = app, frozenset(inputs), fence
        self._run, self._crash, self._batch_size = run, crash, batch_size
        self._queue: asyncio.Queue[tuple[int, consume_bulk.Taken]] = asyncio.Queue()
        self._paused = False
        self._task: asyncio.Task[None] | None = None

    def install(self) -> None:
        consume_bulk.take(self._app, self._inputs, self.taken)

    async def taken(self, taken: consume_bulk.Taken) -> None:
        """One fetch's input records (the fence stamp is taken now: a rebalance after it fences them off)."""
        if self._task is not None and self._task.done() and not self._task.cancelled():
            self._task.result()  # the intake task failed (the worker is stopping): raise its error here too
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="identity.intake.bulk")
        self._queue.put_nowait((self._fence.stamp(), taken))
        if self._queue.qsize() > 1 and not self._paused:
            self._app.consumer.pause_partitions(self._assigned())
            self._paused = True

    async def stop(self) -> None:
        """Cancel the task; a chunk it had not acknowledged is taken again by the partition's next owner."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _assigned(self) -> list[Any]:
        return [tp for tp in self._app.consumer.assignment() if tp.topic in self._inputs]

    async def _loop(self) -> None:
        held: tuple[int, consume_bulk.Taken] | None = None  # a fetch of a later stamp, taken off the queue
        try:
            while True:
                stamp, taken = held if held is not None else await self._queue.get()
                taken, held = self._merged(stamp, taken)
                # Never while faust rebalances: it paused the inputs itself until the tables are restored, and
                # resumes them then (its "Worker ready"); resuming them here would fetch inputs mid-restore.
                if self._paused and self._queue.empty() and held is None and not self._app.rebalancing:
                    self._app.consumer.resume_partitions(self._assigned())
                    self._paused = False
                for chunk in chunks(taken, self._batch_size):
                    if not await self._chunk(stamp, chunk):
                        break
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never die silently: the inputs would stay paused, their partitions idle
            await self._crash("intake", exc)
            raise

    def _merged(self, stamp: int, taken: consume_bulk.Taken) -> tuple[consume_bulk.Taken, tuple[int, consume_bulk.Taken]
                                                                       | None]:
        """``taken`` and every fetch queued behind it with the same fence stamp, as one batch (each partition's
        records stay in offset order), and the first queued fetch of another stamp, if any.

        Under a steady input each fetch brings a few records; taken one fetch at a time, a chunk's publish
        round trip caps intake at a few records per round trip and the queue never drains (#9: seconds of
        latency at a paced 400 events/s). Merged, a backlog is taken in chunks of ``batch_size``."""
        if self._queue.empty():
            return taken, None
        merged: dict[Any, list[ConsumerRecord]] = {tp: list(records) for tp, records in taken.items()}
        while not self._queue.empty():
            later, more = self._queue.get_nowait()
            if later != stamp:  # a rebalance in between: not one batch (the older one is fenced off anyway)
                return merged, (later, more)
            for tp, records in more.items():
                merged.setdefault(tp, []).extend(records)
        return merged, None

    async def _chunk(self, stamp: int, taken: consume_bulk.Taken) -> bool:
        partitions = {(tp.topic, tp.partition) for tp in taken}
        records = [record for records in taken.values() for record in records]
        allowed = functools.partial(self._fence.allows, stamp, partitions)
        await self._fence.confirm()  # before the chunk's work: allowed() then sees a lease a pause has ended
        # An error or a cancellation leaves the chunk unacknowledged: the partition's next owner takes it again.
        published = await self._run(records, allowed)
        if published:
            await self._fence.confirm()
        if not published or not allowed():
            log.warning("partitions lost during an intake batch; left to their new owner", records=len(records))
            return False
        # Started and published: faust may commit them now (no await since the fence check above).
        consume_bulk.acknowledge(self._app, taken)
        return True


def chunks(taken: consume_bulk.Taken, size: int) -> Iterator[dict[Any, list[ConsumerRecord]]]:
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
