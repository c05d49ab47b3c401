import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from bus.producer import EventProducer, Outgoing
from bus.producer_batches import PartitionBatches
from bus.serde import build_serde
from bus.topic import KafkaRecord
from bus.topics import CONTACT_EVENTS
from tests.support.kafka_io import read_events
from tests.support.samples import identifiers_observed
from tests.support.settings import settings_with_topics

CALLERS = 8
PER_CALL = 40


@pytest.mark.kafka
async def test_concurrent_callers_share_batches_and_each_record_keeps_its_offset(bootstrap_servers: str) -> None:
    """Eight callers publishing at once through ``send_batched`` (as eight adapter requests do): their records
    travel in shared batches, fewer than one batch per call and partition, and none waits so long that
    aiokafka gives up on it (a batch per call made callers wait behind each other, #9 build 6). Every record
    answers its own partition and offset, and each key keeps its order."""
    settings = await settings_with_topics(bootstrap_servers, partitions=3, producer={"max_batch_size": 8 * 1024})
    serializer, _ = build_serde(settings.registry)
    topic = CONTACT_EVENTS.name(settings.topics)
    calls = [[Outgoing(topic, f"customer-{n % 5}", identifiers_observed(f"+86139{c:04d}{n:04d}", sequence=n))
              for n in range(PER_CALL)] for c in range(CALLERS)]
    async with EventProducer(settings, serializer) as producer:
        encoded = [[await producer.encode(item) for item in call] for call in calls]
        handed = 0
        send_batch = producer._producer.send_batch  # noqa: SLF001 - counting the batches handed to aiokafka

        async def counted(*args: object, **kwargs: object) -> object:
            nonlocal handed
            handed += 1
            return await send_batch(*args, **kwargs)

        producer._producer.send_batch = counted  # type: ignore[method-assign]  # noqa: SLF001
        metadata = await asyncio.gather(*(producer.publish_many(call, records, batched=True)
                                          for call, records in zip(calls, encoded, strict=True)))
    assert handed < CALLERS * 3, f"{handed} batches for {CALLERS} calls on 3 partitions: nothing was shared"
    landed = {(r.partition, r.offset): r for r in await read_events(settings, CONTACT_EVENTS)}
    assert len(landed) == CALLERS * PER_CALL
    for call, answers in zip(calls, metadata, strict=True):
        for item, meta in zip(call, answers, strict=True):
            record = landed[(meta.partition, meta.offset)]
            assert record.event.value["envelope"]["event_id"] == item.event.value["envelope"]["event_id"]
            assert record.key == item.key
        for k in range(5):  # a key's records of one call land in the order it gave them
            offsets = [answers[n].offset for n in range(k, PER_CALL, 5)]
            assert offsets == sorted(offsets)


class Builder:
    """aiokafka's ``BatchBuilder`` as ``PartitionBatches`` uses it: ``append`` answers the record's place."""

    def __init__(self) -> None:
        self.count = 0

    def append(self, **_: Any) -> Any:
        self.count += 1
        return SimpleNamespace(offset=self.count - 1, timestamp=0)

    def close(self) -> None:
        pass


class Producer:
    """One partition; ``send_batch`` waits for ``accepting`` (the accumulator busy with the batch before) and
    answers the delivery future as aiokafka does: a shield of the batch's own future, the same for all its callers."""

    def __init__(self) -> None:
        self._metadata = SimpleNamespace(partitions_for_topic=lambda topic: {0},
                                         available_partitions_for_topic=lambda topic: {0})
        self._partitioner = lambda key, known, available: 0
        self.accepting = asyncio.Event()
        self.delivered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def create_batch(self) -> Builder:
        return Builder()

    async def send_batch(self, builder: Builder, topic: str, partition: int) -> Any:
        await self.accepting.wait()
        return asyncio.shield(self.delivered)


async def two_callers_one_batch(producer: Producer) -> tuple[asyncio.Future[Any], asyncio.Future[Any]]:
    batches = PartitionBatches(producer)  # type: ignore[arg-type]
    first = asyncio.ensure_future(batches.place([KafkaRecord("t", b"a", b"1")]))
    second = asyncio.ensure_future(batches.place([KafkaRecord("t", b"b", b"2")]))
    await asyncio.sleep(0)
    return first, second


@pytest.mark.parametrize("cancelled_while", ["handed_over", "acknowledged"])
async def test_a_caller_cancelled_while_it_waits_leaves_the_callers_sharing_its_batch_unharmed(
        cancelled_while: str) -> None:
    """Cancelled while its batch waited for the accumulator (``handed``) or for Kafka (the delivery), a caller
    cancelled the batch's shared future for every caller in it: they got a CancelledError nobody sent them, which
    ended identity's bulk stage loops as if stopped (processors/identity/bulk_intake.py)."""
    producer = Producer()
    first, second = await two_callers_one_batch(producer)
    if cancelled_while == "acknowledged":
        producer.accepting.set()
        await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.sleep(0.01)
    producer.accepting.set()
    producer.delivered.set_result(SimpleNamespace(topic="t", partition=0, topic_partition=None, offset=10,
                                                  timestamp=-1, timestamp_type=0, log_start_offset=0))
    [meta] = await asyncio.wait_for(second, 1)
    assert first.cancelled() and meta.offset == 11  # its place in the shared batch
