"""Records faust dropped while its flow was suspended are read again on a partition never committed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faust.transport.consumer import Consumer
from faust.types import TP

from bus.app import create_app
from bus.seek_uncommitted import install, uncommitted
from tests.support.settings import isolated_settings


def test_partitions_seek_to_committed_leaves_where_they_were_are_those_without_a_commit_or_at_0() -> None:
    committed = {TP("p.contact.events.v1", 1): None, TP("p.contact.events.v1", 0): 0,
                 TP("p.contact.events.v1", 2): 35, TP("p.identity-nodes-changelog", 0): None}
    assert uncommitted(committed, {"p.identity-nodes-changelog"}) == [
        TP("p.contact.events.v1", 0), TP("p.contact.events.v1", 1)]


def test_installed_once_on_faust_s_consumer() -> None:
    install()
    patched = Consumer.perform_seek
    install()
    assert Consumer.perform_seek is patched and patched.omnibus_seek_uncommitted  # type: ignore[attr-defined]


async def _committed(admin: AIOKafkaAdminClient, group: str, tp: TopicPartition) -> int | None:
    offsets = await admin.list_consumer_group_offsets(group)
    return offsets[tp].offset if tp in offsets else None


@pytest.mark.kafka
@pytest.mark.timeout(120)
async def test_records_dropped_during_a_suspended_flow_are_processed_on_a_partition_never_committed(
    bootstrap_servers: str, topic_factory, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """The state a rebalance leaves (seen with two identity workers, #9/#13): faust's consumer fetched the
    first records of a partition that has no committed offset while its flow was suspended, dropped them and
    called ``perform_seek``; aiokafka's ``seek_to_committed`` leaves such a partition where it is, so the
    records were never processed and the partition never committed. Here the fetch-and-drop is the
    consumer's position moved past the records during the suspended flow; then faust's own resume sequence
    (Recovery: ``perform_seek``, ``resume_flow``, ``flow_control.resume``)."""
    topic = topic_factory(2)
    settings = isolated_settings(bootstrap_servers, partitions=2)
    app = create_app("seek-test", settings, broker_commit_interval=0.3, datadir=str(tmp_path))
    seen: list[tuple[int, int]] = []

    async def process(stream: Any) -> None:
        async for event in stream.events():
            seen.append((event.message.partition, event.message.offset))

    app.agent(app.topic(topic, key_serializer="raw", value_serializer="raw"), name="seek-test.process")(process)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await producer.start()
    await admin.start()
    await app.start()
    quiet, busy = TopicPartition(topic, 1), TopicPartition(topic, 0)
    try:
        await producer.send_and_wait(topic, b"ready", partition=busy.partition)
        deadline = time.monotonic() + 60
        while (0, 0) not in seen and time.monotonic() < deadline:  # assigned, recovered and consuming
            await asyncio.sleep(0.1)
        assert (0, 0) in seen
        app.flow_control.suspend()  # a rebalance begins (faust: on_rebalance_start)
        app.consumer.stop_flow()
        for n in range(5):
            await producer.send_and_wait(topic, f"first {n}".encode(), partition=quiet.partition)
        aiokafka_consumer = app.consumer._thread._ensure_consumer()  # noqa: SLF001
        aiokafka_consumer.seek(quiet, 5)  # fetched while the flow was suspended, and dropped
        await app.consumer.perform_seek()  # faust's Recovery, once the tables are restored
        app.consumer.resume_flow()
        app.flow_control.resume()
        deadline = time.monotonic() + 60  # ends as soon as committed; a loaded machine commits seconds late
        while await _committed(admin, app.conf.id, quiet) != 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
        committed = await _committed(admin, app.conf.id, quiet)
    finally:
        await app.stop()
        await admin.close()
        await producer.stop()
    assert [offset for partition, offset in seen if partition == 1] == [0, 1, 2, 3, 4]
    assert committed == 5
