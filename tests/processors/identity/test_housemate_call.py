"""Issue #8 on a broker: a housemate's call from the family phone lands under the housemate's customer id on
``customer.contacts.v1`` (``graph/seek.py``, ``graph/contact_join.py``); the fast tests replay every arrival
order (``graph/test_seek.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import CONTACT_EVENTS, CUSTOMER_CONTACTS, CUSTOMER_EVENTS, IDENTIFIERS_OBSERVED
from tests.processors.identity.broker import assignments, running_workers, wait_until_quiet, watched_topics
from tests.processors.identity.graph.test_evidence import BOB
from tests.processors.identity.graph.test_seek import records
from tests.processors.identity.support import matcher_settings
from tests.support.kafka_io import one_per_event_id, read_dead_letters, read_events
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(240)
async def test_on_a_broker_a_housemates_call_is_keyed_by_his_customer_never_by_the_phones_keeper(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=3)
    serializer, _ = build_serde(config.registry)
    events = records(BOB)
    topics = {"contact.events.v1": CONTACT_EVENTS.name(config.topics),
              "identity.observed.v1": IDENTIFIERS_OBSERVED.name(config.topics)}

    def batch(*names: str) -> list[Outgoing]:
        return [Outgoing(topics[topic], "PHONE:+33600000001", event) for event, topic in (events[n] for n in names)]

    async with running_workers(config, matcher_settings(), tmp_path, 1) as (worker,), \
            EventProducer(config, serializer) as producer:
        await producer.publish_many(batch("ann", "bob"))  # the household first: Ann's customer keeps the phone
        await wait_until_quiet(config, watched_topics(worker), worker.app.conf.id)
        await producer.publish_many(batch("call", "ivr"))  # the contact and its IVR record, in either order
        await wait_until_quiet(config, watched_topics(worker), worker.app.conf.id)
    owners = await assignments(config)
    ann, bob = owners["ACCOUNT:1000001"], owners["ACCOUNT:2000002"]
    assert ann != bob and owners["PHONE:+33600000001"] == ann
    survivor = {landed.event.value["merged_customer_id"]: landed.event.value["survivor_customer_id"]
                for landed in one_per_event_id(await read_events(config, CUSTOMER_EVENTS))
                if landed.event.schema.endswith("CustomerMerged")}

    def root(customer: str | None) -> str | None:
        while customer in survivor:
            customer = survivor[customer]
        return customer

    keys = [landed.key for landed in one_per_event_id(await read_events(config, CUSTOMER_CONTACTS))
            if landed.event.schema.endswith("InteractionRecorded")]
    assert len(keys) == 1 and root(keys[0]) == bob and ann not in keys
    assert await read_dead_letters(config) == []
