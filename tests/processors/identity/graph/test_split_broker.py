"""Contacts follow an operator's split on a real broker (#8 point 7): the identity worker with its screen pop.

Jonathan's e-mail and phone, the phone seen with a mistyped account (the wrong link), a counter visit that carried
only the account and one that carried the account and the phone. The operator's split command, published twice (a
redelivered command), moves the account: both visits follow it (the new customer's screen pop, ``customer.contacts``
under the new key with an id derived from the split): the mixed one by its highest-priority identifier, the account.
A visit after the split carrying Jonathan's e-mail and the account (tester10 #1) is refused as a link
(``split-do-not-merge``), lands on the account's customer, and the e-mail is flagged on both screen pops.
Outputs are counted per event id (``one_per_event_id``): a batch replayed after a rebalance publishes the same ids.
``omnibus verify`` agrees with the processor afterwards.

The other sections follow too: the father's product, subscribed on the mistyped account, and its account row (an
``AccountOpened`` that carried Jonathan's phone too, tester17 M1) leave Jonathan's screen pop with it, and
Jonathan's own product (through his phone) stays; the moved contact names the customer it left in its
``omnibus-moved-from`` header (``bus.topics.MOVED_FROM_HEADER``), which the KPI processor counts by.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import (
    BUSINESS_EVENTS,
    CONTACT_EVENTS,
    CUSTOMER_CONTACTS,
    CUSTOMER_EVENTS,
    IDENTIFIERS_OBSERVED,
    moved_from,
)
from processors.identity.cli_common import _publish
from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.outputs import moved_contact_id
from processors.identity.normalize import Identifier, IdentifierNormalizer
from processors.verify.run import averify
from tests.processors.identity.broker import assignments, running_workers, wait_until_quiet, watched_topics
from tests.processors.identity.support import account_opened, envelope, ident, observed, product_subscribed, settings
from tests.support.http import get_when_served
from tests.support.kafka_io import one_per_event_id, read_events, read_raw
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka

ACCOUNT, PHONE, EMAIL = ("ACCOUNT", "ACC-7718"), ("PHONE", "+33622222222"), ("EMAIL", "jonathan@t7.example")
# Per wait for the worker to settle: its start (group join, table restore) takes most of it on a loaded 2-core machine.
QUIET_WITHIN_S = 240.0


def identifier_key(identifier: tuple[str, str]) -> str:
    """The graph's key of ``identifier`` (``customer.identifiers``' key), as the worker of ``settings()`` makes it."""
    found = IdentifierNormalizer(settings()).normalize({"type": identifier[0], "value": identifier[1]})
    assert isinstance(found, Identifier), found
    return found.key


def counter_visit(transaction: str, identifiers: list[tuple[str, str]], minutes: int) -> Event:
    return Event("omnibus.contact.CounterTransaction", {
        "envelope": envelope("BRANCH", minutes=minutes), "transaction_id": transaction, "branch_id": "BR-12",
        "counter_id": "C3", "terminal_id": "T-9", "transaction_type": "deposit", "status": "COMPLETED",
        "amount": None, "ticket_id": None, "agent_id": "clerk-4",
        "customer_identifiers": [ident(k, v) for k, v in identifiers],
    })


async def screen_pop(http: aiohttp.ClientSession, port: int, customer: str) -> list[Any]:
    return sorted(entry["id"] for entry in (await screen_pop_json(http, port, customer))["recent_contacts"])


async def screen_pop_json(http: aiohttp.ClientSession, port: int, customer: str) -> dict[str, Any]:
    status, text = await get_when_served(http, f"http://127.0.0.1:{port}/customers/{customer}")
    assert status == 200, text
    return dict(json.loads(text))


async def products(http: aiohttp.ClientSession, port: int, customer: str) -> list[Any]:
    status, text = await get_when_served(http, f"http://127.0.0.1:{port}/customers/{customer}")
    assert status == 200, text
    return sorted(entry["product_code"] for entry in json.loads(text)["products"]["products"])


@pytest.mark.timeout(600)  # a worker's start and three quiet waits on a loaded 2-core CI machine
async def test_a_contact_follows_the_identifiers_an_operator_splits_off(bootstrap_servers: str,
                                                                         tmp_path: Path) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    only_account, mixed = counter_visit("TX-T7-1", [ACCOUNT], 2), counter_visit("TX-T7-2", [ACCOUNT, PHONE], 3)
    later = counter_visit("TX-T7-3", [EMAIL, ACCOUNT], 30)
    observed_topic, contacts_topic = IDENTIFIERS_OBSERVED.name(config.topics), CONTACT_EVENTS.name(config.topics)
    serializer, _ = build_serde(config.registry)
    async with EventProducer(config, serializer) as producer:
        await producer.publish_many([
            Outgoing(observed_topic, "a", observed([EMAIL, PHONE], minutes=0)),
            Outgoing(observed_topic, "b", observed([PHONE, ACCOUNT], minutes=1)),
            Outgoing(contacts_topic, "TX-T7-1", only_account), Outgoing(contacts_topic, "TX-T7-2", mixed),
            Outgoing(BUSINESS_EVENTS.name(config.topics), ACCOUNT[1],
                     product_subscribed(ACCOUNT[1], product="FATHER-TV", minutes=4)),
            Outgoing(BUSINESS_EVENTS.name(config.topics), "ACC-J",
                     product_subscribed("ACC-J", [PHONE], product="JONATHAN-FIBER", minutes=5)),
            Outgoing(BUSINESS_EVENTS.name(config.topics), ACCOUNT[1],  # tester17 M1: a customer-master line
                     account_opened(ACCOUNT[1], [PHONE], minutes=6))])

    async with running_workers(config, settings(), tmp_path, 1, web_ports=[0]) as workers:
        port = workers[0].app.conf.web_port  # bound when the worker was built (port 0), served on at its start
        group = workers[0].app.conf.id
        await wait_until_quiet(config, watched_topics(workers[0]), group, timeout_s=QUIET_WITHIN_S)
        owners = await assignments(config)
        # The mistyped account by its key: Jonathan's own account (ACC-J, his product's) is an ACCOUNT too, and the
        # compacted topic lists the two in no fixed order (picking the first split ACC-J off in 2 runs of 3).
        account = identifier_key(ACCOUNT)
        source = owners[account]
        assert set(owners.values()) == {source}, "the account is linked to Jonathan before the split"
        command = SplitCustomer([account], "account belongs to his father", str(uuid.uuid4()), int(time.time() * 1e6))
        await _publish(config, source, command)
        await _publish(config, source, command)  # the same command again: a redelivered split
        await wait_until_quiet(config, watched_topics(workers[0]), group, timeout_s=QUIET_WITHIN_S)
        async with EventProducer(config, serializer) as producer:  # tester10 #1: both sides' identifiers
            await producer.publish_many([Outgoing(contacts_topic, "TX-T7-3", later)])
        await wait_until_quiet(config, watched_topics(workers[0]), group, timeout_s=QUIET_WITHIN_S)
        async with aiohttp.ClientSession() as http:
            customer_events = [e.event for e in one_per_event_id(await read_events(config, CUSTOMER_EVENTS))]
            (split,) = [e for e in customer_events if e.schema == "omnibus.identity.CustomerSplit"]
            new = split.value["new_customer_id"]
            assert await screen_pop(http, port, new) == ["TX-T7-1", "TX-T7-2", "TX-T7-3"]
            assert await screen_pop(http, port, source) == []
            assert await products(http, port, new) == ["FATHER-TV"]
            assert await products(http, port, source) == ["JONATHAN-FIBER"]
            # the account row goes with its account, though its line carried Jonathan's phone too
            assert [a["account_number"] for a in (await screen_pop_json(http, port, new))["products"]["accounts"]] \
                == ["****7718"]
            assert (await screen_pop_json(http, port, source))["products"]["accounts"] == []
            for customer in (source, new):  # the refused e-mail, flagged on both screen pops
                flagged = {hint["type"]: set(hint["customer_ids"]) for hint in
                           (await screen_pop_json(http, port, customer))["shared_identifiers"]}
                assert flagged.get("EMAIL") == {source, new}, customer

    assert (await assignments(config))[account] == new
    published: dict[str, list[tuple[str | None, str]]] = {}
    for item in one_per_event_id(await read_events(config, CUSTOMER_CONTACTS)):
        envelope_ = item.event.value["envelope"]
        published.setdefault(item.event.value.get("transaction_id", ""), []).append((item.key, envelope_["event_id"]))
    first, second = (event.value["envelope"]["event_id"] for event in (only_account, mixed))
    moved = moved_contact_id(split.value["envelope"]["event_id"], first)
    # A contact that came before the link made a customer of its own, merged into Jonathan's since: its key then.
    survivor = {e.value["merged_customer_id"]: e.value["survivor_customer_id"] for e in customer_events
                if e.schema == "omnibus.identity.CustomerMerged"}

    def final(key: str | None) -> str | None:
        while key in survivor:
            key = survivor[key]
        return key

    assert sorted((final(key), event_id) for key, event_id in published["TX-T7-1"]) == sorted(
        [(source, first), (new, moved)])
    assert sorted((final(key), event_id) for key, event_id in published["TX-T7-2"]) == sorted(
        [(source, second), (new, moved_contact_id(split.value["envelope"]["event_id"], second))])
    assert published["TX-T7-3"] == [(new, later.value["envelope"]["event_id"])]
    refused = [e for e in customer_events if e.schema == "omnibus.identity.LinkRefused"
               and e.value["lineage"]["triggering_event_id"] == later.value["envelope"]["event_id"]]
    assert [e.value["lineage"]["rule"] for e in refused] == ["split-do-not-merge"]
    contacts_records = await read_raw(bootstrap_servers, CUSTOMER_CONTACTS.name(config.topics))
    # the two moved copies name the customer they left; the visit after the split was never elsewhere
    assert {moved_from(record.headers) for record in contacts_records if record.key == new.encode()} == {source, None}
    assert {moved_from(record.headers) for record in contacts_records if record.key != new.encode()} == {None}
    report = await averify(config, processors=("identity",), identity=settings())  # #8 point 4: verify agrees
    assert report.ok, "\n".join(report.lines())
