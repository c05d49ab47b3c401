"""Decoding consumed records without ever stalling a partition on a poison record."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer

from bus.dead_letter import DeadLetterWriter
from bus.errors import DeserializationError, RawRecord, SchemaRegistryError
from bus.metrics import DECODE_FAILURES
from bus.record_headers import is_utf8
from bus.registry_outage import is_outage, lookups_off_loop, until_registry_answers
from bus.serde.base import Deserializer, Event, SerdeContext
from bus.topics import ALL_TOPICS

log = structlog.get_logger(__name__)


@lru_cache(maxsize=512)
def carried_by(topic: str) -> frozenset[str] | None:
    """The Avro record names ``topic`` (``<prefix>.<suffix>``, any prefix) may carry, from ``bus.topics``;
    None for a topic not declared there or one that declares none (internal topics)."""
    for spec in ALL_TOPICS:
        if topic == spec.suffix or topic.endswith("." + spec.suffix):
            return frozenset(spec.carries) or None
    return None


def raw_record(message: Any) -> RawRecord:
    """A ``RawRecord`` from an aiokafka ``ConsumerRecord`` or a faust ``Message`` (same attribute names)."""
    return RawRecord(
        value=message.value, key=message.key, headers=tuple(message.headers or ()),
        topic=message.topic, partition=message.partition, offset=message.offset,
    )


class RecordDecoder:
    """Decodes raw records; a record that does not decode, or is of a type its topic does not carry (a
    processor would skip it unseen, #13), is dead-lettered and ``None`` returned. While the schema registry does
    not answer, ``decode`` waits and retries (``bus.registry_outage``): the record is neither failed nor
    dead-lettered."""

    def __init__(self, deserializer: Deserializer, dead_letters: DeadLetterWriter) -> None:
        self._deserializer = deserializer
        self._dead_letters = dead_letters

    async def decode(self, record: RawRecord) -> Event | None:
        ctx = SerdeContext(
            topic=record.topic or "", key=record.key, headers=record.headers,
            partition=record.partition, offset=record.offset,
        )
        try:
            if not all(is_utf8(key) for key, _ in record.headers):
                # Kafka's protocol says a header key is a String (UTF-8); see bus.record_headers.
                raise DeserializationError("a header key is not UTF-8", record=record)
            try:
                with lookups_off_loop():  # a writer schema not cached yet is fetched in a thread, as the retries are
                    event = self._deserializer(record.value, ctx)
            except SchemaRegistryError as error:
                if not is_outage(error):
                    raise
                # A registry that does not answer is waited for, never a failed record (bus.registry_outage).
                event = await until_registry_answers(lambda: self._deserializer(record.value, ctx), off_loop=True)
            carried = carried_by(record.topic or "")
            if carried is not None and event.schema not in carried:
                raise DeserializationError(
                    f"a {event.schema} record does not belong on this topic (it carries {', '.join(sorted(carried))})",
                    record=record)
            return event
        except DeserializationError as error:
            DECODE_FAILURES.labels(topic=record.topic or "").inc()
            await self._dead_letters.write_error(error)
            return None


def hold_back(events: Iterable[Any]) -> None:
    """Keep the offsets of ``events`` (faust events of a batch that failed) from ever being committed.

    faust's ``Stream.take_events`` acknowledges every event of a batch in a ``finally``, also when the
    code handling the batch raised, so a worker that stops on an error committed past records it never
    processed nor dead-lettered (#13 case 5). Marking the messages acknowledged beforehand makes that
    ``finally`` a no-op for them: the consumer never learns of them, their offsets stay uncommitted, and
    the worker that next owns the partition takes the batch again. Use it on the way out (the worker is stopping)
    or for a batch fenced off by a rebalance (``bus.fencing``): a held-back record at the head of a partition
    blocks its commits, and ``bus.commit_gap`` seeks back to it if no rebalance hands it on first.
    """
    for event in events:
        event.message.acked = True


@asynccontextmanager
async def stop_on_failure(app: Any, event: Any) -> AsyncIterator[None]:
    """Handle one event of a ``stream.events()`` agent so that a failure loses nothing.

    faust's stream acknowledges the current event in a ``finally`` also when the agent's body raised, and its
    supervisor restarts the crashed agent on the next record: a record that hit an outage (the schema registry
    unreachable, a send that Kafka never acknowledged) was committed past, neither processed nor dead-lettered
    (the KPI agent crashed on the registry outage and went on counting). The event is held back
    (``hold_back``) and the worker stopped with the error (``app.crash``), as the batch agents do; the worker
    that next owns the partition takes the record again. Records the rules cannot take are the agent's to
    dead-letter inside the block: only what escapes it stops the worker.

    Usage: ``async for event in stream.events(): async with stop_on_failure(app, event): ...``.
    """
    try:
        yield
    except asyncio.CancelledError:
        hold_back((event,))  # stopped mid-record (SIGTERM, rebalance): never committed past
        raise
    except Exception as exc:
        hold_back((event,))
        log.exception("agent failed on a record; stopping the worker", error_type=type(exc).__name__,
                      topic=event.message.topic, partition=event.message.partition, offset=event.message.offset)
        await app.crash(exc)
        raise


async def start_or_close(consumer: AIOKafkaConsumer) -> AIOKafkaConsumer:
    """Start ``consumer``; when it cannot start (no broker answers), close it before re-raising, so the
    one-line error of ``bus.bootstrap.startup_failure_exit`` is not followed by "Unclosed AIOKafkaConsumer"."""
    try:
        await consumer.start()
    except BaseException:
        await consumer.stop()
        raise
    return consumer
