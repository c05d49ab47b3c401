"""Topics own their serialisation: the default framing for most topics, a topic's own where it has one."""

from __future__ import annotations

from bus.config import RegistrySettings
from bus.serde import Event, SerdeContext, build_serde
from bus.topic import KafkaRecord, Topics
from tests.support.samples import identifiers_observed


class _Json:
    def __call__(self, event: Event, ctx: SerdeContext) -> bytes:
        return f"{ctx.topic}:{event.schema}".encode()


class _NotReady(_Json):
    def is_ready(self, event: Event, ctx: SerdeContext) -> bool:
        return False


def test_a_topic_with_its_own_serializer_and_the_default_for_the_rest() -> None:
    avro, deserializer = build_serde(RegistrySettings())
    topics = Topics(avro, {"internal.v1": _Json()})
    event = identifiers_observed("+8613800000001", sequence=1)

    own = topics.serialize("internal.v1", "k", event, [("h", b"1")])
    assert own == KafkaRecord("internal.v1", b"k", f"internal.v1:{event.schema}".encode(), (("h", b"1"),))

    framed = topics.serialize("contact.events.v1", None, event)
    assert framed.key is None and framed.value[:2] == b"\xc3\x01"  # single-object encoding
    decoded = deserializer(framed.value, SerdeContext(topic="contact.events.v1"))
    assert decoded.schema == event.schema
    assert decoded.value["envelope"]["source_event_id"] == event.value["envelope"]["source_event_id"]


def test_only_a_serializer_that_is_not_ready_needs_io() -> None:
    topics = Topics(_Json(), {"slow.v1": _NotReady()})
    event = Event("omnibus.test.Thing", {})
    assert topics.needs_io("slow.v1", event) is True
    assert topics.needs_io("fast.v1", event) is False


def test_serialize_now_is_serialize_or_none_when_the_serializer_is_not_ready() -> None:
    """The adapters' hot path (``EventProducer.encode_now``): one look-up of the topic's serializer for both."""
    topics = Topics(_Json(), {"slow.v1": _NotReady()})
    event = Event("omnibus.test.Thing", {})
    assert topics.serialize_now("slow.v1", "k", event) is None
    assert topics.serialize_now("fast.v1", "k", event, [("h", b"1")]) == topics.serialize(
        "fast.v1", "k", event, [("h", b"1")]) == KafkaRecord("fast.v1", b"k", b"fast.v1:omnibus.test.Thing",
                                                              (("h", b"1"),))
    assert topics.serialize_now("fast.v1", None, event) == KafkaRecord("fast.v1", None, b"fast.v1:omnibus.test.Thing")
