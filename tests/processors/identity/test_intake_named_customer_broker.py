"""On a broker: the tracker's events of a case whose customer holds none of its contact points any longer name him by
``customer_id`` alone (``customer_identifiers: []``, ``needs_contact``), and identity places them on him.

Ann's case was opened from her mobile; the number went to someone else, so the tracker's next status events name Ann
(``customer_id``) and no identifier. Intake (``processors/identity/intake.py``) sends each to the customer it names:
it is keyed by Ann on ``customer.contacts.v1``, her screen pop shows the case at the acknowledged version and then no
longer (resolved), and nothing is dead-lettered (an event naming no identifier was taken for anonymous: dropped, and
her pop kept the case open at its first version). Read after the worker is quiet, counted per event id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bus.serde import Event
from tests.processors.handoffs.factories import acknowledged, created, resolved
from tests.processors.handoffs.test_profile_section import status_events
from tests.processors.identity.broker import WorkerFactory, assignments
from tests.processors.identity.calls_broker import contact_keys
from tests.processors.identity.graph.test_split_broker import identifier_key, screen_pop_json
from tests.processors.identity.support import ident, observed
from tests.processors.identity.test_supply_point_broker import outgoing
from tests.support.kafka_io import read_dead_letters

pytestmark = pytest.mark.kafka

MOBILE, ACCOUNT = ("PHONE", "+33611223344"), ("ACCOUNT", "ACC-ANN-77")
CASE = "h-lost-number"


def nameless(event: Event, customer: str) -> Event:
    """``event`` as the tracker publishes it once its customer lost the case's last contact point."""
    return Event(event.schema, {**event.value, "customer_id": customer, "customer_identifiers": [],
                                "needs_contact": True})


async def open_cases(http: aiohttp.ClientSession, port: int, customer: str) -> dict[str, int]:
    """The customer's screen pop's open handoffs: id -> version."""
    return {entry["handoff_id"]: entry["version"]
            for entry in (await screen_pop_json(http, port, customer))["open_handoffs"]}


@pytest.mark.timeout(400)  # a worker's start and three quiet waits on a loaded 2-core CI machine
async def test_on_a_broker_status_events_naming_only_the_customer_land_on_her(identity_worker: WorkerFactory) -> None:
    at = datetime.now(UTC) - timedelta(hours=3)
    opened = created(CASE, at, identifiers=[ident(*MOBILE)])
    first, acked, done = status_events(opened, acknowledged(CASE, at + timedelta(hours=1)),
                                       resolved(CASE, at + timedelta(hours=2)))
    async with identity_worker(web_port=0) as run, aiohttp.ClientSession() as http:
        port = run.worker.app.conf.web_port  # bound when the worker was built (port 0), served on at its start
        config = run.config
        await run.publish(outgoing(config, [(observed([ACCOUNT, MOBILE], minutes=0), "identity.observed.v1")]))
        ann = (await assignments(config))[identifier_key(ACCOUNT)]
        await run.publish(outgoing(config, [(opened, "handoff.events.v1"), (first, "handoff.events.v1")]))
        assert await open_cases(http, port, ann) == {CASE: first.value["version"]}
        acked = nameless(acked, ann)
        await run.publish(outgoing(config, [(acked, "handoff.events.v1")]))
        assert await open_cases(http, port, ann) == {CASE: acked.value["version"]}
        done = nameless(done, ann)
        await run.publish(outgoing(config, [(done, "handoff.events.v1")]))
        assert await open_cases(http, port, ann) == {}
    for event in (acked, done):
        assert set(await contact_keys(config, event.value["envelope"]["event_id"])) == {ann}
    assert await read_dead_letters(config) == []
