"""One consume → handle → produce loop of the baseline over aiokafka, at-least-once, batch by batch.

A batch's outputs are all acknowledged before its offsets are committed. A stateful stage keeps its state
in memory only and rebuilds it on assignment by replaying its partitions from the beginning: records
below the committed offset are handled again without publishing anything (``replaying``).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from bus.config import OmnibusSettings
from bus.kafka_client import connection_options
from bus.logging import get_logger
from bus.producer import EventProducer, Outgoing, Tombstone
from bus.topic import KafkaRecord

log = get_logger(__name__, component="identity-baseline")

Produced = Outgoing | Tombstone | KafkaRecord  # what a stage hands the producer
MAX_RECORDS = 2000  # per batch (getmany)
POLL_MS = 100


class Stage(abc.ABC):
    """A stage: the topics it reads, its consumer group, and what it does with a batch."""

    def __init__(self, settings: OmnibusSettings, producer: EventProducer, group: str, topics: Sequence[str], *,
                 stateful: bool) -> None:
        self.settings, self.producer, self.group, self.topics = settings, producer, group, list(topics)
        self.stateful = stateful
        self.resume_at: dict[TopicPartition, int] = {}  # first offset to publish for, per assigned partition
        self._consumer: AIOKafkaConsumer | None = None

    @abc.abstractmethod
    async def handle(self, records: Sequence[ConsumerRecord], *, replaying: bool) -> list[Produced]:
        """The records ``records`` publish (ignored when ``replaying``)."""

    @abc.abstractmethod
    def forget(self, partitions: set[TopicPartition]) -> None:
        """Drop the state of ``partitions`` (revoked, or about to be rebuilt by a replay)."""

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(group_id=self.group, enable_auto_commit=False, auto_offset_reset="earliest",
                                    **connection_options(self.settings.kafka))
        consumer.subscribe(self.topics, listener=_Rebuild(self, consumer))
        self._consumer = consumer
        await consumer.start()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=POLL_MS, max_records=MAX_RECORDS)
                if batch:
                    await self._batch([record for records in batch.values() for record in records])
                    await consumer.commit()
        finally:
            await consumer.stop()

    async def _batch(self, records: list[ConsumerRecord]) -> None:
        replayed = [r for r in records if r.offset < self.resume_at.get(TopicPartition(r.topic, r.partition), 0)]
        if replayed:
            await self.handle(replayed, replaying=True)
            records = [r for r in records if r.offset >= self.resume_at[TopicPartition(r.topic, r.partition)]]
        outputs = await self.handle(records, replaying=False) if records else []
        encoded = [item if isinstance(item, KafkaRecord) else await self.producer.encode(item) for item in outputs]
        if encoded:
            await self.producer.send(encoded)


class _Rebuild(ConsumerRebalanceListener):
    def __init__(self, stage: Stage, consumer: AIOKafkaConsumer) -> None:
        self.stage, self.consumer = stage, consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self.stage.forget(set(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        if not self.stage.stateful or not assigned:
            return
        self.stage.forget(set(assigned))
        for partition in assigned:
            self.stage.resume_at[partition] = await self.consumer.committed(partition) or 0
        await self.consumer.seek_to_beginning(*assigned)
        log.info("rebuilding baseline state by replay", stage=self.stage.group, partitions=len(assigned))
