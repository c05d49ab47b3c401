"""The idempotent event producer every adapter and processor publishes through.

``publish`` returns only once Kafka has acknowledged the record with ``acks=all`` on an idempotent
producer: an adapter may answer its caller 2xx after that, never before. Records with the same key go
to the same partition (murmur2, as the Java client does), which keeps each entity's events in order.

The producer sends bytes (``send``); turning an event into bytes is its topic's business
(``bus.topic.Topics``), so an internal topic can carry another format without the producer knowing.

A start or a send that Kafka refuses for a transient reason (no broker answers yet, a partition without a leader
for longer than aiokafka's own retries last) is tried again with backoff (``bus.publish_retry``) rather than
raised, for up to ``producer.give_up_after_s``: a worker rides out an outage instead of stopping. Such a failure
whose topic the broker's metadata does not list is no outage: it raises ``MissingTopicError`` at once
(``bus.topic_check``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

from bus.config import OmnibusSettings
from bus.errors import PublishError
from bus.kafka_client import producer_options
from bus.metrics import EVENTS_PUBLISHED, PUBLISH_FAILURES, PUBLISH_LATENCY
from bus.partitioner import CachedMurmur2Partitioner
from bus.producer_batches import PartitionBatches
from bus.publish_retry import Backoff, Retry, kafka_retriable
from bus.registry_outage import until_registry_answers
from bus.serde.base import Event, Serializer
from bus.topic import Headers, KafkaRecord, Topics
from bus.topic_check import missing_after_failure, require_topics


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event bound for a topic, keyed by the entity whose order it must keep."""

    topic: str
    key: str | None
    event: Event
    headers: Headers = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A record without a value: on a compacted topic, Kafka removes ``key`` (``headers`` travel along)."""

    topic: str
    key: str
    headers: Headers = field(default_factory=tuple)


__all__ = ["EventProducer", "LazyProducer", "Outgoing", "Tombstone", "kafka_retriable", "worker_producer"]
START = ""  # the ``topic`` label of ``omnibus_publish_failures_total`` for a failed start (no topic yet)


class EventProducer:
    """``serializer``: the default serialisation of every topic, or a ``Topics`` naming some topics' own.

    ``wait_for_registry``: a record whose schema must first be registered (the first of its type after a start, a
    new schema version) waits while the schema registry does not answer (``bus.registry_outage``) instead of raising
    its ``SchemaRegistryError``: a processor's worker, whose input is then not committed past the record. False for
    an adapter (it answers 503 with Retry-After) and a command (it ends with status 69)."""

    def __init__(self, settings: OmnibusSettings, serializer: Serializer | Topics, *,
                 wait_for_registry: bool = False) -> None:
        self._topics = serializer if isinstance(serializer, Topics) else Topics(serializer)
        self._wait_for_registry = wait_for_registry
        self._options = {**producer_options(settings), "partitioner": CachedMurmur2Partitioner()}
        self._retry = Retry(Backoff(max_s=settings.producer.retry_backoff_max_ms / 1000,
                                    give_up_after_s=settings.producer.give_up_after_s))
        self._client: AIOKafkaProducer | None = None
        self._batches: PartitionBatches | None = None  # created on the first ``send_batched``
        self._tracked: set[str] = set()  # topics the client's metadata refreshes ask for (``_track``)

    @property
    def _producer(self) -> AIOKafkaProducer:
        if self._client is None:
            raise RuntimeError("EventProducer.start() has not been awaited")
        return self._client

    async def start(self, *, wait_for_broker: bool = True) -> None:
        """Connect; while no broker answers (``KafkaConnectionError``) try again with backoff (``bus.publish_retry``).
        Raises the last error after ``producer.give_up_after_s`` seconds, or at once if it is not retriable.

        ``wait_for_broker=False``: one try, for a command's own start-up, which ends with status 69 when no broker
        answers (``bus.bootstrap.startup_failure_exit``: the orchestrator restarts it with back-off) rather than
        waiting silently; a worker's producer started on first use (``LazyProducer``) waits."""
        if not wait_for_broker:
            await self._start_once()
            return
        await self._retry.run(self._start_once, what="start")

    async def _start_once(self) -> None:
        # Created here, not in __init__: aiokafka binds to the running event loop, and processes
        # build their components before the loop (faust's worker) starts.
        if self._client is None:
            self._client = AIOKafkaProducer(**self._options)
            self._tracked = set()
        try:
            await self._client.start()
        except BaseException as exc:
            client, self._client = self._client, None  # closed, so no "Unclosed AIOKafkaProducer" at exit
            await client.stop()
            if isinstance(exc, KafkaError):  # each failed try counted, retried or not
                PUBLISH_FAILURES.labels(topic=START, retriable=str(kafka_retriable(exc)).lower()).inc()
            raise

    async def require_topics(self, names: Sequence[str]) -> None:
        """Return when the cluster's metadata lists every topic of ``names`` (one request; call after ``start``).
        Raises ``MissingTopicError`` naming those it does not (``bus.topic_check``), aiokafka's ``KafkaError``
        when no broker answers."""
        await require_topics(self._list_topics, names)

    async def _list_topics(self) -> set[str]:
        return (await self._producer.client.fetch_all_metadata()).topics()

    async def _failure(self, exc: KafkaError, records: Sequence[KafkaRecord], message: str) -> PublishError:
        """The error a send of ``records`` that failed with ``exc`` raises: ``MissingTopicError`` when a topic of
        theirs is not in the broker's metadata, else ``PublishError`` (``retriable`` as Kafka says)."""
        missing = await missing_after_failure(exc, self._list_topics, sorted({record.topic for record in records}))
        return missing or PublishError(message, retriable=kafka_retriable(exc))

    async def stop(self) -> None:
        """Flush everything accepted so far, then close."""
        if self._batches is not None:
            await self._batches.close()
            self._batches = None
        if self._client is not None:
            await self._client.stop()

    async def __aenter__(self) -> EventProducer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def encode_now(self, item: Outgoing | Tombstone) -> KafkaRecord | None:
        """``encode`` when it needs no registry round trip, else None (await ``encode``)."""
        if isinstance(item, Tombstone):
            return KafkaRecord(item.topic, item.key.encode(), None, tuple(item.headers))
        return self._topics.serialize_now(item.topic, item.key, item.event, item.headers)

    async def encode(self, item: Outgoing | Tombstone) -> KafkaRecord:
        """Serialize ``item`` the way its topic does; a first registry round trip runs off the event loop.
        Raises ``SerializationError``, and ``SchemaRegistryError`` unless ``wait_for_registry`` (then an outage is
        waited for)."""
        if isinstance(item, Tombstone):
            return KafkaRecord(item.topic, item.key.encode(), None, tuple(item.headers))
        if self._topics.needs_io(item.topic, item.event, item.headers):
            def serialize() -> KafkaRecord:
                return self._topics.serialize(item.topic, item.key, item.event, item.headers)

            if self._wait_for_registry:
                return await until_registry_answers(serialize, off_loop=True)
            return await asyncio.to_thread(serialize)
        return self._topics.serialize(item.topic, item.key, item.event, item.headers)

    async def publish(self, item: Outgoing | Tombstone) -> RecordMetadata:
        """Publish one event and wait for Kafka's acknowledgement."""
        return (await self.publish_many([item]))[0]

    async def publish_many(
        self, items: Sequence[Outgoing | Tombstone], encoded: Sequence[KafkaRecord] | None = None, *,
        batched: bool = False,
    ) -> list[RecordMetadata]:
        """Publish a batch and wait until Kafka acknowledged every record (all serialized first);
        ``encoded``: the items already serialized by ``encode`` (one per item), so nothing is encoded twice;
        ``batched``: hand the records to Kafka one batch per partition (``send_batched``)."""
        records = list(encoded) if encoded is not None else [await self.encode(item) for item in items]
        started = time.perf_counter()
        results = await (self.send_batched(records) if batched else self.send(records))
        latency = time.perf_counter() - started
        counts = Counter(record.topic for record in records)  # metrics per topic, not per record
        for topic, count in counts.items():
            EVENTS_PUBLISHED.labels(topic=topic).inc(count)
            PUBLISH_LATENCY.labels(topic=topic).observe(latency)  # one observation per call: ~1 µs per record saved
        return results

    async def send(self, records: Sequence[KafkaRecord]) -> list[RecordMetadata]:
        """Send records that are bytes already and wait until Kafka acknowledged every one.

        A call that fails for a transient reason is sent again whole, in its order, with backoff
        (``bus.publish_retry``): records acknowledged before the failure may then be on the topic twice (at least
        once; their copies carry the same event ids). Raises ``PublishError`` (``retriable`` as Kafka says) when
        the error is not retriable, or still not acknowledged after ``producer.give_up_after_s`` seconds.
        """
        return await self._retry.run(lambda: self._send_once(records), what="send")

    def _track(self, records: Sequence[KafkaRecord]) -> None:
        """Have the client's metadata refreshes ask for every topic this producer writes to.

        aiokafka (0.14, ``AIOKafkaClient._wait_on_metadata``) adds a topic to the refreshed list only when a send finds
        no metadata for it; a topic already known from the start-up's all-topics answer is never added, and the first
        refresh for another topic replaces the cluster metadata without it. A send to it then waits for a leader in a
        loop of refreshes that never ask for it (thousands a minute) until ``request_timeout_ms`` expires the batch:
        the identity worker's second dead letter under load (tests/processors/identity/test_poison.py)."""
        client = self._producer.client
        for topic in {record.topic for record in records} - self._tracked:
            client.add_topic(topic)  # a topic new to the list forces one refresh; nothing waits for it here
            self._tracked.add(topic)

    async def _send_once(self, records: Sequence[KafkaRecord]) -> list[RecordMetadata]:
        self._track(records)
        try:
            futures = [
                await self._producer.send(record.topic, value=record.value, key=record.key,
                                          headers=list(record.headers) or None, partition=record.partition)
                for record in records
            ]
            return list(await asyncio.gather(*futures))
        except KafkaError as exc:
            failure = await self._failure(exc, records, f"Kafka did not acknowledge: {exc!r}")
            for topic in {record.topic for record in records}:
                PUBLISH_FAILURES.labels(topic=topic, retriable=str(failure.retriable).lower()).inc()
            raise failure from exc

    async def send_batched(self, records: Sequence[KafkaRecord]) -> list[RecordMetadata]:
        """``send``, with the records appended to Kafka batches shared with concurrent callers and handed to
        aiokafka whole (``bus.producer_batches``) instead of one ``send`` per record: the same partitions
        (the producer's own partitioner), the same order within a partition, the same acknowledgement (the
        batch's: acks=all, idempotent), a fraction of the CPU per record, the same retries of a call that failed
        for a transient reason (the caller waits for the acknowledgement, so nothing it sends later can get
        ahead of the copy). Raises ``PublishError``."""
        return await self._retry.run(lambda: self._send_batched_once(records), what="send")

    async def _send_batched_once(self, records: Sequence[KafkaRecord]) -> list[RecordMetadata]:
        return await (await self.hand_over(records))

    async def hand_over(self, records: Sequence[KafkaRecord]) -> Awaitable[list[RecordMetadata]]:
        """``send_batched`` in two halves: this returns once the records are in their batches, ahead of anything
        sent later (what a caller that releases a lock before the acknowledgement relies on); await the result
        for Kafka's acknowledgement (``PublishError`` if not). Waiting for a topic's metadata is retried like a
        send (nothing is placed yet); the acknowledgement is not: a copy placed after the failure would land
        behind records handed over later (for a changelog, an older state after a newer one). aiokafka's own
        in-order retries cover it for ``producer.delivery_timeout_ms``."""
        if self._batches is None:
            self._batches = PartitionBatches(self._producer)
        await self._retry.run(lambda: self._metadata(records), what="metadata")
        return self._acknowledged(records, self._batches.place(records))

    async def _metadata(self, records: Sequence[KafkaRecord]) -> None:
        self._track(records)
        try:
            for topic in {record.topic for record in records}:
                await self._producer.partitions_for(topic)  # metadata: waits only for a topic not seen before
        except KafkaError as exc:
            raise await self._failure(exc, records, f"no metadata for {sorted({r.topic for r in records})}: "
                                                    f"{exc!r}") from exc

    async def _acknowledged(self, records: Sequence[KafkaRecord],
                            placed: Awaitable[list[RecordMetadata]]) -> list[RecordMetadata]:
        try:
            return await placed
        except KafkaError as exc:
            failure = await self._failure(exc, records, f"Kafka did not acknowledge: {exc!r}")
            for topic in {record.topic for record in records}:
                PUBLISH_FAILURES.labels(topic=topic, retriable=str(failure.retriable).lower()).inc()
            raise failure from exc

    async def send_raw(self, topic: str, key: bytes | None, value: bytes, headers: Headers = ()) -> RecordMetadata:
        """Publish bytes that are already encoded (the dead-letter writer uses this)."""
        return (await self.send([KafkaRecord(topic, key, value, tuple(headers))]))[0]


def worker_producer(settings: OmnibusSettings, serializer: Serializer | Topics) -> EventProducer:
    """The producer of a processor's worker: a record waits while the schema registry does not answer
    (``wait_for_registry``), since the worker's input is not committed past it. Every processor builds its producer
    here, so they all behave alike in a registry outage (``bus.registry_outage``)."""
    return EventProducer(settings, serializer, wait_for_registry=True)


class LazyProducer:
    """An ``EventProducer`` created and started on first use, inside the worker's event loop (aiokafka needs a
    running loop, and faust may deliver records before extra services start). Used by the faust processors."""

    def __init__(self, factory: Callable[[], EventProducer]) -> None:
        self._factory = factory
        self._producer: EventProducer | None = None
        self._lock = asyncio.Lock()

    async def ready(self) -> EventProducer:
        if self._producer is None:
            async with self._lock:
                if self._producer is None:
                    producer = self._factory()
                    await producer.start()
                    self._producer = producer
        return self._producer

    async def publish_many(self, items: Sequence[Outgoing]) -> list[RecordMetadata]:
        return await (await self.ready()).publish_many(items)

    async def publish(self, item: Outgoing) -> RecordMetadata:
        return await (await self.ready()).publish(item)

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()
