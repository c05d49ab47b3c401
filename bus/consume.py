"""Decoding consumed records without ever stalling a partition on a poison record."""

from __future__ import annotations

from typing import Any

from bus.dead_letter import DeadLetterWriter
from bus.errors import DeserializationError, RawRecord
from bus.metrics import DECODE_FAILURES
from bus.serde.base import Deserializer, Event, SerdeContext


def raw_record(message: Any) -> RawRecord:
    """A ``RawRecord`` from an aiokafka ``ConsumerRecord`` or a faust ``Message`` (same attribute names)."""
    return RawRecord(
        value=message.value, key=message.key, headers=tuple(message.headers or ()),
        topic=message.topic, partition=message.partition, offset=message.offset,
    )


class RecordDecoder:
    """Decodes raw records; a record that does not decode is dead-lettered and ``None`` returned."""

    def __init__(self, deserializer: Deserializer, dead_letters: DeadLetterWriter) -> None:
        self._deserializer = deserializer
        self._dead_letters = dead_letters

    async def decode(self, record: RawRecord) -> Event | None:
        ctx = SerdeContext(
            topic=record.topic or "", key=record.key, headers=record.headers,
            partition=record.partition, offset=record.offset,
        )
        try:
            return self._deserializer(record.value, ctx)
        except DeserializationError as error:
            DECODE_FAILURES.labels(topic=record.topic or "").inc()
            await self._dead_letters.write_error(error)
            return None
