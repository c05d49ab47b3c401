"""Encoding a record keeps what the sender's answer lists (tester19 F8: the real publisher rebuilt the record
without its ``dropped_traits``, so no 2xx answer named a bad birth date though the stand-in publisher's tests did)."""

from __future__ import annotations

import pytest

from adapters.base.dedupe import DedupeStore
from adapters.base.errors import Unavailable
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from bus import registry_outage
from bus.producer import EventProducer, Outgoing
from bus.serde import ConfluentSerializer, Event
from bus.topic import KafkaRecord
from schemas.catalog import default_catalog
from tests.bus.test_producer_registry_wait import DownRegistry
from tests.support.samples import identifiers_observed
from tests.support.settings import isolated_settings


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


async def test_an_event_whose_schema_cannot_be_registered_is_unavailable_503_with_retry_after_not_a_wait() -> None:
    """The first event of a type since the adapter started needs its schema registered: with the registry down the
    adapter's producer (no ``wait_for_registry``) raises at once, and the publisher answers 503 with Retry-After."""
    registry = DownRegistry(failures=1)
    producer = EventProducer(isolated_settings("127.0.0.1:9"),
                             ConfluentSerializer(default_catalog(), registry))  # type: ignore[arg-type]
    real = AdapterPublisher("encode-test", producer, DedupeStore(None, 60), None, retry_after_s=7)
    record = MappedRecord("b", (Outgoing("acme.identity.observed.v1", "k", identifiers_observed("+8613800000001")),))
    with pytest.raises(Unavailable) as raised:
        await real.encode(record)
    assert raised.value.retry_after_s == 7 and "schema registry unavailable" in raised.value.reason
    assert registry.calls == 1 and not registry_outage.OUTAGE.ongoing()
