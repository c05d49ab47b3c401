"""Every native record is counted once as received, whatever became of it."""

from __future__ import annotations

from prometheus_client import REGISTRY

from adapters.base.dedupe import DedupeStore
from adapters.base.errors import RejectedInput
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from bus.errors import RawRecord
from bus.producer import Outgoing
from bus.serde import Event


class AckingKafka:
    async def publish_many(self, items: list[Outgoing]) -> list[object]:
        return [object() for _ in items]


class DeadLetters:
    def __init__(self) -> None:
        self.written: list[str] = []

    async def write(self, record: RawRecord, *, reason: str, error_type: str, dead_letter_id: str | None = None) -> None:
        self.written.append(reason)


def count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_received_is_published_plus_duplicates_plus_rejected() -> None:
    adapter = "metrics-test"
    dead_letters = DeadLetters()
    publisher = AdapterPublisher(adapter, AckingKafka(), DedupeStore(None, 60), dead_letters,  # type: ignore[arg-type]
                                 retry_after_s=1)
    event = Outgoing("t", "k", Event("s", {}))
    await publisher.submit([MappedRecord("a", (event,)), MappedRecord("b", (event,))])
    await publisher.submit([MappedRecord("a", (event,))])  # a redelivery
    await publisher.reject(RawRecord(value=b"{"), RejectedInput("body is not JSON", code="bad_json"))

    assert count("omnibus_adapter_records_received_total", adapter=adapter) == 4
    assert count("omnibus_adapter_events_published_total", adapter=adapter) == 2
    assert count("omnibus_adapter_duplicates_total", adapter=adapter) == 1
    assert count("omnibus_adapter_records_rejected_total", adapter=adapter, reason="bad_json") == 1
    assert dead_letters.written == ["body is not JSON"]
