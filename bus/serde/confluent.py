"""The Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then the Avro body.

Subjects follow the TopicRecordNameStrategy (``<topic>-<record full name>``), because one topic carries
several event types, each with its own evolution history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import fastavro
from fastavro.schema import fullname

from bus.errors import SchemaRegistryError, SerializationError
from bus.serde.avro_body import encode_body, read_body
from bus.serde.base import Event, SerdeContext
from bus.serde.framing import CONFLUENT_HEADER as HEADER
from bus.serde.framing import CONFLUENT_MAGIC as MAGIC
from bus.serde.framing import catalog_single_object, confluent_framed
from schemas.catalog import SchemaCatalog
from schemas.errors import SchemaNotFound

if TYPE_CHECKING:
    from bus.serde.registry import SchemaRegistryClient


def subject_for(topic: str, record_fullname: str) -> str:
    return f"{topic}-{record_fullname}"


class ConfluentSerializer:
    """Registers each (topic, schema) once, then writes its records with the schema id the registry gave.

    The id is kept here per (topic, schema full name) after the first ``register``: the registry client's own cache
    is keyed by the schema's JSON text, which it serialises again at each look-up (a sorted ``json.dumps`` of the
    whole schema, twice per event with ``is_ready``: more than the event's Avro encoding, #9 build 6). A catalog's
    schemas do not change and a registered id never does, so the bytes are the same."""

    def __init__(self, catalog: SchemaCatalog, registry: SchemaRegistryClient) -> None:
        self._catalog = catalog
        self._registry = registry
        # (topic, schema full name) -> (parsed schema, the record's first bytes: magic byte and schema id)
        self._registered: dict[tuple[str, str], tuple[Any, bytes]] = {}

    def is_ready(self, event: Event, ctx: SerdeContext) -> bool:
        """True when serializing needs no registry round trip (the async producer checks this)."""
        if (ctx.topic, event.schema) in self._registered:
            return True
        schema = self._catalog.get(event.schema) if event.schema in self._catalog else None
        return schema is None or self._registry.is_cached(subject_for(ctx.topic, schema.fullname), schema.schema)

    def __call__(self, event: Event, ctx: SerdeContext) -> bytes:
        registered = self._registered.get((ctx.topic, event.schema))
        if registered is None:
            registered = self._register(event, ctx)
        parsed, prefix = registered
        return encode_body(parsed, event.value, event.schema, prefix)

    def _register(self, event: Event, ctx: SerdeContext) -> tuple[Any, bytes]:
        try:
            schema = self._catalog.get(event.schema)
        except SchemaNotFound as exc:
            raise SerializationError(f"unknown schema {event.schema!r} for topic {ctx.topic}") from exc
        # A registry outage propagates as a (retriable) SchemaRegistryError: it is not a bad record.
        schema_id = self._registry.register(subject_for(ctx.topic, schema.fullname), schema.schema)
        registered = self._registered[(ctx.topic, event.schema)] = (schema.parsed, HEADER.pack(MAGIC, schema_id))
        return registered


class ConfluentDeserializer:
    def __init__(self, catalog: SchemaCatalog, registry: SchemaRegistryClient) -> None:
        self._catalog = catalog
        self._registry = registry
        self._writers: dict[int, tuple[str, Any]] = {}

    def __call__(self, data: bytes | None, ctx: SerdeContext) -> Event:
        if data is None:
            raise ctx.decode_error("record has no value (tombstone)", data)
        if not confluent_framed(data):
            raise ctx.decode_error("not in the Confluent wire format (expected magic byte 0)", data,
                                   unframed=not catalog_single_object(data, self._catalog))
        _, schema_id = HEADER.unpack_from(data)
        name, writer = self._writer(schema_id, data, ctx)
        reader = self._catalog.get(name).parsed if name in self._catalog else None
        return Event(name, read_body(data, HEADER.size, writer, reader, ctx, name))

    def _writer(self, schema_id: int, data: bytes, ctx: SerdeContext) -> tuple[str, Any]:
        cached = self._writers.get(schema_id)
        if cached is not None:
            return cached
        try:
            schema = self._registry.schema_by_id(schema_id)
        except SchemaRegistryError as exc:
            if exc.retriable:
                raise
            raise ctx.decode_error(f"schema id {schema_id} unknown to the registry: {exc}", data) from exc
        parsed = fastavro.parse_schema(schema)
        name = fullname(schema)
        self._writers[schema_id] = (name, parsed)
        return name, parsed
