"""Encoding a record keeps what the sender's answer lists (tester19 F8: the real publisher rebuilt the record
without its ``dropped_traits``, so no 2xx answer named a bad birth date though the stand-in publisher's tests did)."""

from __future__ import annotations

from adapters.base.dedupe import DedupeStore
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from bus.producer import Outgoing
from bus.serde import Event
from bus.topic import KafkaRecord


class EncodingKafka:
    def encode_now(self, outgoing: Outgoing) -> KafkaRecord:
        return KafkaRecord(outgoing.topic, outgoing.key.encode(), b"wire")

    async def encode(self, outgoing: Outgoing) -> KafkaRecord:
        return self.encode_now(outgoing)

    async def publish_many(self, events: list[Outgoing], encoded: object = None, *, batched: bool = False) -> list[object]:
        return [object() for _ in events]  # every one acknowledged


def publisher(name: str = "encode-test") -> AdapterPublisher:
    """The real publisher, on a producer that encodes and acknowledges without a broker."""
    return AdapterPublisher(name, EncodingKafka(), DedupeStore(None, 60), None,  # type: ignore[arg-type]
                            retry_after_s=1)


RECORD = MappedRecord("a", (Outgoing("t", "k", Event("s", {})),), dropped_traits={"birth_date": "not a date of birth"})


def test_encode_now_keeps_the_dropped_traits() -> None:
    encoded = publisher().encode_now(RECORD)
    assert encoded is not None and encoded.encoded and encoded.dropped_traits == RECORD.dropped_traits


async def test_encode_keeps_the_dropped_traits() -> None:
    encoded = await publisher().encode(RECORD)
    assert encoded.encoded and encoded.dropped_traits == RECORD.dropped_traits
