"""A real schema registry stopped while a processor's producer must register an output schema, then started again.

A processor whose first record of a type after its start (or a new schema version) came while the registry was down
exited 1. Its producer (``worker_producer``, every processor's) now waits: the record is not encoded, so not
produced, until the registry answers; an adapter's producer (the default) still raises at once, for its 503.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bus import registry_outage
from bus.config import RegistrySettings
from bus.errors import SchemaRegistryError
from bus.producer import EventProducer, Outgoing, worker_producer
from bus.serde import SerdeContext, build_serde
from tests.support.registry import stoppable_registry
from tests.support.samples import identifiers_observed
from tests.support.settings import isolated_settings

pytestmark = [pytest.mark.registry]
TOPIC = "omnibus.identity.observed.v1"


async def test_a_processor_s_registration_waits_while_the_registry_is_stopped_and_goes_on_when_it_is_back(
        tmp_path: Path) -> None:
    registry = stoppable_registry(tmp_path / "registry")
    try:
        settings = isolated_settings("127.0.0.1:9", registry={"url": registry.url})
        event = identifiers_observed("+8613800000001")
        serializer, _ = build_serde(settings.registry)  # a worker that has not registered this schema yet
        waiting = worker_producer(settings, serializer)
        adapter = EventProducer(settings, build_serde(settings.registry)[0])

        registry.stop()
        with pytest.raises(SchemaRegistryError) as raised:  # the adapter answers 503 with Retry-After on this
            await adapter.encode(Outgoing(TOPIC, "k-1", event))
        assert raised.value.retriable
        encoding = asyncio.create_task(waiting.encode(Outgoing(TOPIC, "k-1", event)))
        for _ in range(100):
            if registry_outage.OUTAGE.ongoing():
                break
            await asyncio.sleep(0.1)
        assert registry_outage.OUTAGE.ongoing() and registry_outage.OUTAGE.reason() is not None
        await asyncio.sleep(2.0)
        assert not encoding.done()  # waiting: nothing to produce yet

        await asyncio.to_thread(registry.start)
        record = await asyncio.wait_for(encoding, timeout=60)
        assert not registry_outage.OUTAGE.ongoing()
        _, reader = build_serde(RegistrySettings(url=registry.url))  # another process reads it with the new id
        assert record.value is not None and reader(record.value, SerdeContext(topic=TOPIC)) == event
    finally:
        registry.stop()
