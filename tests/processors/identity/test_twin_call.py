"""Issue #8 on a broker: a twin's call from the family phone, arriving after the other twin's record and before the
caller's own, waits on the phone and goes to the caller's customer when his record comes (``graph/seek.py``,
``contest.twin_names``); the fast tests replay all 120 orders (``graph/test_seek_twins.py``).

Counted per event id (``one_per_event_id``: a replayed batch publishes again under the same ids) and read after the
workers are quiet, never by timing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import CONTACT_EVENTS, CUSTOMER_CONTACTS, CUSTOMER_EVENTS, IDENTIFIERS_OBSERVED
from tests.processors.identity.broker import assignments, running_workers, wait_until_quiet, watched_topics
from tests.processors.identity.graph.test_seek_twins import contact, household
from tests.processors.identity.support import matcher_settings
from tests.support.kafka_io import one_per_event_id, read_dead_letters, read_events
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(240)
async def test_on_a_broker_the_late_twins_record_pulls_his_call_to_his_screen_pop(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=3)
    serializer, _ = build_serde(config.registry)
    events = {**household("ann", "tom", "tim"), **contact("tim")}
    call_id = events["call"][0].value["envelope"]["event_id"]
    topics = {"contact.events.v1": CONTACT_EVENTS.name(config.topics),
              "identity.observed.v1": IDENTIFIERS_OBSERVED.name(config.topics)}

    def batch(*names: str) -> list[Outgoing]:
        return [Outgoing(topics[topic], "PHONE:+33600000001", event) for event, topic in (events[n] for n in names)]

    async def call_keys() -> list[str | None]:
        return [landed.key for landed in one_per_event_id(await read_events(config, CUSTOMER_CONTACTS))
                if landed.event.value["envelope"]["event_id"] == call_id]

    async with running_workers(config, matcher_settings(), tmp_path, 1) as (worker,), \
            EventProducer(config, serializer) as producer:
        await producer.publish_many(batch("tom"))  # Tom's customer keeps the phone
        await wait_until_quiet(config, watched_topics(worker), worker.app.conf.id)
        await producer.publish_many(batch("call", "ivr"))  # Tim calls: his IVR traits, Tom's phone
        await wait_until_quiet(config, watched_topics(worker), worker.app.conf.id)
        assert await call_keys() == []  # on nobody's screen pop yet: pending on the phone, not on Tom's
        await producer.publish_many(batch("tim", "ann"))  # Tim's own record comes, then Ann's (she claims the phone)
        await wait_until_quiet(config, watched_topics(worker), worker.app.conf.id)
    owners = await assignments(config)
    ann, tom, tim = owners["ACCOUNT:1000001"], owners["ACCOUNT:2000002"], owners["ACCOUNT:3000003"]
    assert len({ann, tom, tim}) == 3 and owners["PHONE:+33600000001"] == ann
    survivor = {landed.event.value["merged_customer_id"]: landed.event.value["survivor_customer_id"]
                for landed in one_per_event_id(await read_events(config, CUSTOMER_EVENTS))
                if landed.event.schema.endswith("CustomerMerged")}

    def root(customer: str | None) -> str | None:
        while customer in survivor:
            customer = survivor[customer]
        return customer

    keys = await call_keys()
    assert len(keys) == 1 and root(keys[0]) == tim, (keys, tom, tim)
    assert await read_dead_letters(config) == []
