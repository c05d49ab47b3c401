"""Issue #8 on a broker: a housemate's call from the family phone lands under the housemate's customer id on
``customer.contacts.v1`` (``graph/seek.py``, ``graph/contact_join.py``); the fast tests replay every arrival
order (``graph/test_seek.py``)."""

from __future__ import annotations

import pytest

from tests.processors.identity.broker import WorkerFactory, assignments
from tests.processors.identity.calls_broker import batch, contact_keys, root, survivors
from tests.processors.identity.graph.test_evidence import BOB
from tests.processors.identity.graph.test_seek import records
from tests.support.kafka_io import read_dead_letters

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(240)
async def test_on_a_broker_a_housemates_call_is_keyed_by_his_customer_never_by_the_phones_keeper(
    identity_worker: WorkerFactory,
) -> None:
    events = records(BOB)
    async with identity_worker() as run:
        config = run.config
        await run.publish(batch(config, events, "ann", "bob"))  # the household first: Ann's customer keeps the phone
        await run.publish(batch(config, events, "call", "ivr"))  # the contact and its IVR record, in either order
    owners = await assignments(config)
    ann, bob = owners["ACCOUNT:1000001"], owners["ACCOUNT:2000002"]
    assert ann != bob and owners["PHONE:+33600000001"] == ann
    keys = await contact_keys(config, events["call"][0].value["envelope"]["event_id"])
    assert len(keys) == 1 and root(await survivors(config), keys[0]) == bob and ann not in keys
    assert await read_dead_letters(config) == []
