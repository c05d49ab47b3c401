from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bus.app import create_app
from bus.commit_watchdog import STALL_RECOVERIES, StallDetector
from tests.support.settings import isolated_settings


def test_a_partition_is_stalled_only_when_processed_records_wait_on_an_unmoved_commit() -> None:
    detector = StallDetector(stall_after_s=60)
    assert detector.check({"p0": (366, 40), "p1": (10, 0)}, now_s=0) == []
    assert detector.check({"p0": (366, 80), "p1": (10, 0)}, now_s=59) == []
    assert detector.check({"p0": (366, 120), "p1": (10, 0)}, now_s=60) == ["p0"]  # #13: held at 366 while consuming
    assert detector.check({"p0": (370, 2), "p1": (10, 0)}, now_s=61) == []  # it moved: the clock starts again
    assert detector.check({"p0": (370, 2)}, now_s=120) == []
    assert detector.check({"p0": (370, 2)}, now_s=121) == ["p0"]


def test_an_idle_partition_and_one_that_was_recovered_are_not_stalled() -> None:
    detector = StallDetector(stall_after_s=5)
    assert detector.check({"p": (None, 0)}, now_s=0) == []
    assert detector.check({"p": (None, 0)}, now_s=100) == []  # nothing processed: nothing to commit
    assert detector.check({"p": (3, 5)}, now_s=100) == []
    assert detector.check({"p": (3, 5)}, now_s=105) == ["p"]
    detector.restart("p", 3, 105)
    assert detector.check({"p": (3, 5)}, now_s=106) == []


@pytest.mark.kafka
@pytest.mark.timeout(120)
async def test_a_gap_in_acknowledged_offsets_is_found_and_closed_on_the_broker(
    bootstrap_servers: str, topic_factory, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """faust-streaming #596: two records are never acknowledged (as when recovery clears the queues); faust
    commits up to them and then never again. The watchdog reports the partition and seeks back to the
    committed offset, the records are processed again, and the partition commits to its end."""
    topic = topic_factory(1)
    settings = isolated_settings(bootstrap_servers, partitions=1)
    app = create_app("watchdog-test", settings, commit_stall_after_s=2.0, commit_watch_interval_s=0.5,
                     broker_commit_interval=0.3, datadir=str(tmp_path))
    seen: list[int] = []

    async def process(stream: Any) -> None:
        async for event in stream.events():
            seen.append(event.message.offset)
            if event.message.offset in (3, 4) and seen.count(event.message.offset) == 1:
                event.message.acked = True  # its acknowledgement never reaches the consumer: a gap

    app.agent(app.topic(topic, key_serializer="raw", value_serializer="raw"), name="watchdog-test.process")(process)
    recovered = STALL_RECOVERIES.labels("watchdog-test", topic, "0")._value.get()  # noqa: SLF001
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    for n in range(10):
        await producer.send_and_wait(topic, f"v{n}".encode(), key=b"k")
    await producer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await app.start()
    await admin.start()
    try:
        committed, deadline = -1, time.monotonic() + 60
        while committed < 10 and time.monotonic() < deadline:
            offsets = await admin.list_consumer_group_offsets(app.conf.id)
            committed = offsets[TopicPartition(topic, 0)].offset if TopicPartition(topic, 0) in offsets else -1
            await asyncio.sleep(0.3)
    finally:
        await admin.close()
        await app.stop()
    assert committed == 10
    # the gap's records were processed again, nothing skipped (more copies: a rebalance at start may redeliver too)
    assert seen.count(3) >= 2 and seen.count(4) >= 2 and set(seen) == set(range(10))
    assert STALL_RECOVERIES.labels("watchdog-test", topic, "0")._value.get() >= recovered + 1  # noqa: SLF001
