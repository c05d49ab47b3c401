"""Tester21 F17: who keeps a family mobile must not depend on whether a call that tells nobody came first.

The sample: a core-banking export's lines for Paul Petit (father, 1960, ACC-1003) and Julie Petit (daughter, 1995,
ACC-1004), each with own account, national ID, card, IBAN and customer number, and the same mobile; then two Connect
CTRs from that mobile: one whose IVR took Paul's first name and birth date, one with nothing from the IVR. A business
record's mobile ranks after every other channel's event (``limits.key_rank``), so the earliest event that says whose the
phone is, is Paul's call. The call without IVR data lands on whoever keeps the phone when it arrives; it ranked the
phone too, so when it ranked before Paul's call and arrived before it, its customer (Julie, the lines' keeper) kept the
phone, and when it arrived after, Paul did (with the plain call an hour before Paul's, 4 of the 24 arrival orders of the
lines and the two calls gave Julie; at the same minute the event ids' hash decides which ranks first). ``omnibus
verify`` and ``omnibus replay identity`` (the same graph settled one input record at a time, in Kafka order:
``processors.replay.identity.recompute``) gave Paul, the running processor Julie. An event that carries an identifier
alone and tells no person (no traits, no user id or national ID) no longer ranks it (``limits.tells``), as an anonymous
page view ranks no anonymous id.
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.call_center.mapper_ctr import map_ctr
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.fastpath import AssignmentView
from processors.identity.graph.outputs import Resolved
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.adapters.web.support import web_settings
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import (
    Harness,
    earliest_owners,
    household_events,
    matcher_settings,
    national_id,
    observed,
    phone_owners,
)

OBSERVED, BUSINESS, CONTACTS = "identity.observed.v1", "business.events.v1", "contact.events.v1"
IMPORTED = datetime(2026, 12, 2, 4, tzinfo=UTC)  # the export's file time: its layout has no ``occurred_at``
MOBILE = "+33677889900"
PEOPLE = {  # the export's line of each holder (tester21, "Scenario set-up used below")
    "paul": {"account_number": "ACC-1003", "customer_id": "C-5004", "given_name": "Paul", "family_name": "Petit",
             "birth_date": "1960-04-15", "national_id": national_id("11010519600415001"),
             "iban": "FR7630006000011234567890189", "card_number": "4970100000000022"},
    "julie": {"account_number": "ACC-1004", "customer_id": "C-5005", "given_name": "Julie", "family_name": "Petit",
              "birth_date": "1995-08-23", "national_id": national_id("11010519950823002"),
              "iban": "FR7630006000011234567890297", "card_number": "4970100000000030",
              "email": "julie.petit@bank-test.fr"},
}
Items = list[tuple[Event, str]]


def line(person: str, source: str = "core-banking") -> Items:
    """What ``import-batch`` publishes for the holder's line (keyed layout: ``account_number|customer_id``)."""
    fields = {**PEOPLE[person], "phone": "06 77 88 99 00", "account_type": "current", "service_tier": "standard",
              "address": "5 rue des Lilas", "postcode": "69001", "city": "Lyon"}
    key = f"batch:customers:{fields['account_number']}|{fields['customer_id']}"
    mapped = map_business(BusinessRecord("AccountOpened", fields, key, IMPORTED),
                          LegacyContext(source, BUSINESS, identity_topic=OBSERVED, phone_region="FR"))
    return [(out.event, out.topic) for out in mapped.events]


def call(name: str, hour: int = 4) -> Items:
    """A Connect CTR from the family mobile at ``hour`` (UTC) on the day of the export: ``name`` "paul" with the IVR's
    first name and birth date as the tester typed them, "plain" with nothing from the IVR."""
    attributes = {"firstName": "Paul", "dateOfBirth": "15/04/1960"} if name == "paul" else {}
    record = ctr(ContactId=f"ctr-{name}", CustomerEndpoint={"Address": MOBILE, "Type": "TELEPHONE_NUMBER"},
                 Attributes=attributes)
    native = json.loads(json.dumps(record).replace("2024-03-05T09:", f"2026-12-02T{hour:02d}:"))
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for out in map_ctr(native, context()).events]


def identify(message_id: str, user: str, traits: dict[str, str]) -> Items:
    """A portal ``identify`` as the web adapter maps it."""
    body = {"type": "identify", "userId": user, "messageId": message_id, "timestamp": "2026-12-02T04:40:00Z",
            "traits": traits}
    mapped = SegmentMapper(web_settings(), TopicSettings())(body, received_at=datetime(2026, 12, 2, 5, tzinfo=UTC))
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for out in mapped.events]


def closed(account: str) -> Items:
    """The CDC outbox's ``AccountClosed`` row of ``account`` (the account number alone)."""
    mapped = map_business(BusinessRecord("AccountClosed", {"account_number": account, "reason": "closed"}, "outbox:2",
                                         datetime(2026, 12, 2, 4, 45, tzinfo=UTC)),
                          LegacyContext("core-banking", BUSINESS, identity_topic=OBSERVED, phone_region="FR"))
    return [(out.event, out.topic) for out in mapped.events]


def run(items: Items, *, partitions: int = 1, seed: int | None = None, view: bool = False) -> Harness:
    """``items`` in this order, each settled (the recomputation's way), or interleaved on ``partitions`` by ``seed``
    with at-least-once copies (the running processor's way), the fast path's view learning as it goes (``view``)."""
    h = Harness(matcher_settings(), partitions=partitions, seed=seed, duplicates=0.1 if seed is not None else 0.0,
                view=AssignmentView() if view else None)
    steps = random.Random(seed)
    for event, topic in items:
        h.feed(event, topic, settle=seed is None)
        for _ in range(steps.randint(0, 6) if seed is not None else 0):
            h.local.step()
    h.local.run()
    h.local.check_consistent()
    return h


def holder(h: Harness, account: str) -> str:
    return root(h, h.customer("ACCOUNT", account) or "")


def keeper(h: Harness) -> str:
    """Whose the family mobile is: "paul", "julie" or the customer id of someone else."""
    owner = root(h, h.customer("PHONE", MOBILE) or "")
    return next((person for person, fields in PEOPLE.items() if holder(h, fields["account_number"]) == owner), owner)


def on(h: Harness, items: Items) -> set[str]:
    """Where the contact events of ``items`` are now (each one's latest ``Resolved``), by person."""
    ids = {event.value["envelope"]["event_id"] for event, topic in items if topic == CONTACTS}
    latest = {r.triggering_event_id: root(h, r.customer_id)
              for r in h.decisions(Resolved) if r.triggering_event_id in ids}
    people = {holder(h, fields["account_number"]): person for person, fields in PEOPLE.items()}
    return {people.get(customer, customer) for customer in latest.values()}


def check(h: Harness, paul_call: Items, plain_call: Items, context_: object) -> None:
    """Two customers, the mobile Paul's (his call is its earliest event that tells a person), the call that tells
    nobody on the mobile's keeper, and both contact events of Paul's call on him."""
    assert holder(h, "ACC-1003") != holder(h, "ACC-1004"), context_
    assert keeper(h) == "paul", context_
    assert on(h, plain_call) == {"paul"}, context_
    assert on(h, paul_call) == {"paul"}, context_


def test_the_sample_the_lines_then_the_plain_call_then_pauls_call() -> None:
    """The order that kept the mobile with Julie (the lines' keeper) in the running graph: the plain call first."""
    blocks = [line("paul"), line("julie"), call("plain", 4), call("paul", 5)]
    h = run([item for block in blocks for item in block])
    check(h, blocks[3], blocks[2], "sample")


@pytest.mark.parametrize("hours", [(4, 4), (4, 5), (5, 4)], ids=["same minute", "plain call earlier", "plain later"])
@pytest.mark.parametrize("source", ["core-banking", "billing-db"])  # names the lines' event ids: their tie at import
def test_every_arrival_order_of_the_lines_and_the_two_calls(hours: tuple[int, int], source: str) -> None:
    """The 24 orders of the two lines and the two calls, each settled; Paul's call at ``hours[1]``, the plain one at
    ``hours[0]``: Paul keeps the mobile in all (20 of 24 did before, with the plain call the earlier), and both events
    of his call are on him in all (not where it came between Julie's line and his, before ``contact_rank.py``)."""
    plain_call, paul_call = call("plain", hours[0]), call("paul", hours[1])
    blocks = [line("paul", source), line("julie", source), plain_call, paul_call]
    for order in itertools.permutations(range(4)):
        h = run([item for index in order for item in blocks[index]])
        check(h, paul_call, plain_call, (order, hours))


def test_pauls_call_between_julies_line_and_his_lands_whole_on_him() -> None:
    """Julie's line, Paul's call, then his line (the call finds only Julie on the mobile and ranks first on it: it
    leaves her for a customer of its own that his line's then meets): the call's two contact events end on Paul's
    screen pop together; its ``InteractionRecorded``, ranking above its IVR record, stayed on Julie before
    (``graph/contact_rank.py``)."""
    paul_call = call("paul")
    h = run([*line("julie"), *paul_call, *line("paul")])
    assert on(h, paul_call) == {"paul"}


@pytest.mark.parametrize("seed", range(12))
def test_the_testers_session_rebuilt_and_interleaved_gives_one_keeper(seed: int) -> None:
    """Everything the tester sent that touched the Petits (the lines, F9's identify with Paul's national ID and
    another's card, both calls, F16's identify with Julie's national ID, card and IBAN and a new user id, the CDC
    ``AccountClosed`` of Paul's account), in Kafka order settled one by one as ``omnibus verify`` and ``replay
    identity`` rebuild it, and shuffled on 3 partitions with copies and the fast path as the running processor
    meets it: the same customers, the mobile Paul's in both (Julie's in 2 of these 12 shuffles before), and his call
    whole on him in both."""
    paul_call, plain_call = call("paul", 5), call("plain", 4)
    julie = PEOPLE["julie"]
    blocks = [line("paul"), line("julie"),
              identify("m-nid-2", "ob-paul", {"national_id": PEOPLE["paul"]["national_id"],
                                              "iban": "FR7630004000031234567890143", "cardNumber": "4970100000000014"}),
              paul_call, plain_call,
              identify("m-log-1", "ob-log-1", {"national_id": julie["national_id"], "iban": julie["iban"],
                                               "cardNumber": julie["card_number"], "email": "log.person@bank-test.fr",
                                               "phone": "+33 6 98 76 54 32"}),
              closed("ACC-1003")]
    items = [item for block in blocks for item in block]
    rebuilt = run(items)
    check(rebuilt, paul_call, plain_call, "rebuilt")
    shuffled = random.Random(seed).sample(items, len(items))
    live = run(shuffled, partitions=3, seed=seed, view=True)
    check(live, paul_call, plain_call, seed)
    assert live.local.clusters() == rebuilt.local.clusters(), seed


def with_plain_calls(rng: random.Random, events: list[Event]) -> list[Event]:
    """``events`` and, for each phone they carry, 1-3 events carrying that phone alone with no traits (a call with
    nothing from the IVR), at drawn minutes, before the earliest told event or among them."""
    phones = sorted({item["value"] for event in events for item in event.value["identifiers"]
                     if item["type"] == "PHONE"})
    plain = [observed([("PHONE", phone)], channel="CALL_CENTER", event_id=f"plain-{phone}-{n}",
                      minutes=rng.randint(-5, len(events)))
             for phone in phones for n in range(rng.randint(1, 3))]
    return rng.sample([*events, *plain], len(events) + len(plain))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), people=st.integers(2, 6), count=st.integers(1, 25))
def test_calls_that_tell_nobody_never_decide_who_keeps_a_family_phone(seed: int, people: int, count: int) -> None:
    """Households whose members the matcher refuses through their phone (``support.household_events``), and calls
    from those phones that tell nobody, in a drawn order, settled and interleaved on 5 partitions with copies: each
    phone ends with the person whose earliest *told* event carried it, as without the plain calls."""
    rng = random.Random(seed)
    told, expected = household_events(rng, people, count)
    events = with_plain_calls(rng, told)
    for partitions, order_seed in ((1, None), (5, seed)):
        h = run([(event, OBSERVED) for event in events], partitions=partitions, seed=order_seed)
        owners = phone_owners(h)
        assert owners == earliest_owners(h.key, told, expected) | {
            key: None for key, owner in owners.items() if owner is None}, (partitions, order_seed)
