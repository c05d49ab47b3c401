"""The baseline worker through a real broker: contacts re-keyed by customer, state rebuilt by replay."""

from __future__ import annotations

import asyncio
import time

import pytest

from bus.config import OmnibusSettings
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import CUSTOMER_CONTACTS, CUSTOMER_EVENTS
from processors.identity.baseline.worker import BaselineWorker
from tests.processors.identity.support import interaction
from tests.processors.identity.support import settings as identity_settings
from tests.support.kafka_io import one_per_event_id, read_events
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


async def _publish(settings: OmnibusSettings, events: list[Event]) -> None:
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:
        await producer.publish_many([Outgoing(f"{settings.topics.prefix}.contact.events.v1", "k", e) for e in events])


async def _contacts_once(settings: OmnibusSettings, wanted: int, timeout_s: float = 60.0) -> dict[str, str]:
    """``{interaction id: customer id}`` from the contact stream, once ``wanted`` contacts are there."""
    deadline = time.monotonic() + timeout_s
    while True:
        landed = await read_events(settings, CUSTOMER_CONTACTS)
        found = {r.event.value["interaction_id"]: r.key for r in landed
                 if r.event.schema == "omnibus.contact.InteractionRecorded"}
        if len(found) >= wanted or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


async def _run_until(worker: BaselineWorker, settings: OmnibusSettings, wanted: int) -> dict[str, str]:
    task = asyncio.create_task(worker.run())
    try:
        return await _contacts_once(settings, wanted)
    finally:
        worker.stop()
        await task


@pytest.mark.timeout(180)
async def test_contacts_come_out_by_customer_and_a_restarted_worker_remembers_its_customers(
    bootstrap_servers: str,
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=2)
    first = [interaction([("EMAIL", "a@x.org")], interaction_id="i1"),
             interaction([("EMAIL", "a@x.org"), ("PHONE", "+8613900000001")], interaction_id="i2"),
             interaction([("EMAIL", "b@x.org")], interaction_id="i3")]
    await _publish(settings, first)
    found = await _run_until(BaselineWorker(settings, identity_settings()), settings, 3)
    assert found["i1"] == found["i2"] != found["i3"]

    # A new worker process (empty memory) replays the decide log: the phone still belongs to a's customer.
    await _publish(settings, [interaction([("PHONE", "+8613900000001")], interaction_id="i4")])
    found = await _run_until(BaselineWorker(settings, identity_settings()), settings, 4)
    assert found["i4"] == found["i1"]
    announced = [r.event.schema.rsplit(".", 1)[1] for r in one_per_event_id(await read_events(settings, CUSTOMER_EVENTS))]
    assert announced.count("CustomerCreated") == 2 and announced.count("CustomerLinked") == 1
