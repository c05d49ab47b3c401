"""Consumer lag before judging: records a processor has not read yet are not lost.

``omnibus verify`` compares each processor's outputs with a recomputation from its input topics. Records the
processor has not read yet (its consumer group's committed offset below the partition's end offset) have no
output *yet*: judged, they would count as "lost" (verify run right after a 3,000-line import reported
"lost 9999" and exit 1; the same run verified clean once identity's ``omnibus_consumer_lag`` was 0). So the lag is
read first, from the broker, as ``kafka-consumer-groups --describe`` reads it: per partition, the log end offset
minus the group's committed offset (minus the log start offset where the group committed nothing).

``unread_of`` is the pure rule; ``read_unread`` asks the broker; ``wait_unread`` asks again until nothing waits or a
deadline passes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from bus.admin_client import AdminClient
from bus.config import OmnibusSettings
from bus.consume import start_or_close
from bus.kafka_client import connection_options
from bus.plural import counted

POLL_S = 2.0  # between two reads of the lag while ``omnibus verify --wait`` waits


@dataclass(frozen=True, slots=True)
class Unread:
    """``records`` on ``topic`` the consumer group ``group`` of ``processor`` has not committed yet."""

    processor: str
    group: str
    topic: str
    records: int

    def line(self) -> str:
        """What an operator reads: who, how many, where, and what to do."""
        return (f"{self.processor} has {counted(self.records, 'record')} not read yet on {self.topic} (consumer group "
                f"{self.group}); run again when its consumer lag is 0, or with --wait SECONDS")


@dataclass(frozen=True, slots=True)
class Reader:
    """One processor as the lag is read for it: its name, its consumer group (the faust app id,
    ``bus.app.group_id``) and the topics it reads that verify judges it on."""

    processor: str
    group: str
    topics: tuple[str, ...]


def unread_of(reader: Reader, committed: Mapping[TopicPartition, int], starts: Mapping[TopicPartition, int],
              ends: Mapping[TopicPartition, int]) -> list[Unread]:
    """Per topic of ``reader`` (in its order), the records between the group's position and the end: ``ends`` minus
    ``committed`` (``starts`` for a partition the group committed nothing on). Topics with none are left out."""
    out = []
    for topic in reader.topics:
        waiting = sum(max(end - committed.get(tp, starts.get(tp, 0)), 0) for tp, end in ends.items()
                      if tp.topic == topic)
        if waiting:
            out.append(Unread(reader.processor, reader.group, topic, waiting))
    return out


async def read_unread(settings: OmnibusSettings, readers: Sequence[Reader]) -> list[Unread]:
    """The records each of ``readers`` has not read yet, from the broker's committed and end offsets."""
    options = connection_options(settings.kafka)
    consumer = await start_or_close(AIOKafkaConsumer(**options, enable_auto_commit=False, group_id=None))
    admin = AdminClient(**options)
    try:
        await admin.start()
        out: list[Unread] = []
        for reader in readers:
            tps = [TopicPartition(topic, p) for topic in reader.topics
                   for p in sorted(consumer.partitions_for_topic(topic) or await _refreshed(consumer, topic))]
            if not tps:
                continue
            ends, starts = await consumer.end_offsets(tps), await consumer.beginning_offsets(tps)
            offsets = await admin.list_consumer_group_offsets(reader.group, partitions=tps)
            committed = {tp: meta.offset for tp, meta in offsets.items() if meta is not None and meta.offset >= 0}
            out += unread_of(reader, committed, starts, ends)
        return out
    finally:
        await admin.close()
        await consumer.stop()


async def _refreshed(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # noqa: SLF001 - aiokafka's one way to learn a new topic
    return consumer.partitions_for_topic(topic) or set()


async def wait_unread(settings: OmnibusSettings, readers: Sequence[Reader], wait_s: float) -> list[Unread]:
    """``read_unread``, again every ``POLL_S`` until nothing is unread or ``wait_s`` seconds passed; what is
    still unread then."""
    deadline = time.monotonic() + wait_s
    while True:
        unread = await read_unread(settings, readers)
        if not unread or time.monotonic() >= deadline:
            return unread
        await asyncio.sleep(min(POLL_S, max(deadline - time.monotonic(), 0.0)))
