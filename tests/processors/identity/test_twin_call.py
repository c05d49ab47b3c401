"""Issue #8 on a broker: a twin's call from the family phone goes to the caller's customer, never the other twin's
(``graph/seek.py``, ``contest.twin_names``); the fast tests replay all 120 orders (``graph/test_seek_twins.py``).

* The call arrives after the other twin's record and before the caller's own: it is on ``customer.contacts`` at once,
  under a customer of its own (not the other twin's), and under the caller's once his record comes (merged by
  blocking).
* tester10 #2: the caller's records never carried the family phone (his account and e-mail only): his call, which
  waited on the phone for ever (on no screen pop, not on ``customer.contacts``), is on ``customer.contacts`` under a
  customer of its own, never the phone keeper's. Blocking meets it with his customer on the IVR's name and birth date
  alone, which is a review, not a merge (``MATCH_UNLINKED_FIELDS``: anyone who knows them can type them;
  ``graph/test_seek_twins.py::under_review``).

Counted per event id (``calls_broker.contact_keys``) and read after the workers are quiet, never by timing."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.processors.identity.broker import WorkerFactory, assignments
from tests.processors.identity.calls_broker import batch, contact_keys, root, survivors
from tests.processors.identity.graph.test_seek_twins import EMAILS, IVR_FIELDS, contact, household
from tests.support.http import get_when_served
from tests.support.kafka_io import read_dead_letters

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(240)
async def test_on_a_broker_the_late_twins_record_pulls_his_call_to_his_screen_pop(
    identity_worker: WorkerFactory,
) -> None:
    events = {**household("ann", "tom", "tim"), **contact("tim")}
    call_id = events["call"][0].value["envelope"]["event_id"]
    async with identity_worker() as run:
        config = run.config
        await run.publish(batch(config, events, "tom"))  # Tom's customer keeps the phone
        await run.publish(batch(config, events, "call", "ivr"))  # Tim calls: his IVR traits, Tom's phone
        early = await contact_keys(config, call_id)
        tom_then = (await assignments(config))["ACCOUNT:2000002"]
        # Not lost, and not Tom's: under a customer of its own until Tim's record comes.
        assert len(early) == 1 and early[0] != tom_then
        await run.publish(batch(config, events, "tim", "ann"))  # Tim's record, then Ann's (claims the phone)
    owners = await assignments(config)
    ann, tom, tim = owners["ACCOUNT:1000001"], owners["ACCOUNT:2000002"], owners["ACCOUNT:3000003"]
    assert len({ann, tom, tim}) == 3 and owners["PHONE:+33600000001"] == ann
    keys = await contact_keys(config, call_id)
    assert keys == early and root(await survivors(config), keys[0]) == tim, (keys, tom, tim)
    assert await read_dead_letters(config) == []


async def _screen_pop(http: aiohttp.ClientSession, port: int, kind: str, value: str) -> dict[str, Any]:
    status, text = await get_when_served(http, f"http://127.0.0.1:{port}/customers/lookup",
                                         {"type": kind, "value": value})
    assert status == 200, text
    found: dict[str, Any] = json.loads(text)
    return found


@pytest.mark.timeout(240)
async def test_on_a_broker_a_twin_who_never_carried_the_family_phone_gets_his_call(
    identity_worker: WorkerFactory,
) -> None:
    """tester10 #2 as found: Tom's customer keeps the family phone; Tim's has his account and e-mail; Tim calls from
    the phone and the IVR takes his name and birth date: the call on a customer of its own, not Tom's, waiting for
    review with Tim's."""
    events = {**household("tom", "tim", without_phone=("tim",)), **contact("tim", asked=IVR_FIELDS)}
    call_id = events["call"][0].value["envelope"]["event_id"]
    async with identity_worker(web_port=0) as run:
        port = run.worker.app.conf.web_port  # bound when the worker was built (port 0), served on at its start
        config = run.config
        await run.publish(batch(config, events, "tom", "tim"))
        await run.publish(batch(config, events, "ivr", "call"))
        async with aiohttp.ClientSession() as http:
            tims = await _screen_pop(http, port, *EMAILS["tim"])
            keepers = await _screen_pop(http, port, "PHONE", "+33600000001")
    owners = await assignments(config)
    tom, tim = owners["ACCOUNT:2000002"], owners["ACCOUNT:3000003"]
    assert tom != tim and owners["PHONE:+33600000001"] == tom
    keys = await contact_keys(config, call_id)
    assert len(keys) == 1 and root(await survivors(config), keys[0]) not in {tom, tim}, (keys, tom, tim)
    assert tims["customer_id"] == tim and tims["recent_contacts"] == [], tims  # until an operator accepts the review
    assert keepers["customer_id"] == tom and keepers["recent_contacts"] == [], keepers
    assert await read_dead_letters(config) == []
