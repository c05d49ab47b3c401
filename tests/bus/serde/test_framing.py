"""bus/serde/framing.py: a value in neither framing Omnibus writes is a poison record (``unframed``), a value in the
other framing is a registry mismatch (tester28 F7: ``C3 01`` + 8 bytes + ``body`` on ``handoff.events.v1`` made every
``omnibus handoffs`` command and ``verify`` exit 65 with the registry hint)."""

import struct

import pytest

from bus.errors import DeserializationError
from bus.serde import ConfluentDeserializer, Event, SerdeContext, SingleObjectDeserializer, SingleObjectSerializer
from tests.bus.serde.conftest import THING_V1
from tests.bus.serde.test_confluent import InMemoryRegistry

CTX = SerdeContext(topic="omnibus.test.v1", partition=3, offset=41)
TESTER28_F7 = b"\xc3\x01" + b"\x11" * 8 + b"body"  # tester28's poison record, as /tmp/t28/poison.py wrote it
POISON = {  # values no Omnibus writer makes, whatever the registry setting
    "json text": b'{"not":"avro"}',
    "empty": b"",
    "one byte": b"\x00",
    "the single-object marker alone": b"\xc3\x01",
    "text": b"\x11body",
}
CONFLUENT_UNKNOWN_ID = struct.pack(">bI", 0, 7) + b"\x02ab"  # a registry's schema id, read with another registry


def _error(deserializer, data: bytes) -> DeserializationError:
    with pytest.raises(DeserializationError) as caught:
        deserializer(data, CTX)
    return caught.value


@pytest.mark.parametrize("data", [TESTER28_F7, *POISON.values()], ids=["tester28 F7", *POISON])
def test_a_value_in_no_framing_is_poison_for_the_registry_reader(catalog_of, data: bytes) -> None:
    error = _error(ConfluentDeserializer(catalog_of(THING_V1), InMemoryRegistry()), data)
    assert error.unframed and (error.record.partition, error.record.offset) == (3, 41)


@pytest.mark.parametrize("data", list(POISON.values()), ids=list(POISON))
def test_a_value_in_no_framing_is_poison_for_the_registry_free_reader(catalog_of, data: bytes) -> None:
    assert _error(SingleObjectDeserializer(catalog_of(THING_V1)), data).unframed


def test_a_registry_free_record_read_with_a_registry_keeps_the_registry_hint(catalog_of) -> None:
    catalog = catalog_of(THING_V1)
    written = SingleObjectSerializer(catalog)(Event("omnibus.test.Thing", {"id": "a", "count": 1}), CTX)
    assert not _error(ConfluentDeserializer(catalog, InMemoryRegistry()), written).unframed


def test_a_registry_record_read_without_one_keeps_the_registry_hint(catalog_of) -> None:
    """tester15 F10: read registry-free, every record of a registry deployment fails; that is no poison."""
    assert not _error(SingleObjectDeserializer(catalog_of(THING_V1)), CONFLUENT_UNKNOWN_ID).unframed


def test_a_record_in_the_readers_framing_with_an_unknown_schema_keeps_the_registry_hint(catalog_of) -> None:
    catalog = catalog_of(THING_V1)
    assert not _error(ConfluentDeserializer(catalog, InMemoryRegistry()), CONFLUENT_UNKNOWN_ID).unframed
    assert not _error(SingleObjectDeserializer(catalog), TESTER28_F7).unframed  # an unknown fingerprint
