"""A real schema registry stopped under the shared decode path (``bus.consume.RecordDecoder``), then started again.

A registry restarted after the broker crashed identity, handoffs and offers (exit 1) on the first record whose writer
schema id they had not cached. Here a record written through the registry is decoded by a fresh client (its id not
cached) while the registry is stopped: the decode waits, nothing is dead-lettered, and it answers the event once the
registry is back. The dead-letter sink is a list: the test asserts it is never written to.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bus import registry_outage
from bus.config import RegistrySettings
from bus.consume import RecordDecoder
from bus.errors import RawRecord
from bus.serde import SerdeContext, build_serde
from tests.bus.test_consume import Letters
from tests.support.registry import stoppable_registry
from tests.support.samples import identifiers_observed

pytestmark = [pytest.mark.registry]
TOPIC = "omnibus.identity.observed.v1"


async def test_a_decode_waits_while_the_registry_is_stopped_and_answers_when_it_is_back(tmp_path: Path) -> None:
    registry = stoppable_registry(tmp_path / "registry")  # comes back where the clients look, with its schemas
    try:
        settings = RegistrySettings(url=registry.url)
        serializer, _ = build_serde(settings)
        event = identifiers_observed("+8613800000001")
        record = RawRecord(value=serializer(event, SerdeContext(topic=TOPIC)), topic=TOPIC, partition=0, offset=0)
        _, fresh = build_serde(settings)  # a worker started since: the id is not cached
        letters = Letters()
        decoder = RecordDecoder(fresh, letters)  # type: ignore[arg-type]

        registry.stop()
        decoding = asyncio.create_task(decoder.decode(record))
        for _ in range(100):
            if registry_outage.OUTAGE.ongoing():
                break
            await asyncio.sleep(0.1)
        assert registry_outage.OUTAGE.ongoing() and registry_outage.OUTAGE.reason() is not None
        await asyncio.sleep(2.0)
        assert not decoding.done() and letters.errors == []  # waiting: neither failed nor dead-lettered

        await asyncio.to_thread(registry.start)
        decoded = await asyncio.wait_for(decoding, timeout=60)
        assert decoded == event and letters.errors == []
        assert not registry_outage.OUTAGE.ongoing()
    finally:
        registry.stop()
