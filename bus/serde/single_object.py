"""The Avro specification's single-object encoding: ``C3 01`` + 8-byte CRC-64-AVRO fingerprint + body.

Used without a schema registry: writer schemas are resolved by fingerprint from ``schemas/`` (plus any
older versions a deployment ships), so a reader on a newer contract still reads records written on an
older one.
"""

from __future__ import annotations

from collections.abc import Iterable

from bus.errors import SerializationError
from bus.serde.avro_body import encode_body, read_body
from bus.serde.base import Event, SerdeContext
from bus.serde.framing import SINGLE_OBJECT_HEADER_SIZE as HEADER_SIZE
from bus.serde.framing import SINGLE_OBJECT_MAGIC as MAGIC
from bus.serde.framing import confluent_framed, single_object_framed
from schemas.catalog import EventSchema, SchemaCatalog
from schemas.errors import SchemaNotFound


class SingleObjectSerializer:
    def __init__(self, catalog: SchemaCatalog) -> None:
        self._catalog = catalog

    def __call__(self, event: Event, ctx: SerdeContext) -> bytes:
        try:
            schema = self._catalog.get(event.schema)
        except SchemaNotFound as exc:
            raise SerializationError(f"unknown schema {event.schema!r} for topic {ctx.topic}") from exc
        return encode_body(schema.parsed, event.value, schema.fullname, MAGIC + schema.fingerprint)


class SingleObjectDeserializer:
    def __init__(self, catalog: SchemaCatalog, older_writers: Iterable[EventSchema] = ()) -> None:
        self._catalog = catalog
        self._older = {schema.fingerprint: schema for schema in older_writers}

    def __call__(self, data: bytes | None, ctx: SerdeContext) -> Event:
        if data is None:
            raise ctx.decode_error("record has no value (tombstone)", data)
        if not single_object_framed(data):
            raise ctx.decode_error("not Avro single-object encoded (expected C3 01 and a fingerprint)", data,
                                   unframed=not confluent_framed(data))
        writer = self._writer(data[2:HEADER_SIZE], data, ctx)
        reader = self._catalog.get(writer.fullname) if writer.fullname in self._catalog else writer
        resolve = None if reader.fingerprint == writer.fingerprint else reader.parsed
        value = read_body(data, HEADER_SIZE, writer.parsed, resolve, ctx, writer.fullname)
        return Event(writer.fullname, value)

    def _writer(self, fingerprint: bytes, data: bytes, ctx: SerdeContext) -> EventSchema:
        if fingerprint in self._older:
            return self._older[fingerprint]
        try:
            return self._catalog.by_fingerprint(fingerprint)
        except SchemaNotFound:
            raise ctx.decode_error(f"unknown writer schema fingerprint {fingerprint.hex()}", data) from None
