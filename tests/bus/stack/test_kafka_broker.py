"""The real broker works with the clients Omnibus uses: aiokafka and faust-streaming.

These smokes are what decided Kafka 4.x (see bus/stack/kafka.py): idempotent ``acks=all``
producing, consumer groups, and a faust agent with a changelog-backed table all work on it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from bus.stack.kafka import KafkaBroker
from tests.fixtures.stack import ExternalServer, TopicFactory

pytestmark = pytest.mark.kafka


def test_broker_runs_on_a_free_loopback_port(kafka_broker: KafkaBroker | ExternalServer) -> None:
    if isinstance(kafka_broker, ExternalServer):
        pytest.skip("OMNIBUS_TEST_BOOTSTRAP points at a broker this session did not start")
    host, port = kafka_broker.bootstrap_servers.split(":")
    assert host == "127.0.0.1" and int(port) == kafka_broker.port != 9092
    assert kafka_broker.is_running()
    assert kafka_broker.log_path.is_file()
    assert "Kafka Server started" in kafka_broker.log_path.read_text()


async def test_single_node_settings(bootstrap_servers: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        broker_id = str(cluster["brokers"][0]["node_id"])
        response = await admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, broker_id)])
    finally:
        await admin.close()
    entries = {entry[0]: entry[1] for entry in response[0].resources[0][4]}
    assert entries["auto.create.topics.enable"] == "false"
    assert entries["offsets.topic.replication.factor"] == "1"
    assert entries["group.initial.rebalance.delay.ms"] == "0"


async def test_idempotent_produce_and_group_consume(bootstrap_servers: str, topic_factory: TopicFactory) -> None:
    topic = topic_factory(partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for i in range(30):
            await producer.send(topic, key=f"k{i % 7}".encode(), value=f"v{i}".encode())
        await producer.flush()
    finally:
        await producer.stop()

    group = f"group-{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, group_id=group,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    seen: list[bytes] = []
    try:
        async with asyncio.timeout(60):
            while len(seen) < 30:
                batches = await consumer.getmany(timeout_ms=500)
                seen += [record.value for records in batches.values() for record in records]
        await consumer.commit()
        committed = {tp.partition: await consumer.committed(tp) for tp in consumer.assignment()}
    finally:
        await consumer.stop()
    assert sorted(seen) == sorted(f"v{i}".encode() for i in range(30))
    assert len(committed) == 3 and sum(committed.values()) == 30  # the group owned all partitions


async def test_faust_agent_and_table(bootstrap_servers: str, topic_factory: TopicFactory, tmp_path: Path) -> None:
    import faust

    source = topic_factory(partitions=1, prefix="faust-in")
    app_id = f"smoke-{uuid.uuid4().hex[:8]}"
    app = faust.App(
        app_id, broker=f"kafka://{bootstrap_servers}", store="memory://", datadir=str(tmp_path),
        topic_allow_declare=True, topic_partitions=1, topic_replication_factor=1, web_enabled=False,
    )  # fmt: skip
    topic = app.topic(source, key_type=str, value_type=int, partitions=1)
    totals = app.Table("totals", default=int, partitions=1)
    done = asyncio.Event()
    applied = [-1]  # the last offset added: a record redelivered by a rebalance at start is not added twice

    @app.agent(topic)
    async def add(stream):  # type: ignore[no-untyped-def]
        async for event in stream.events():
            if event.message.offset <= applied[0]:
                continue
            applied[0] = event.message.offset
            totals[event.key] += event.value
            if totals["a"] == 6 and totals["b"] == 4:
                done.set()

    await app.start()
    try:
        for key, value in [("a", 1), ("b", 4), ("a", 2), ("a", 3)]:
            await topic.send(key=key, value=value)
        await asyncio.wait_for(done.wait(), 60)
        assert dict(totals) == {"a": 6, "b": 4}
    finally:
        await app.stop()

    # The table's changelog is a real compacted topic on the broker holding the latest values.
    changelog = f"{app_id}-totals-changelog"
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tp = TopicPartition(changelog, 0)
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        latest: dict[str, int] = {}
        async with asyncio.timeout(30):
            while await consumer.position(tp) < end:
                for record in (await consumer.getmany(tp, timeout_ms=500)).get(tp, []):
                    latest[json.loads(record.key)] = json.loads(record.value)
    finally:
        await consumer.stop()
    assert latest == {"a": 6, "b": 4}
