"""Avro serde with two framings: Confluent (registry) and the Avro spec's single-object encoding."""

from __future__ import annotations

from bus.config import RegistrySettings, WireFormat
from bus.serde.base import Deserializer, Event, SerdeContext, Serializer
from bus.serde.confluent import ConfluentDeserializer, ConfluentSerializer
from bus.serde.single_object import SingleObjectDeserializer, SingleObjectSerializer
from schemas.catalog import SchemaCatalog, default_catalog

__all__ = [
    "Deserializer", "Event", "SerdeContext", "Serializer", "build_serde",
    "ConfluentSerializer", "ConfluentDeserializer", "SingleObjectSerializer", "SingleObjectDeserializer",
]


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
