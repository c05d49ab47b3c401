"""Records of concurrent callers share Kafka batches: one ``BatchBuilder`` per partition, handed to
aiokafka's accumulator whole (``AIOKafkaProducer.send_batch``) instead of one ``send`` per record.

Why not one batch per call: aiokafka keeps at most one produce request in flight per broker, and a
produce request takes one batch per partition. With a batch per call, four adapter requests waiting at
once go out in four produce requests, one broker round trip after the other, and a slow broker then
caps the adapter's throughput at one request's events per round trip (#9 build 6: the lower wall-clock
rate of the batched ingest under load). Here a partition has a queue of batches not yet handed over; a
caller appends its records to the newest one, and one hand-over task per partition passes them to the
accumulator oldest first, each as soon as the accumulator takes it (``add_batch`` waits while the
partition's previous batch is not yet drained). Records that arrive while a produce request is in
flight therefore travel together in the next one.

Order: a partition's records go in the order they were appended (one queue, handed over oldest first),
so each key keeps its order. Acknowledgement is unchanged: a record counts as sent when its batch's
delivery future resolves (acks=all, idempotent producer); its offset is the batch's base offset plus its
place in the batch, as ``MessageBatch.done`` resolves a record sent with ``send``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from bus.errors import PublishError
from bus.topic import KafkaRecord

Partition = tuple[str, int]  # (topic, partition)


@dataclass(eq=False)
class _Batch:
    """A batch still being filled; ``handed`` resolves to its delivery future once the accumulator took it."""

    builder: Any  # aiokafka.producer.message_accumulator.BatchBuilder
    handed: asyncio.Future[asyncio.Future[RecordMetadata]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


# (batch, the record's place in the caller's list, its offset relative to the batch's base offset, the time
# aiokafka stamped it with in ms, for a broker that keeps CreateTime): a tuple, built once per record
_Placed = tuple[_Batch, int, int, int]


class PartitionBatches:
    """Shared batches of one producer (see the module doc); ``close`` waits for every hand-over."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._queues: dict[Partition, list[_Batch]] = {}
        self._hand_overs: dict[Partition, asyncio.Task[None]] = {}

    async def send(self, records: Sequence[KafkaRecord]) -> list[RecordMetadata]:
        """Send ``records`` (bytes already) and wait until Kafka acknowledged every one; each record's
        own ``RecordMetadata``. Raises ``PublishError`` for a record larger than a batch, and whatever
        aiokafka raises (``KafkaError``) when a batch is not acknowledged."""
        for topic in {record.topic for record in records}:
            await self._producer.partitions_for(topic)  # metadata known, as ``send`` waits for it
        return await self.place(records)

    def place(self, records: Sequence[KafkaRecord]) -> Awaitable[list[RecordMetadata]]:
        """``send``'s first half, with no ``await``: the records are in their batches, in order, when this
        returns (so a later caller's records of a partition come after them); await the result for Kafka's
        acknowledgement. The topics' metadata must be known (a ``send`` to each before): ``PublishError`` if not."""
        producer = self._producer
        # the lists ``_partition`` would build again for every record
        partitions: dict[str, tuple[list[int], list[int]]] = {}
        for topic in {record.topic for record in records}:
            known = producer._metadata.partitions_for_topic(topic)
            if not known:
                raise PublishError(f"no metadata for topic {topic} yet (send to it first)", retriable=True)
            partitions[topic] = (list(known), list(producer._metadata.available_partitions_for_topic(topic)))
        partitioner = producer._partitioner
        placed: list[_Placed] = []
        touched: dict[Partition, None] = {}
        try:
            for index, record in enumerate(records):
                # the partition ``send`` would take: the record's own, else the producer's partitioner
                partition = (partitioner(record.key, *partitions[record.topic]) if record.partition is None
                             else producer._partition(record.topic, record.partition, None, None, None, None))
                where = (record.topic, partition)
                queue = self._queues.setdefault(where, [])
                touched[where] = None
                headers = list(record.headers) if record.headers else []
                appended = queue[-1].builder.append(key=record.key, value=record.value, timestamp=None,
                                                    headers=headers) if queue else None
                if appended is None:  # no batch waiting, or the newest is full: a new one behind it
                    queue.append(_Batch(producer.create_batch()))
                    appended = queue[-1].builder.append(key=record.key, value=record.value, timestamp=None,
                                                        headers=headers)
                    if appended is None:
                        raise PublishError(f"a record of {len(record.value or b'')} bytes does not fit a batch",
                                           retriable=False)
                placed.append((queue[-1], index, appended.offset, appended.timestamp))
        finally:  # batches are handed over even when this call fails half-way, so none is left behind
            for where in touched:
                if where not in self._hand_overs:
                    self._hand_overs[where] = asyncio.create_task(self._hand_over(where))
        return self._acknowledged(records, placed)

    async def _acknowledged(self, records: Sequence[KafkaRecord], placed: list[_Placed]) -> list[RecordMetadata]:
        batches = list(dict.fromkeys(place[0] for place in placed))
        # A batch's futures are shared by every caller with records in it: each caller waits through a shield of
        # its own. Awaited bare (``gather`` cancels its children), a caller cancelled while it waited cancelled
        # them for all: the others got a CancelledError nobody sent them, and the hand-over's ``set_result`` on a
        # cancelled ``handed`` raised InvalidStateError into every batch queued behind it.
        deliveries = [await asyncio.shield(batch.handed) for batch in batches]
        acknowledged = dict(zip(batches, await asyncio.gather(*map(asyncio.shield, deliveries)), strict=True))
        results: list[RecordMetadata] = [None] * len(records)
        for batch, index, offset, timestamp in placed:
            meta = acknowledged[batch]
            results[index] = RecordMetadata(
                meta.topic, meta.partition, meta.topic_partition, meta.offset + offset,
                timestamp if meta.timestamp == -1 else meta.timestamp, meta.timestamp_type, meta.log_start_offset)
        return results

    async def _hand_over(self, where: Partition) -> None:
        """Pass a partition's batches to the accumulator, oldest first, until none is left waiting."""
        topic, partition = where
        queue = self._queues[where]
        try:
            while queue:
                batch = queue[0]
                # Callers may still append to it while ``send_batch`` waits for the previous batch to drain;
                # from its return to the pop below nothing else runs, so nothing joins it once handed over.
                delivery = await self._producer.send_batch(batch.builder, topic, partition=partition)
                batch.builder.close()  # nothing else joins it (``send`` appends to an open last batch)
                queue.pop(0)
                batch.handed.set_result(delivery)
        except BaseException as exc:
            for batch in queue:
                if not batch.handed.done():
                    batch.handed.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
            queue.clear()
            if not isinstance(exc, Exception):
                raise
        finally:
            del self._queues[where], self._hand_overs[where]

    async def close(self) -> None:
        """Wait until every batch was handed to the accumulator (the producer's ``stop`` then flushes it)."""
        while self._hand_overs:
            await asyncio.gather(*self._hand_overs.values(), return_exceptions=True)
