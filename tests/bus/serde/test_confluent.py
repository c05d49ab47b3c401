"""The Confluent framing's logic, against an in-memory registry (the real one is in the broker tests)."""

import struct
from typing import Any

import pytest

from bus.errors import DeserializationError, SchemaRegistryError, SerializationError
from bus.serde import (
    ConfluentDeserializer,
    ConfluentSerializer,
    Event,
    SerdeContext,
    SingleObjectSerializer,
    writer_prefix,
)
from bus.serde.confluent import subject_for
from tests.bus.serde.conftest import THING_V1, THING_V2

CTX = SerdeContext(topic="omnibus.test.v1")


class InMemoryRegistry:
    def __init__(self) -> None:
        self.schemas: dict[int, dict[str, Any]] = {}
        self.subjects: dict[str, list[int]] = {}
        self.calls = 0
        self.down = False

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        self.calls += 1
        if self.down:
            raise SchemaRegistryError("down", retriable=True)
        for schema_id, known in self.schemas.items():
            if known == schema:
                self.subjects.setdefault(subject, []).append(schema_id)
                return schema_id
        schema_id = len(self.schemas) + 1
        self.schemas[schema_id] = schema
        self.subjects.setdefault(subject, []).append(schema_id)
        return schema_id

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        if schema_id not in self.schemas:
            raise SchemaRegistryError(f"schema {schema_id} not found", status=404)
        return self.schemas[schema_id]

    def is_cached(self, subject: str, schema: dict[str, Any]) -> bool:
        return False


def test_wire_format_and_round_trip(catalog_of) -> None:
    catalog, registry = catalog_of(THING_V1), InMemoryRegistry()
    data = ConfluentSerializer(catalog, registry)(Event("omnibus.test.Thing", {"id": "a", "count": 1}), CTX)
    magic, schema_id = struct.unpack(">bI", data[:5])
    assert (magic, schema_id) == (0, 1)
    assert registry.subjects == {subject_for("omnibus.test.v1", "omnibus.test.Thing"): [1]}
    assert ConfluentDeserializer(catalog, registry)(data, CTX) == Event("omnibus.test.Thing", {"id": "a", "count": 1})


def test_newer_reader_resolves_older_writer(catalog_of) -> None:
    registry = InMemoryRegistry()
    data = ConfluentSerializer(catalog_of(THING_V1), registry)(
        Event("omnibus.test.Thing", {"id": "a", "count": 1}), CTX
    )
    decoded = ConfluentDeserializer(catalog_of(THING_V2), registry)(data, CTX)
    assert decoded.value == {"id": "a", "count": 1, "note": None}


def test_unknown_schema_id_is_a_dead_letter_not_an_outage(catalog_of) -> None:
    data = struct.pack(">bI", 0, 99) + b"\x02a\x02"
    with pytest.raises(DeserializationError, match="99") as caught:
        ConfluentDeserializer(catalog_of(THING_V1), InMemoryRegistry())(data, CTX)
    assert caught.value.record.value == data


def test_registry_outage_is_retriable_not_a_bad_record(catalog_of) -> None:
    registry = InMemoryRegistry()
    registry.down = True
    with pytest.raises(SchemaRegistryError) as caught:
        ConfluentSerializer(catalog_of(THING_V1), registry)(Event("omnibus.test.Thing", {"id": "a", "count": 1}), CTX)
    assert caught.value.retriable


def test_wrong_magic_byte(catalog_of) -> None:
    with pytest.raises(DeserializationError, match="magic"):
        ConfluentDeserializer(catalog_of(THING_V1), InMemoryRegistry())(b"\x01\x00\x00\x00\x01abc", CTX)


def test_the_writer_prefix_names_the_writer_schema_in_either_framing(catalog_of) -> None:
    """``writer_prefix``: equal for records of one writer schema, different across schemas and framings."""
    catalog, registry = catalog_of(THING_V1), InMemoryRegistry()
    confluent, single = ConfluentSerializer(catalog, registry), SingleObjectSerializer(catalog)
    thing = Event("omnibus.test.Thing", {"id": "a", "count": 1})
    other = Event("omnibus.test.Thing", {"id": "bb", "count": 2})
    assert writer_prefix(confluent(thing, CTX)) == writer_prefix(confluent(other, CTX)) == b"\x00\x00\x00\x00\x01"
    assert writer_prefix(single(thing, CTX)) == writer_prefix(single(other, CTX)) == single(thing, CTX)[:10]
    newer = SingleObjectSerializer(catalog_of(THING_V2))(Event("omnibus.test.Thing", {"id": "a", "count": 1}), CTX)
    assert writer_prefix(newer) != writer_prefix(single(thing, CTX))


def test_a_topic_and_schema_are_registered_once_then_written_with_the_id_kept(catalog_of) -> None:
    """#9 build 6: the registry client looks its cache up by the schema's JSON text, serialised again per look-up
    (twice per event with ``is_ready``); the serializer keeps the id per (topic, schema) after the first call."""
    catalog, registry = catalog_of(THING_V1), InMemoryRegistry()
    serializer = ConfluentSerializer(catalog, registry)
    things = [Event("omnibus.test.Thing", {"id": f"t{n}", "count": n}) for n in range(3)]
    assert not serializer.is_ready(things[0], CTX)
    first = [serializer(thing, CTX) for thing in things]
    assert registry.calls == 1 and serializer.is_ready(things[0], CTX)
    other_topic = SerdeContext(topic="omnibus.other.v1")
    assert not serializer.is_ready(things[0], other_topic)
    assert serializer(things[0], other_topic)[:5] == first[0][:5]  # the same schema: the registry's same id
    assert registry.calls == 2  # one subject per topic (TopicRecordNameStrategy)
    registry.down = True  # an id once given stays the schema's: no registry needed for it again
    assert [serializer(thing, CTX) for thing in things] == first
    assert [ConfluentDeserializer(catalog, registry)(data, CTX) for data in first] == things


def test_a_registration_that_failed_is_tried_again_at_the_next_event(catalog_of) -> None:
    catalog, registry = catalog_of(THING_V1), InMemoryRegistry()
    serializer, thing = ConfluentSerializer(catalog, registry), Event("omnibus.test.Thing", {"id": "a", "count": 1})
    registry.down = True
    with pytest.raises(SchemaRegistryError):
        serializer(thing, CTX)
    registry.down = False
    assert serializer(thing, CTX)[:5] == b"\x00\x00\x00\x00\x01" and registry.calls == 2


def test_an_unknown_schema_is_a_serialization_error_each_time(catalog_of) -> None:
    serializer = ConfluentSerializer(catalog_of(THING_V1), InMemoryRegistry())
    for _ in range(2):
        with pytest.raises(SerializationError, match="unknown schema"):
            serializer(Event("omnibus.test.Nothing", {}), CTX)
