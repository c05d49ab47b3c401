"""``bus.consume.stop_on_failure``: a ``stream.events()`` agent whose body fails loses nothing (tester9 #1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bus.app import create_app
from bus.consume import raw_record, stop_on_failure
from bus.topics import IDENTIFIERS_OBSERVED
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


async def committed(bootstrap_servers: str, group: str, tp: TopicPartition) -> int | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.committed(tp)
    finally:
        await consumer.stop()


@pytest.mark.timeout(180)
async def test_a_record_whose_handling_failed_is_read_again_by_the_next_worker(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    """The first worker fails on record 0 (an outage: the registry unreachable); it stops and commits nothing
    past record 0, and the next worker of the group handles records 0 and 1."""
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    topic = IDENTIFIERS_OBSERVED.name(settings.topics)
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await raw.start()
    for value in (b"first", b"second"):
        await raw.send_and_wait(topic, value, key=b"k")
    await raw.stop()

    async def run(attempt: str, fail: bool) -> list[bytes]:
        app = create_app("stop-on-failure-test", settings, datadir=str(tmp_path / attempt))
        seen: list[bytes] = []
        done = asyncio.Event()

        @app.agent(app.topic(topic, key_serializer="raw", value_serializer="raw"))
        async def handle(stream):  # type: ignore[no-untyped-def]
            async for event in stream.events():
                async with stop_on_failure(app, event):
                    if fail:
                        done.set()
                        raise RuntimeError("schema registry unreachable")
                    seen.append(raw_record(event.message).value)
                    if len(seen) == 2:
                        done.set()

        await app.start()
        try:
            await asyncio.wait_for(done.wait(), 90)
            await asyncio.sleep(0 if not fail else 2)  # a crash's commit, if any, would land now
        finally:
            await app.stop()
        return seen

    assert await run("failing", fail=True) == []
    app_id = create_app("stop-on-failure-test", settings, datadir=str(tmp_path / "probe")).conf.id
    assert (await committed(bootstrap_servers, app_id, TopicPartition(topic, 0))) in (None, 0)
    assert await run("next", fail=False) == [b"first", b"second"]
