"""Avro serde with two framings: Confluent (registry) and the Avro spec's single-object encoding."""

from __future__ import annotations

from bus.config import RegistrySettings, WireFormat
from bus.serde.base import Deserializer, Event, SerdeContext, Serializer
from bus.serde.confluent import ConfluentDeserializer, ConfluentSerializer
from bus.serde.framing import CONFLUENT_HEADER, SINGLE_OBJECT_HEADER_SIZE, SINGLE_OBJECT_MAGIC
from bus.serde.single_object import SingleObjectDeserializer, SingleObjectSerializer
from schemas.catalog import SchemaCatalog, default_catalog

__all__ = [
    "Deserializer", "Event", "SerdeContext", "Serializer", "build_serde",
    "ConfluentSerializer", "ConfluentDeserializer", "SingleObjectSerializer", "SingleObjectDeserializer",
    "writer_prefix",
]


def writer_prefix(data: bytes) -> bytes:
    """The leading bytes that name a record's writer schema, in either framing (single-object: ``C3 01`` and the
    fingerprint; Confluent: the magic byte and the schema id): records with equal prefixes have one schema, so a
    reader that wants few schemas of a busy topic decodes one record per prefix to learn which to skip."""
    if data[:len(SINGLE_OBJECT_MAGIC)] == SINGLE_OBJECT_MAGIC:
        return data[:SINGLE_OBJECT_HEADER_SIZE]
    return data[:CONFLUENT_HEADER.size]


def build_serde(
    settings: RegistrySettings, catalog: SchemaCatalog | None = None
) -> tuple[Serializer, Deserializer]:
    """The serializer/deserializer pair the settings ask for."""
    catalog = catalog or default_catalog()
    if settings.wire_format is WireFormat.CONFLUENT:
        from bus.serde.registry import (
            SchemaRegistryClient,  # confluent_kafka is loaded only when used
        )

        registry = SchemaRegistryClient(settings)
        return ConfluentSerializer(catalog, registry), ConfluentDeserializer(catalog, registry)
    return SingleObjectSerializer(catalog), SingleObjectDeserializer(catalog)
