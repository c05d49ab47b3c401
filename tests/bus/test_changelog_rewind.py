"""Changelog records a fetch returns for a paused partition are sought back, not lost (CI: a restore stall and a
standby ConsistencyError, both under load)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from faust.types import TP

from bus import changelog_rewind
from bus.changelog_rewind import Fetched, rewind, seek_back, undelivered

CHANGELOG, STREAM = "p.identity-identity-nodes-changelog", "p.identifiers.observed"


def record(topic: str, partition: int, offset: int) -> ConsumerRecord:
    return ConsumerRecord(topic, partition, offset, 0, 0, b"k", b"v", None, 1, 1, [])


def consumer(flowing: bool = True, buffered: frozenset[TP] = frozenset()) -> Any:
    return SimpleNamespace(flow_active=flowing, _buffered_partitions=set(buffered),
                           app=SimpleNamespace(tables=SimpleNamespace(changelog_topics={CHANGELOG})))


def test_the_changelog_records_faust_would_drop_are_taken_out_with_their_offsets() -> None:
    restoring, paused, stream_paused = TP(CHANGELOG, 3), TP(CHANGELOG, 1), TP(STREAM, 0)
    records = {restoring: [record(CHANGELOG, 3, 425), record(CHANGELOG, 3, 426)],
               paused: [record(CHANGELOG, 1, 7 + i) for i in range(18)],
               stream_paused: [record(STREAM, 0, 3)]}
    taken = undelivered(consumer(), records, active={restoring})
    assert taken == {paused: Fetched(7, 25)}  # sought back to 7; the fetch had moved the position to 25
    assert set(records) == {restoring, stream_paused}  # faust's perform_seek takes stream partitions back itself


def test_while_faust_s_flow_is_stopped_every_changelog_record_is_taken_out() -> None:
    restoring, stream = TP(CHANGELOG, 3), TP(STREAM, 0)
    records = {restoring: [record(CHANGELOG, 3, 425)], stream: [record(STREAM, 0, 3)]}
    assert undelivered(consumer(flowing=False), records, active={restoring, stream}) == {restoring: Fetched(425, 426)}
    assert set(records) == {stream}


def test_buffered_partitions_and_a_client_only_fetch_are_delivered() -> None:
    buffered = TP(CHANGELOG, 2)
    records = {buffered: [record(CHANGELOG, 2, 1)], TP(CHANGELOG, 4): [record(CHANGELOG, 4, 9)]}
    assert undelivered(consumer(buffered=frozenset({buffered})), dict(records), active={TP(CHANGELOG, 4)}) == {}
    assert undelivered(consumer(), dict(records), active=None) == {}


async def _produce(bootstrap: str, topic: str, partitions: int, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for partition in range(partitions):
            for i in range(count):
                await producer.send_and_wait(topic, b"v%d" % i, key=b"k%d" % i, partition=partition)
    finally:
        await producer.stop()


async def _drain(kafka: AIOKafkaConsumer, partitions: set[TopicPartition], want: set[TopicPartition],
                 timeout_s: float = 60.0) -> dict[TopicPartition, list[ConsumerRecord]]:
    """aiokafka's fetch as faust calls it (``Fetcher.fetched_records(partitions)``) until ``want`` all came."""
    got: dict[TopicPartition, list[ConsumerRecord]] = {}
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not want <= got.keys():
        assert asyncio.get_running_loop().time() < deadline, f"only {sorted(got)} fetched"
        for tp, records in (await kafka._fetcher.fetched_records(partitions, timeout=1.0)).items():  # noqa: SLF001
            got.setdefault(tp, []).extend(records)
    return got


@pytest.mark.kafka
async def test_a_fetch_with_no_active_partition_returns_paused_ones_and_seeking_back_fetches_them_again(
    bootstrap_servers: str, topic_factory  # type: ignore[no-untyped-def]
) -> None:
    """aiokafka's ``fetched_records`` filters with ``if partitions and tp not in partitions``: the empty set faust
    leaves when it pauses its last active partition returns every partition's records, with the position moved
    past them. ``seek_back`` puts the position back, unless the partition was sought meanwhile."""
    topic = topic_factory(3)
    await _produce(bootstrap_servers, topic, 3, 5)
    restoring, paused, sought = (TopicPartition(topic, p) for p in range(3))
    kafka = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)
    await kafka.start()
    try:
        kafka.assign([restoring, paused, sought])
        await kafka.seek_to_beginning(restoring, paused, sought)
        assert set(await _drain(kafka, {restoring}, {restoring})) == {restoring}  # a set filters
        dropped = await _drain(kafka, set(), {paused, sought})  # the empty set does not
        assert [r.offset for r in dropped[paused]] == [0, 1, 2, 3, 4] and await kafka.position(paused) == 5
        kafka.seek(sought, 2)  # faust's recovery sought this one meanwhile
        moved = await seek_back(kafka, {paused: Fetched(0, 5), sought: Fetched(0, 5)})
        assert moved == [paused]
        assert await kafka.position(paused) == 0 and await kafka.position(sought) == 2
        again = await _drain(kafka, {paused, sought}, {paused, sought})
        assert [r.offset for r in again[paused]] == [0, 1, 2, 3, 4]  # nothing lost
        assert [r.offset for r in again[sought]] == [2, 3, 4]
        assert await seek_back(kafka, {TopicPartition(topic, 9): Fetched(0, 5)}) == []  # not assigned: left
    finally:
        await kafka.stop()


@pytest.mark.kafka
@pytest.mark.timeout(240)
async def test_a_faust_worker_keeps_the_changelog_records_its_fetch_returned_while_every_partition_was_paused(
    bootstrap_servers: str, topic_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    """faust's own fetch path, on a running worker: its restored changelog partition is paused (faust) but fetched
    (aiokafka), so the worker's own changelog writes wait in aiokafka's buffer. faust pauses every partition while
    a fetch waits (as at a rebalance or the end of a restore), a stream record arrives, and the fetch returns the
    changelog records too. faust alone drops them with the position past them (a later restore from here would
    wait for them for ever); here the position goes back to them."""
    from bus.app import create_app
    from bus.fenced_table import fenced_table
    from tests.support.settings import isolated_settings

    sought: list[Any] = []

    async def recording(consumer: Any, taken: Any) -> list[Any]:
        done = await rewind(consumer, taken)
        sought.extend(done)
        return done

    monkeypatch.setattr(changelog_rewind, "rewind", recording)
    topic = topic_factory(1)
    settings = isolated_settings(bootstrap_servers, partitions=1)
    app = create_app("rewind-test", settings, datadir=str(tmp_path))
    # faust's own fetch, which returns the paused partitions' records when its set empties while it waits;
    # bus.fetch_active's no longer does (tests/bus/test_fetch_active.py): this is the net behind it
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    faust_fetch = AIOKafkaConsumerThread._fetch_records.__wrapped__  # type: ignore[attr-defined]  # noqa: SLF001
    monkeypatch.setattr(AIOKafkaConsumerThread, "_fetch_records", faust_fetch)
    table = fenced_table(app, "rewind-test", settings.topics, key_type=bytes, value_type=bytes, partitions=1)
    written: list[bytes] = []

    async def write(stream: Any) -> None:
        async for event in stream.events():
            table[event.key] = event.value
            written.append(event.key)

    app.agent(app.topic(topic, key_serializer="raw", value_serializer="raw"), name="rewind-test.write")(write)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    await app.start()
    consumer = app.consumer
    thread = consumer._thread  # noqa: SLF001
    kafka = thread._ensure_consumer()  # noqa: SLF001
    changelog, stream = TP(table.changelog_topic_name, 0), TP(topic, 0)

    async def until(condition: Any, what: str, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            assert time.monotonic() < deadline, f"waited {timeout_s} s for {what}"
            await asyncio.sleep(0.1)

    async def position() -> int:
        return int(await thread.call_thread(kafka.position, changelog))

    try:
        await producer.send_and_wait(topic, b"v", key=b"k0", partition=0)
        await until(lambda: b"k0" in written and app.tables.recovery.completed.is_set(), "the worker to write")
        await app.producer.flush()
        restored = await position()  # the restore read to here; the records below are in the table
        for n in range(1, 6):
            await producer.send_and_wait(topic, b"v", key=b"k%d" % n, partition=0)
        await until(lambda: len(written) == 6, "five more writes")
        await app.producer.flush()
        await until(lambda: changelog in kafka._fetcher._records, "aiokafka to fetch the changelog writes")  # noqa: SLF001
        for attempt in range(20):
            consumer.resume_partitions({stream})
            await asyncio.sleep(0.3)  # faust's fetch waits for the stream partition
            consumer.pause_partitions(consumer.assignment())  # its set of active partitions is empty now
            await producer.send_and_wait(topic, b"v", key=b"late%d" % attempt, partition=0)
            await asyncio.sleep(1.5)  # the waiting fetch wakes up and returns every partition's records
            if changelog in sought or await position() != restored:
                break  # the fetch returned the paused changelog partition
        assert changelog in sought or await position() != restored, "the fetch never returned the changelog"
        deadline = time.monotonic() + 30
        while await position() != restored and time.monotonic() < deadline:  # sought back right after the fetch
            await asyncio.sleep(0.2)
        assert await position() == restored  # nothing of the changelog was skipped
    finally:
        await app.stop()
        await producer.stop()
