"""Issue #8 on a broker: a housemate's call from the family phone lands under the housemate's customer id on
``customer.contacts.v1`` (``graph/seek.py``, ``graph/contact_join.py``); the fast tests replay every arrival
order (``graph/test_seek.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bus.producer import EventProducer
from bus.serde import build_serde
from tests.processors.identity.broker import assignments, running_workers, wait_until_quiet, watched_topics
from tests.processors.identity.calls_broker import batch, contact_keys, root, survivors
from tests.processors.identity.graph.test_evidence import BOB
from tests.processors.identity.graph.test_seek import records
from tests.processors.identity.support import matcher_settings
from tests.support.kafka_io import read_dead_letters
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(240)
async def test_on_a_broker_a_housemates_call_is_keyed_by_his_customer_never_by_the_phones_keeper(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=3)
    serializer, _ = build_serde(config.registry)
    events = records(BOB)
    async with running_workers(config, matcher_settings(), tmp_path, 1) as (worker,), \
            EventProducer(config, serializer) as producer:
        # The household first: Ann's customer keeps the phone.
        await producer.publish_many(batch(config, events, "ann", "bob"))
        await wait_until_quiet(config, watched_topics(worker), worker.app.conf.id)
        # The contact and its IVR record, in either order.
        await producer.publish_many(batch(config, events, "call", "ivr"))
        await wait_until_quiet(config, watched_topics(worker), worker.app.conf.id)
    owners = await assignments(config)
    ann, bob = owners["ACCOUNT:1000001"], owners["ACCOUNT:2000002"]
    assert ann != bob and owners["PHONE:+33600000001"] == ann
    keys = await contact_keys(config, events["call"][0].value["envelope"]["event_id"])
    assert len(keys) == 1 and root(await survivors(config), keys[0]) == bob and ann not in keys
    assert await read_dead_letters(config) == []
