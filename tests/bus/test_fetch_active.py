"""A worker's fetch returns only records faust hands on (``bus.fetch_active``): none skipped past at a start.

The sample (fetch47): a worker that started sometimes got a partition's first records only after the lag watchdog's
seek a minute later (the demo's offer step gave up). faust asked aiokafka for its live active-partition set, which a
table restore emptied while the fetch waited; aiokafka read the empty set as every partition, moved the positions of
paused stream partitions past their records, and faust dropped those records. The rest of the kind: a partition
paused while the fetch waited (its records given back), a partition active throughout (handed on as before).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from bus import fetch_active
from bus.app import create_app
from bus.config import OmnibusSettings


def record(tp: TopicPartition, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", b"v", None, 1, 1, ())


A, B = TopicPartition("t", 0), TopicPartition("t", 1)


def test_a_partition_neither_active_nor_buffered_is_taken_back_from_its_first_record() -> None:
    fetched = {A: [record(A, 7), record(A, 8)], B: [record(B, 3)]}
    assert fetch_active.taken_back(fetched, active={B}, buffered=set()) == {A: 7}
    assert fetch_active.taken_back(fetched, active=set(), buffered={A}) == {B: 3}  # faust hands buffered ones on
    assert fetch_active.taken_back(fetched, active={A, B}, buffered=set()) == {}


def test_the_live_view_is_never_empty_and_follows_the_set() -> None:
    live: set[Any] = set()
    view = fetch_active.LiveView(live)
    assert view and A not in view  # aiokafka's `if partitions and tp not in partitions`: nothing, not everything
    live.add(A)
    assert A in view and B not in view


@dataclass
class FaustSide:
    """What the patched fetch reads of faust's consumer."""

    flow_active: bool = True
    _buffered_partitions: set[Any] = field(default_factory=set)


@dataclass
class Thread:
    consumer: FaustSide = field(default_factory=FaustSide)


def test_installed_by_every_app_once() -> None:
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    create_app("fetch-active-test", OmnibusSettings())
    patched = AIOKafkaConsumerThread._fetch_records  # noqa: SLF001
    assert getattr(patched, "omnibus_fetch_active", False)
    fetch_active.install()
    assert AIOKafkaConsumerThread._fetch_records is patched  # noqa: SLF001


# --- on the real broker: aiokafka's own fetcher, as faust's consumer thread drives it -------------------------


@asynccontextmanager
async def assigned(bootstrap: str, topic: str, records: dict[int, int]) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer assigned every partition of ``topic`` (two), after ``records`` ({partition: how many}) were
    produced; its positions at the log start."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for partition, count in records.items():
            for _ in range(count):
                await producer.send_and_wait(topic, b"v", key=b"k", partition=partition)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        await consumer.seek_to_beginning()
        yield consumer
    finally:
        await consumer.stop()


async def until(check: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not seen in time"
        await asyncio.sleep(0.05)


def faust_fetch() -> Any:
    """faust's consumer thread's fetch, as ``bus.app.create_app`` leaves it."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    create_app("fetch-active-test", OmnibusSettings())
    return AIOKafkaConsumerThread._fetch_records  # noqa: SLF001


@pytest.mark.kafka
async def test_a_fetch_while_nothing_is_active_returns_nothing_and_moves_no_position(
        bootstrap_servers: str, topic_factory: Callable[..., str]) -> None:
    """The sample: faust's set emptied (a restore's changelogs paused) while the stream partitions wait paused."""
    topic = topic_factory(partitions=2)
    async with assigned(bootstrap_servers, topic, {0: 2, 1: 1}) as consumer:
        stream = TopicPartition(topic, 0)
        await until(lambda: stream in consumer._fetcher._records)  # noqa: SLF001 - prefetched, as in a worker
        fetched = await faust_fetch()(Thread(), consumer, set(), timeout=0.5)
        assert fetched == {}
        assert await consumer.position(stream) == 0  # not moved past records nobody handed on


@pytest.mark.kafka
async def test_a_partition_paused_while_the_fetch_waits_is_fetched_again_once_resumed(
        bootstrap_servers: str, topic_factory: Callable[..., str]) -> None:
    topic = topic_factory(partitions=2)
    async with assigned(bootstrap_servers, topic, {0: 2}) as consumer:
        stream, restore = TopicPartition(topic, 0), TopicPartition(topic, 1)
        await until(lambda: stream in consumer._fetcher._records)  # noqa: SLF001
        active = {restore}  # faust's live set: only the partition being read, the stream partition paused
        fetch = asyncio.ensure_future(faust_fetch()(Thread(), consumer, active, timeout=3.0))
        await asyncio.sleep(0.3)
        active.clear()  # the restore is done: faust pauses its partition while the fetch still waits
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"v", key=b"k", partition=1)  # wakes the waiting fetch
        finally:
            await producer.stop()
        assert await fetch == {}
        assert await consumer.position(stream) == 0
        assert await consumer.position(restore) == 0  # given back: fetched again once faust resumes it
        active.update({stream, restore})  # resumed: every record handed on, from the first
        got: dict[Any, list[int]] = {}
        while sum(map(len, got.values())) < 3:
            for tp, batch in (await faust_fetch()(Thread(), consumer, active, timeout=5.0)).items():
                got.setdefault(tp, []).extend(r.offset for r in batch)
        assert got == {stream: [0, 1], restore: [0]}


@pytest.mark.kafka
async def test_a_partition_resumed_while_the_fetch_waits_is_handed_on_by_that_fetch(
        bootstrap_servers: str, topic_factory: Callable[..., str]) -> None:
    topic = topic_factory(partitions=2)
    async with assigned(bootstrap_servers, topic, {0: 2}) as consumer:
        stream, restore = TopicPartition(topic, 0), TopicPartition(topic, 1)
        await until(lambda: stream in consumer._fetcher._records)  # noqa: SLF001
        active = {restore}
        fetch = asyncio.ensure_future(faust_fetch()(Thread(), consumer, active, timeout=20.0))
        await asyncio.sleep(0.3)
        active.add(stream)  # the end of the restore: faust resumes the stream partition
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"v", key=b"k", partition=1)  # a record wakes the waiting fetch
        finally:
            await producer.stop()
        fetched = await asyncio.wait_for(fetch, 10.0)  # by this fetch, not after its 20 s
        assert [r.offset for r in fetched[stream]] == [0, 1]
