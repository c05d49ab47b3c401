"""What every serializer and deserializer agrees on.

A serializer is a callable ``(event, ctx) -> bytes``; a deserializer is ``(data, ctx) -> Event``. Both
raise only ``bus.errors.SerializationError`` / ``DeserializationError``; the latter carries the raw
record, so whoever catches it can dead-letter the original bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bus.errors import DeserializationError, RawRecord


@dataclass(frozen=True, slots=True)
class Event:
    """An event ready for the wire: the full name of its Avro schema and the record itself."""

    schema: str
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SerdeContext:
    """Where the bytes go to or come from."""

    topic: str
    field: Literal["key", "value"] = "value"
    key: bytes | None = None
    headers: Sequence[tuple[str, bytes | None]] = dataclasses.field(default_factory=tuple)
    partition: int | None = None
    offset: int | None = None

    def raw(self, data: bytes | None) -> RawRecord:
        return RawRecord(
            value=data, key=self.key, headers=tuple(self.headers), topic=self.topic,
            partition=self.partition, offset=self.offset,
        )

    def decode_error(self, message: str, data: bytes | None, *, unframed: bool = False) -> DeserializationError:
        """The error for ``data``; ``unframed``: in neither framing Omnibus writes (``DeserializationError``)."""
        return DeserializationError(message, record=self.raw(data), unframed=unframed)


class Serializer(Protocol):
    def __call__(self, event: Event, ctx: SerdeContext) -> bytes: ...


class Deserializer(Protocol):
    def __call__(self, data: bytes | None, ctx: SerdeContext) -> Event: ...
