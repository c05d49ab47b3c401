"""``EventProducer.encode`` when the schema of a record must first be registered and the registry does not answer:
a processor's producer (``wait_for_registry``) waits; an adapter's or a command's raises (503, status 69)."""

from __future__ import annotations

from typing import Any

import pytest

from bus import registry_outage
from bus.errors import SchemaRegistryError
from bus.producer import EventProducer, Outgoing
from bus.serde import ConfluentSerializer
from bus.serde.framing import CONFLUENT_HEADER
from schemas.catalog import default_catalog
from tests.support.samples import identifiers_observed
from tests.support.settings import isolated_settings

TOPIC = "acme.identity.observed.v1"


class DownRegistry:
    """A registry that does not answer the first ``failures`` registrations, then registers under id 7."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise SchemaRegistryError("schema registry at http://r unreachable: [Errno 111] Connection refused",
                                      retriable=True)
        return 7

    def is_cached(self, subject: str, schema: dict[str, Any]) -> bool:
        return False


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(registry_outage.asyncio, "sleep", no_wait)
    return waits


def _producer(registry: DownRegistry, *, wait_for_registry: bool) -> EventProducer:
    serializer = ConfluentSerializer(default_catalog(), registry)  # type: ignore[arg-type]
    return EventProducer(isolated_settings("127.0.0.1:9"), serializer, wait_for_registry=wait_for_registry)


async def test_a_processor_s_first_record_of_a_type_waits_for_the_registry_to_register_its_schema(
        slept: list[float]) -> None:
    """A processor that registered a new output schema while the registry was down exited 1."""
    registry = DownRegistry(failures=3)
    record = await _producer(registry, wait_for_registry=True).encode(
        Outgoing(TOPIC, "k-1", identifiers_observed("+8613800000001")))
    assert record.value is not None and record.value[:CONFLUENT_HEADER.size] == CONFLUENT_HEADER.pack(0, 7)
    assert registry.calls == 4 and len(slept) == 3
    assert not registry_outage.OUTAGE.ongoing()


async def test_an_adapter_s_or_a_command_s_producer_raises_the_outage_at_once(slept: list[float]) -> None:
    """The adapter turns it into 503 with Retry-After (``adapters.base.publisher``), a command into status 69."""
    registry = DownRegistry(failures=1)
    with pytest.raises(SchemaRegistryError) as raised:
        await _producer(registry, wait_for_registry=False).encode(
            Outgoing(TOPIC, "k-1", identifiers_observed("+8613800000001")))
    assert raised.value.retriable and registry.calls == 1 and slept == []
    assert not registry_outage.OUTAGE.ongoing()


async def test_a_registry_that_refuses_the_schema_is_no_outage_and_is_not_waited_for(slept: list[float]) -> None:
    class Refusing(DownRegistry):
        def register(self, subject: str, schema: dict[str, Any]) -> int:
            raise SchemaRegistryError("schema registry answered 409 to register: incompatible", status=409)

    with pytest.raises(SchemaRegistryError, match="409"):
        await _producer(Refusing(0), wait_for_registry=True).encode(
            Outgoing(TOPIC, "k-1", identifiers_observed("+8613800000001")))
    assert slept == []
