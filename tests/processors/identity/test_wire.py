import pytest

from bus.serde import Event, SerdeContext
from processors.identity.wire import (
    RoutingSerializer, decode_message, encode_message, encoded_graph_event, graph_event,
)
from tests.processors.identity.support import SERIALIZER, observed

CTX = SerdeContext(topic="t")


def test_protocol_messages_are_json_and_events_stay_avro() -> None:
    serializer = RoutingSerializer(SERIALIZER)
    assert serializer(encoded_graph_event(b'{"k":"x"}'), CTX) == b'{"k":"x"}'
    message = {"k": "visit", "saga": {"ids": ["PHONE:+86139"]}}
    assert decode_message(serializer(graph_event(message), CTX)) == message
    event = observed([("EMAIL", "a@x.org")])
    assert serializer(event, CTX) == SERIALIZER(event, CTX)
    assert serializer.is_ready(graph_event(message), CTX) and serializer.is_ready(event, CTX)


@pytest.mark.parametrize("data", [None, b"not json", b"[1]", b'{"no": "kind"}'])
def test_anything_else_on_the_graph_topic_is_refused(data: bytes | None) -> None:
    with pytest.raises(ValueError):
        decode_message(data)


def test_encoding_is_compact_utf8() -> None:
    assert encode_message({"k": "note", "with": "é"}) == '{"k":"note","with":"é"}'.encode()
    assert isinstance(graph_event({"k": "x"}), Event)


def test_messages_for_one_partition_travel_as_one_record_in_order() -> None:
    from processors.identity.graph.outputs import Send
    from processors.identity.wire import bundle, partition_of, unbundle

    sends = [Send(f"EMAIL:u{i}@x.org", {"k": "note", "n": i}) for i in range(40)]
    records = [(key, decode_message(data)) for key, data in bundle(sends, 4)]
    assert len(records) == 4
    unpacked = [pair for key, message in records for pair in unbundle(key, message)]
    assert sorted(unpacked, key=lambda pair: pair[1]["n"]) == [(s.node, s.message) for s in sends]
    for key, message in records:
        assert {partition_of(node, 4) for node, _ in unbundle(key, message)} == {partition_of(key, 4)}
        numbers = [inner["n"] for _, inner in unbundle(key, message)]
        assert numbers == sorted(numbers)  # order kept
    ((key, data),) = bundle(sends[:1], 4)
    assert (key, decode_message(data)) == (sends[0].node, sends[0].message)


def test_bundles_stay_under_the_size_cap() -> None:
    from processors.identity.graph.outputs import Send
    from processors.identity.wire import bundle, partition_of, unbundle

    node = "EMAIL:same@x.org"
    sends = [Send(node, {"k": "note", "pad": "x" * 1000, "n": i}) for i in range(50)]
    records = bundle(sends, 3, max_bytes=10_000)
    assert len(records) > 4 and all(len(data) <= 10_000 for _, data in records)
    numbers = [inner["n"] for key, data in records for _, inner in unbundle(key, decode_message(data))]
    assert numbers == list(range(50)) and {partition_of(key, 3) for key, _ in records} == {partition_of(node, 3)}
