"""Helpers of the identity broker tests: workers in this process, quiet detection, reading results."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from bus.config import OmnibusSettings
from bus.producer import EventProducer, Outgoing
from bus.serde import SerdeContext, build_serde
from bus.topics import CUSTOMER_IDENTIFIERS, IDENTITY_GRAPH, TopicSpec
from processors.identity.agent import IdentityProcessor, input_topics
from processors.identity.assignments import current_rows, tombstone_version
from processors.identity.config import IdentitySettings
from processors.identity.wire import partition_of
from tests.support.kafka_io import read_raw


@asynccontextmanager
async def running_workers(
    settings: OmnibusSettings, identity: IdentitySettings, datadir: Path, count: int,
    web_ports: list[int | None] | None = None,
) -> AsyncIterator[list[IdentityProcessor]]:
    """``count`` workers of one consumer group, each a faust app of its own, started together."""
    ports = web_ports or [None] * count
    for i in range(count):
        (datadir / f"worker-{i}").mkdir(parents=True, exist_ok=True)
    workers = [
        IdentityProcessor(settings, identity, web_port=ports[i], datadir=str(datadir / f"worker-{i}"),
                          broker_commit_interval=0.5, web_host="127.0.0.1")
        for i in range(count)
    ]
    await asyncio.gather(*(worker.start() for worker in workers))
    try:
        yield workers
    finally:
        for worker in workers:
            await worker.stop()


async def _lag(admin: AIOKafkaAdminClient, group: str, partitions: list[TopicPartition],
               ends: dict[TopicPartition, int]) -> int:
    committed = await admin.list_consumer_group_offsets(group)
    return sum(max(ends[tp] - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0), 0)
               for tp in partitions)


async def wait_until_quiet(settings: OmnibusSettings, specs: list[TopicSpec], group: str,
                           timeout_s: float = 90.0, quiet_s: float = 2.0) -> None:
    """Until the group has committed every record of ``specs`` and nothing new arrived for ``quiet_s``."""
    from aiokafka import AIOKafkaConsumer

    names = [spec.name(settings.topics) for spec in specs]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        partitions = [TopicPartition(name, p) for name, spec in zip(names, specs, strict=True)
                      for p in range(spec.partition_count(settings.topics))]
        deadline, quiet_since, last_ends = time.monotonic() + timeout_s, None, None
        while time.monotonic() < deadline:
            ends = await consumer.end_offsets(partitions)
            lag = await _lag(admin, group, partitions, ends)
            if lag == 0 and ends == last_ends:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= quiet_s:
                    return
            else:
                quiet_since = None
            last_ends = ends
            await asyncio.sleep(0.5)
        raise TimeoutError(f"identity workers did not settle within {timeout_s} s (last lag {lag})")
    finally:
        await consumer.stop()
        await admin.close()


def watched_topics(worker: IdentityProcessor) -> list[TopicSpec]:
    return [*input_topics(worker.book), IDENTITY_GRAPH]


@dataclass(frozen=True)
class OneWorker:
    """One identity worker running on a broker, with a producer on its topics (``conftest.identity_worker``)."""

    config: OmnibusSettings
    worker: IdentityProcessor
    producer: EventProducer

    async def quiet(self, timeout_s: float = 90.0) -> None:
        """Until the worker has committed every record of its topics (``wait_until_quiet``)."""
        await wait_until_quiet(self.config, watched_topics(self.worker), self.worker.app.conf.id, timeout_s=timeout_s)

    async def publish(self, records: Sequence[Outgoing]) -> None:
        """``records`` published in one batch, then ``quiet``: what a test reads next includes them."""
        await self.producer.publish_many(list(records))
        await self.quiet()


# ``conftest.identity_worker``: ``(identity=None, *, partitions=3, web_port=None)`` -> ``async with ... as run``
WorkerFactory = Callable[..., AbstractAsyncContextManager[OneWorker]]


async def assignments(settings: OmnibusSettings) -> dict[str, str]:
    """The compacted identifier-to-customer topic as a reader sees it: per key, the row of the highest
    version; a tombstone (an evicted identifier) removes the key."""
    _, deserializer = build_serde(settings.registry)
    topic = CUSTOMER_IDENTIFIERS.name(settings.topics)
    rows: list[tuple[str, Any, int | None]] = []
    for record in await read_raw(settings.kafka.bootstrap_servers, topic):
        if record.value is None:
            rows.append((record.key.decode(), None, tombstone_version(record.headers)))
        else:
            ctx = SerdeContext(topic=topic, key=record.key, partition=record.partition, offset=record.offset)
            rows.append((record.key.decode(), deserializer(record.value, ctx).value, None))
    return {key: row["customer_id"] for key, row in current_rows(rows).items()}


def owners_in_state(workers: list[IdentityProcessor], keys: list[str], partitions: int) -> dict[str, str]:
    """Each of ``keys``' customer as the workers' node states hold it (merges followed; unowned keys left
    out), read on the worker that owns the key's graph partition: what the compacted topic must show."""
    graph_topic = workers[0].graph_topic_name
    holder = {tp.partition: worker for worker in workers for tp in worker.app.consumer.assignment()
              if tp.topic == graph_topic}

    def node(key: str) -> object:
        # A late rebalance can hand a partition over before its new owner restored the table: then
        # the state is read where it was written.
        assigned = holder[partition_of(key, partitions)].store.get_node(key)
        return assigned or next((state for w in workers if (state := w.store.get_node(key))), None)

    owners = {}
    for key in keys:
        owner = getattr(node(key), "owner", None)
        while owner and (parent := getattr(node(owner), "parent", None)):
            owner = parent
        if owner:
            owners[key] = owner
    return owners


def shared_in_state(workers: list[IdentityProcessor], keys: list[str], partitions: int) -> dict[str, bool]:
    """Each of ``keys``' shared flag (``shared_after``) in the node state of the worker that owns its partition."""
    graph_topic = workers[0].graph_topic_name
    holder = {tp.partition: worker for worker in workers for tp in worker.app.consumer.assignment()
              if tp.topic == graph_topic}
    flags = {}
    for key in keys:
        state = holder[partition_of(key, partitions)].store.get_node(key) or next(
            (state for w in workers if (state := w.store.get_node(key))), None)
        flags[key] = bool(getattr(state, "shared", False))
    return flags


def clusters(mapping: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for identifier, customer in mapping.items():
        groups.setdefault(customer, set()).add(identifier)
    return {frozenset(group) for group in groups.values()}
