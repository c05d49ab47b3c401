import pytest

from bus.errors import DeserializationError, SerializationError
from bus.serde import Event, SerdeContext, SingleObjectDeserializer, SingleObjectSerializer
from tests.bus.serde.conftest import THING_V1, THING_V2

CTX = SerdeContext(topic="omnibus.test.v1", key=b"k1", partition=3, offset=42)


def test_round_trip_and_framing(catalog_of) -> None:
    catalog = catalog_of(THING_V1)
    data = SingleObjectSerializer(catalog)(Event("omnibus.test.Thing", {"id": "a", "count": 7}), CTX)
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == catalog.get("omnibus.test.Thing").fingerprint
    assert SingleObjectDeserializer(catalog)(data, CTX) == Event("omnibus.test.Thing", {"id": "a", "count": 7})


def test_reader_on_newer_schema_reads_older_writer(catalog_of) -> None:
    old, new = catalog_of(THING_V1), catalog_of(THING_V2)
    data = SingleObjectSerializer(old)(Event("omnibus.test.Thing", {"id": "a", "count": 7}), CTX)
    reader = SingleObjectDeserializer(new, older_writers=[old.get("omnibus.test.Thing")])
    assert reader(data, CTX).value == {"id": "a", "count": 7, "note": None}


def test_unknown_fingerprint_carries_the_raw_record(catalog_of) -> None:
    old, new = catalog_of(THING_V1), catalog_of(THING_V2)
    data = SingleObjectSerializer(old)(Event("omnibus.test.Thing", {"id": "a", "count": 7}), CTX)
    with pytest.raises(DeserializationError, match="fingerprint") as caught:
        SingleObjectDeserializer(new)(data, CTX)
    record = caught.value.record
    assert (record.value, record.key, record.topic, record.partition, record.offset) == (
        data, b"k1", "omnibus.test.v1", 3, 42
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "single-object"),
        (b"{\"json\": true}", "single-object"),
        (None, "tombstone"),
    ],
)
def test_garbage_is_a_deserialization_error(catalog_of, data, reason) -> None:
    with pytest.raises(DeserializationError, match=reason):
        SingleObjectDeserializer(catalog_of(THING_V1))(data, CTX)


def test_truncated_and_padded_bodies_are_rejected(catalog_of) -> None:
    catalog = catalog_of(THING_V1)
    data = SingleObjectSerializer(catalog)(Event("omnibus.test.Thing", {"id": "abc", "count": 7}), CTX)
    with pytest.raises(DeserializationError):
        SingleObjectDeserializer(catalog)(data[:-2], CTX)
    with pytest.raises(DeserializationError, match="trailing"):
        SingleObjectDeserializer(catalog)(data + b"\x00", CTX)


@pytest.mark.parametrize(
    "value",
    [{"id": "a"}, {"id": "a", "count": "seven"}, {"id": "a", "count": 1, "unexpected": True}],
)
def test_values_that_break_the_schema_raise_serialization_error(catalog_of, value) -> None:
    with pytest.raises(SerializationError, match="omnibus.test.Thing"):
        SingleObjectSerializer(catalog_of(THING_V1))(Event("omnibus.test.Thing", value), CTX)


def test_unknown_schema_name_raises_serialization_error(catalog_of) -> None:
    with pytest.raises(SerializationError, match="unknown schema"):
        SingleObjectSerializer(catalog_of(THING_V1))(Event("omnibus.test.Nope", {}), CTX)
