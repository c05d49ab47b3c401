import pytest

from bus.serde import SerdeContext
from processors.identity.graph.messages.steps import Note, Visit
from processors.identity.graph.outputs import Send
from processors.identity.graph.saga import new_saga
from processors.identity.wire import (
    RoutingSerializer,
    bundle,
    decode_record,
    encode_record,
    encoded_graph_event,
    partition_of,
)
from tests.processors.identity.support import SERIALIZER, observed

CTX = SerdeContext(topic="t")


def test_protocol_records_pass_as_encoded_and_events_stay_avro() -> None:
    serializer = RoutingSerializer(SERIALIZER)
    pairs = [("PHONE:+86139", Visit(new_saga("e1", "WEB", 5, ["PHONE:+86139"], None, 0.0)))]
    record = encode_record(pairs)
    assert serializer(encoded_graph_event(record), CTX) == record
    assert decode_record(record) == pairs
    event = observed([("EMAIL", "a@x.org")])
    assert serializer(event, CTX) == SERIALIZER(event, CTX)
    assert serializer.is_ready(encoded_graph_event(record), CTX) and serializer.is_ready(event, CTX)


@pytest.mark.parametrize("data", [None, b"not msgpack", b"\x91\x01", b'{"k": "visit"}', b"\x91\x92\xa1A\x91\xa4nope"])
def test_anything_else_on_the_graph_topic_is_refused(data: bytes | None) -> None:
    with pytest.raises(ValueError):
        decode_record(data)


def test_encoding_is_compact_msgpack_without_field_names() -> None:
    record = encode_record([("EMAIL:a@x.org", Note("cus_0123456789abcdef012345678"))])
    assert record == b"\x91\x92\xadEMAIL:a@x.org\x92\xa4note\xbdcus_0123456789abcdef012345678"


def test_messages_for_one_partition_travel_as_one_record_in_order() -> None:
    sends = [Send(f"EMAIL:u{i}@x.org", Note(f"cus_{i:03d}")) for i in range(40)]
    records = [(key, decode_record(data)) for key, data in bundle(sends, 4)]
    assert len(records) == 4
    unpacked = [pair for _, pairs in records for pair in pairs]
    assert sorted(unpacked, key=lambda pair: pair[1].refused_with) == [(s.node, s.message) for s in sends]
    for key, pairs in records:
        assert {partition_of(node, 4) for node, _ in pairs} == {partition_of(key, 4)}
        numbers = [message.refused_with for _, message in pairs]
        assert numbers == sorted(numbers)  # order kept
    ((key, data),) = bundle(sends[:1], 4)
    assert (key, decode_record(data)) == (sends[0].node, [(sends[0].node, sends[0].message)])


def test_bundles_stay_under_the_size_cap() -> None:
    node = "EMAIL:same@x.org"
    sends = [Send(node, Note(f"{i:03d}" + "x" * 1000)) for i in range(50)]
    records = bundle(sends, 3, max_bytes=10_000)
    assert len(records) > 4 and all(len(data) <= 10_000 for _, data in records)
    numbers = [int(message.refused_with[:3]) for _, data in records for _, message in decode_record(data)]
    assert numbers == list(range(50)) and {partition_of(key, 3) for key, _ in records} == {partition_of(node, 3)}
