"""``TopicFollower``: every partition from offset 0, then following; caught up once the start's end offsets are read.

Followed topics are compacted (a record needs a key).
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord

from bus.follow import TopicFollower
from bus.topics import HANDOFF_TIER_FACTS
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


class Recorder(TopicFollower):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.seen: list[bytes] = []
        self.caught_up_after = -1

    def on_record(self, record: ConsumerRecord) -> None:
        self.seen.append(record.value)

    def on_caught_up(self) -> None:
        self.caught_up_after = len(self.seen)


async def test_reads_every_partition_from_the_start_then_follows(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=3)
    topic, partitions = HANDOFF_TIER_FACTS.name(settings.topics), HANDOFF_TIER_FACTS.partition_count(settings.topics)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        for index in range(6):
            await producer.send_and_wait(topic, f"before-{index}".encode(), key=f"k{index}".encode(),
                                         partition=index % partitions)
        follower = Recorder(settings, [HANDOFF_TIER_FACTS], "test-follower", poll_ms=50)
        await follower.start()
        try:
            for _ in range(200):
                if follower.caught_up:
                    break
                await asyncio.sleep(0.05)
            assert follower.caught_up and follower.caught_up_after == 6
            await producer.send_and_wait(topic, b"after", key=b"k-after", partition=partitions - 1)
            for _ in range(200):
                if b"after" in follower.seen:
                    break
                await asyncio.sleep(0.05)
            assert sorted(follower.seen) == sorted([f"before-{i}".encode() for i in range(6)] + [b"after"])
        finally:
            await follower.stop()
    finally:
        await producer.stop()


async def test_empty_topics_are_caught_up_at_once(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=2)
    follower = Recorder(settings, [HANDOFF_TIER_FACTS], "test-follower", poll_ms=50)
    await follower.start()
    try:
        assert follower.caught_up and follower.caught_up_after == 0
    finally:
        await follower.stop()
