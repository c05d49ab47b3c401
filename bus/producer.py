"""The idempotent event producer every adapter and processor publishes through.

``publish`` returns only once Kafka has acknowledged the record with ``acks=all`` on an idempotent
producer: an adapter may answer its caller 2xx after that, never before. Records with the same key go
to the same partition (murmur2, as the Java client does), which keeps each entity's events in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

from bus.config import OmnibusSettings
from bus.errors import PublishError
from bus.kafka_client import connection_options
from bus.metrics import EVENTS_PUBLISHED, PUBLISH_FAILURES, PUBLISH_LATENCY
from bus.partitioner import CachedMurmur2Partitioner
from bus.serde.base import Event, SerdeContext, Serializer

Headers = Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event bound for a topic, keyed by the entity whose order it must keep."""

    topic: str
    key: str | None
    event: Event
    headers: Headers = field(default_factory=tuple)


class EventProducer:
    def __init__(self, settings: OmnibusSettings, serializer: Serializer) -> None:
        self._serializer = serializer
        self._options = {
            **connection_options(settings.kafka),
            "acks": "all",
            "enable_idempotence": True,
            "compression_type": settings.producer.compression_type,
            "linger_ms": settings.producer.linger_ms,
            "max_batch_size": settings.producer.max_batch_size,
            "partitioner": CachedMurmur2Partitioner(),
        }
        self._client: AIOKafkaProducer | None = None

    @property
    def _producer(self) -> AIOKafkaProducer:
        if self._client is None:
            raise RuntimeError("EventProducer.start() has not been awaited")
        return self._client

    async def start(self) -> None:
        # Created here, not in __init__: aiokafka binds to the running event loop, and processes
        # build their components before the loop (faust's worker) starts.
        if self._client is None:
            self._client = AIOKafkaProducer(**self._options)
        await self._client.start()

    async def stop(self) -> None:
        """Flush everything accepted so far, then close."""
        if self._client is not None:
            await self._client.stop()

    async def __aenter__(self) -> EventProducer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def encode(self, item: Outgoing) -> bytes:
        """Serialize ``item``; a first registry round trip runs off the event loop."""
        ctx = SerdeContext(topic=item.topic, headers=tuple(item.headers))
        is_ready = getattr(self._serializer, "is_ready", None)
        if is_ready is not None and not is_ready(item.event, ctx):
            return await asyncio.to_thread(self._serializer, item.event, ctx)
        return self._serializer(item.event, ctx)

    async def publish(self, item: Outgoing) -> RecordMetadata:
        """Publish one event and wait for Kafka's acknowledgement."""
        return (await self.publish_many([item]))[0]

    async def publish_many(
        self, items: Sequence[Outgoing], encoded: Sequence[bytes] | None = None
    ) -> list[RecordMetadata]:
        """Publish a batch and wait until Kafka acknowledged every record (all serialized first);
        ``encoded``: the items' values already serialized with ``encode`` (one per item)."""
        if encoded is None:
            encoded = [await self.encode(item) for item in items]
        started = time.perf_counter()
        try:
            futures = [
                await self._producer.send(
                    item.topic,
                    value=value,
                    key=item.key.encode() if item.key is not None else None,
                    headers=list(item.headers) or None,
                )
                for item, value in zip(items, encoded, strict=True)
            ]
            results = await asyncio.gather(*futures)
        except KafkaError as exc:
            for topic in {item.topic for item in items}:
                PUBLISH_FAILURES.labels(topic=topic, retriable=str(exc.retriable).lower()).inc()
            raise PublishError(f"Kafka did not acknowledge: {exc!r}", retriable=exc.retriable) from exc
        latency = time.perf_counter() - started
        for item in items:
            EVENTS_PUBLISHED.labels(topic=item.topic).inc()
            PUBLISH_LATENCY.labels(topic=item.topic).observe(latency)
        return list(results)

    async def send_raw(self, topic: str, key: bytes | None, value: bytes, headers: Headers = ()) -> RecordMetadata:
        """Publish bytes that are already encoded (the dead-letter writer uses this)."""
        try:
            return await self._producer.send_and_wait(topic, value=value, key=key, headers=list(headers) or None)
        except KafkaError as exc:
            PUBLISH_FAILURES.labels(topic=topic, retriable=str(exc.retriable).lower()).inc()
            raise PublishError(f"Kafka did not acknowledge: {exc!r}", retriable=exc.retriable) from exc
