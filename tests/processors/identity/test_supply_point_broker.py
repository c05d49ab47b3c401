"""tester28 F5 on a broker: a billing export's meter point, then a CTR that gives only the meter point and opens a
handoff, then the tracker's status event of that handoff, and a withheld caller's handoff that names nobody.

The records are what the billing import and the call-center adapter publish (their mappers), on a real broker, through
an identity worker: the meter point is assigned to the holder's customer, the call and its handoff are keyed by that
customer on ``customer.contacts.v1``, and nothing is dead-lettered (the status event of the handoff that names no
customer was, as ``NoIdentifier``). Read after the worker is quiet, counted per event id, never by timing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bus.config import OmnibusSettings
from bus.producer import Outgoing
from bus.serde import Event
from bus.topics import BUSINESS_EVENTS, CONTACT_EVENTS, HANDOFF_EVENTS, IDENTIFIERS_OBSERVED
from tests.processors.handoffs.factories import acknowledged, created
from tests.processors.handoffs.test_profile_section import status_events
from tests.processors.identity.broker import WorkerFactory, assignments
from tests.processors.identity.calls_broker import contact_keys
from tests.processors.identity.graph.test_recycled_tenant import TIMINGS, Item
from tests.processors.identity.graph.test_supply_point import PRM, line, meter_call
from tests.support.kafka_io import read_dead_letters

pytestmark = pytest.mark.kafka

LOGICAL = {"business.events.v1": BUSINESS_EVENTS, "identity.observed.v1": IDENTIFIERS_OBSERVED,
           "contact.events.v1": CONTACT_EVENTS, "handoff.events.v1": HANDOFF_EVENTS}


def outgoing(config: OmnibusSettings, items: list[Item]) -> list[Outgoing]:
    """The mapped records on this test's topics (the mappers name the default prefix's), keyed by event id."""
    def spec(topic: str) -> str:
        logical = next(name for name in LOGICAL if topic.endswith(name))
        return LOGICAL[logical].name(config.topics)

    return [Outgoing(spec(topic), event.value["envelope"]["event_id"], event) for event, topic in items]


@pytest.mark.timeout(300)
async def test_on_a_broker_a_meter_only_caller_and_his_handoff_reach_the_holder_and_nothing_is_dead_lettered(
    identity_worker: WorkerFactory,
) -> None:
    timing = TIMINGS["ordered"]
    billing = line("claire", timing.claire)
    call = meter_call(timing.contact)
    (opened,) = [event for event, _ in call if event.schema.endswith("HandoffCreated")]
    later = timing.contact + timedelta(hours=2)
    status = [(event, "handoff.events.v1")
              for event in status_events(opened, acknowledged(opened.value["handoff_id"], later))]
    nameless = created("CASE-NOBODY", later)
    nameless = Event(nameless.schema, {**nameless.value, "customer_identifiers": []})  # a withheld caller's handoff
    nameless_status = [(event, "handoff.events.v1")
                       for event in status_events(nameless, acknowledged("CASE-NOBODY", later))]
    async with identity_worker() as run:
        config = run.config
        await run.publish(outgoing(config, billing))
        await run.publish(outgoing(config, [*call, *status, *nameless_status]))
    owners = await assignments(config)
    claire = owners["ACCOUNT:EA-00200001"]
    assert owners[f"SUPPLY_POINT:{PRM}"] == claire
    (contact,) = [event for event, _ in call if event.schema.endswith("CallCompleted")]
    assert set(await contact_keys(config, contact.value["envelope"]["event_id"])) == {claire}
    assert set(await contact_keys(config, opened.value["envelope"]["event_id"])) == {claire}
    for event, _ in status:  # the tracker's status event: on the holder too
        assert set(await contact_keys(config, event.value["envelope"]["event_id"])) == {claire}
    assert await read_dead_letters(config) == []
