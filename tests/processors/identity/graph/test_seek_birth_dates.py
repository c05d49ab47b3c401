"""A caller who gives the phone keeper's name with another birth date is another person (tester14 S2, issue #8).

Calls from a customer's own phone (Amazon Connect CTRs with the IVR's ``firstName``, ``lastName``, ``dateOfBirth``):
Bernard Leroy b. 1940-06-06 from the phone of Bernard Leroy b. 1962-11-30, and Jean Dupont b. 1985-07-13 from the
phone of the other Jean Dupont (b. 1970-01-13), were put on the keeper's screen pop: a caller counted as another
person only when no field that tells people apart agreed, and the given name did. A birth date that differs beyond a
typo is the matcher's veto (``contest.other_birth``): the call goes to the caller's customer or one of its own.
A birth date one digit off or with day and month swapped is one person's typo and stays with the keeper.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.call_center.mapper_ctr import map_ctr
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.graph.outputs import ReviewRequested
from tests.adapters.branch.support import branch_settings
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.adapters.web.support import web_settings
from tests.processors.identity.graph.test_seek import contact_ids, resolved_to, root
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

RECEIVED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
OPENED = datetime(2021, 6, 10, tzinfo=UTC)
OBSERVED, BUSINESS = "identity.observed.v1", "business.events.v1"
BERNARD = {"given_name": "Bernard", "family_name": "Leroy", "birth_date": "1962-11-30", "postcode": "31000"}
BERNARD_PHONE, BERNARD_ACCOUNT = "+33644556677", "ACC-BL-1962"
JEAN_1970 = {"given_name": "Jean", "family_name": "Dupont", "birth_date": "1970-01-13", "postcode": "13005"}
JEAN_1985 = {**JEAN_1970, "birth_date": "1985-07-13"}
VISIT = "counter:CT-0142-01:TX-v-bl-1"  # the visit's contact id: its transaction id scoped by its terminal
JEANS = {"jean-1970": (JEAN_1970, "ACC-JD-1970", "+33601020304"),
         "jean-1985": (JEAN_1985, "ACC-JD-1985", "+33601020305")}


def visit(event_id: str, traits: dict[str, str], identifiers: list[tuple[str, str]], minute: int = 0) -> list[Event]:
    """A counter transaction through the branch adapter's mapper (its contact and the visit's IdentifiersObserved)."""
    native = {"event_id": event_id, "kind": "transaction", "occurred_at": f"2025-03-01T08:{minute:02d}:00+00:00",
              "agent_id": "E-1", "identifiers": [{"type": kind, "value": value} for kind, value in identifiers],
              "customer": traits,
              "transaction": {"id": f"TX-{event_id}", "type": "payment", "status": "completed", "counter_id": "C1"}}
    mapper = CounterMapper(branch_settings(), TopicSettings())
    return [o.event for o in mapper(native, terminal_id="CT-0142-01", branch_id="0142", received_at=RECEIVED).events]


def call(contact_id: str, phone: str, caller: dict[str, str] | None) -> list[Event]:
    """A Connect CTR from ``phone`` whose IVR took ``caller`` (None: it asked nothing), through the mapper."""
    attributes: dict[str, Any] = {} if caller is None else {
        "firstName": caller["given_name"], "lastName": caller["family_name"], "dateOfBirth": caller["birth_date"]}
    native = json.loads(json.dumps(ctr(ContactId=contact_id, CustomerEndpoint={"Address": phone,
                                                                                "Type": "TELEPHONE_NUMBER"},
                                       Attributes=attributes)).replace("2024-03-05T", "2025-03-01T"))
    return [o.event for o in map_ctr(native, context()).events]


def topic(event: Event) -> str:
    return "identity.observed.v1" if event.schema.endswith("IdentifiersObserved") else "contact.events.v1"


def feed(h: Harness, events: list[Event]) -> None:
    for event in events:
        h.feed(event, topic(event))


def contacts_of(events: list[Event]) -> list[Event]:
    return [event for event in events if not event.schema.endswith("IdentifiersObserved")]


def landed(h: Harness, events: list[Event]) -> set[str]:
    return set().union(*(resolved_to(h, event) for event in contacts_of(events)))


def bernard_called(caller: dict[str, str] | None) -> tuple[Harness, str, set[str]]:
    h = Harness(settings(default_region="FR"))
    feed(h, visit("v-bl-1", BERNARD, [("ACCOUNT", BERNARD_ACCOUNT), ("PHONE", "06 44 55 66 77")]))
    events = call("call-y-2", BERNARD_PHONE, caller)
    feed(h, events)
    h.local.check_consistent()
    keeper = h.customer("ACCOUNT", BERNARD_ACCOUNT)
    assert keeper is not None and h.customer("PHONE", BERNARD_PHONE) == keeper
    return h, keeper, landed(h, events)


@pytest.mark.parametrize("birth_date", ["1940-06-06", "1963-12-30", "1999-03-21"])
def test_a_caller_with_the_keepers_name_and_another_birth_date_is_not_put_on_the_keepers_screen_pop(
        birth_date: str) -> None:
    """The reported call (Bernard Leroy, 1940-06-06, from the phone of Bernard b. 1962) and more birth dates that
    are not a typo of his (two digits off, another decade): on a customer of the call's own, never the keeper's."""
    h, keeper, where = bernard_called({**BERNARD, "birth_date": birth_date})
    assert where and keeper not in where
    assert contact_ids(h, keeper) == {VISIT}


@pytest.mark.parametrize("caller", [
    pytest.param(BERNARD, id="his own name and birth date"),
    pytest.param({**BERNARD, "birth_date": "1962-11-20"}, id="birth date one digit off"),
    pytest.param({**BERNARD, "birth_date": "1962-01-30"}, id="month one digit off"),
    pytest.param({**BERNARD, "birth_date": "1926-11-30"}, id="two digits of the year swapped"),
    pytest.param(None, id="the IVR asked nothing"),
])
def test_the_keepers_own_call_or_a_typo_of_his_birth_date_stays_on_his_screen_pop(
        caller: dict[str, str] | None) -> None:
    h, keeper, where = bernard_called(caller)
    assert where == {keeper} and contact_ids(h, keeper) == {VISIT, "call-y-2"}


def test_a_transposed_day_and_month_is_the_keepers_typo_not_another_person() -> None:
    h = Harness(settings(default_region="FR"))
    keeper_traits = {**BERNARD, "birth_date": "1962-03-11"}
    feed(h, visit("v-bl-1", keeper_traits, [("ACCOUNT", BERNARD_ACCOUNT), ("PHONE", BERNARD_PHONE)]))
    events = call("call-t", BERNARD_PHONE, {**keeper_traits, "birth_date": "1962-11-03"})
    feed(h, events)
    keeper = h.customer("ACCOUNT", BERNARD_ACCOUNT)
    assert landed(h, events) == {keeper}


@pytest.mark.parametrize(("phone_of", "caller"), [("jean-1970", "jean-1985"), ("jean-1985", "jean-1970")])
def test_a_namesakes_call_from_the_other_jeans_phone_lands_on_his_own_customer(phone_of: str, caller: str) -> None:
    """The reported calls x-3 and jean-2: the caller's traits fit the other Jean Dupont exactly (name and birth
    date); the call goes to a customer of its own, which blocking meets with his: on the IVR's name and birth date
    alone, with no identifier in common, a review (tester21 F18), never the phone owner's screen pop."""
    h = Harness(settings(default_region="FR"))
    for minute, (name, (traits, account, phone)) in enumerate(JEANS.items()):
        feed(h, visit(f"v-{name}", traits, [("ACCOUNT", account), ("PHONE", phone)], minute))
    events = call("call-x-3", JEANS[phone_of][2], JEANS[caller][0])
    feed(h, events)
    h.local.check_consistent()
    owner, person = h.customer("ACCOUNT", JEANS[phone_of][1]), h.customer("ACCOUNT", JEANS[caller][1])
    assert owner != person
    (own,) = landed(h, events)
    assert own not in (owner, person) and "call-x-3" not in contact_ids(h, owner)
    reviewed = [{root(h, r.customer_id), root(h, r.other_customer_id)} for r in h.decisions(ReviewRequested)]
    assert {own, person} in reviewed


SENIOR = {"given_name": "Jean", "family_name": "Martin", "birth_date": "1950-04-02", "postcode": "69003"}
JUNIOR = {**SENIOR, "birth_date": "1981-09-17"}
FAMILY_PHONE = "+33478000001"
ORDERS = list(itertools.permutations(("senior", "junior", "call")))


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(order) for order in ORDERS])
@pytest.mark.parametrize("who", ["senior", "junior"])
def test_father_and_son_of_one_name_on_the_family_phone_each_get_their_own_calls_in_every_order(
        order: tuple[str, ...], who: str) -> None:
    """Jean Martin Sr. and Jr. share the landline, each with an account of his own: a call with either's birth date
    lands on his customer, whoever's record came first and whether the call came before them."""
    h = Harness(settings(default_region="FR"))
    people = {"senior": (SENIOR, "ACC-JM-SR", 0), "junior": (JUNIOR, "ACC-JM-JR", 1)}
    records = {name: visit(f"v-{name}", traits, [("ACCOUNT", account), ("PHONE", FAMILY_PHONE)], minute)
               for name, (traits, account, minute) in people.items()}
    records["call"] = call("call-jm", FAMILY_PHONE, people[who][0])
    for name in order:
        feed(h, records[name])
    h.local.check_consistent()
    senior, junior = h.customer("ACCOUNT", "ACC-JM-SR"), h.customer("ACCOUNT", "ACC-JM-JR")
    assert senior != junior
    mine = senior if who == "senior" else junior
    assert landed(h, records["call"]) == {mine}


def test_a_counter_visit_with_the_keepers_phone_and_name_and_another_birth_date_is_not_the_keepers() -> None:
    """The counter kind: a visit that gave the clerk only the phone, and the keeper's name with another birth date."""
    h = Harness(settings(default_region="FR"))
    feed(h, visit("v-bl-1", BERNARD, [("ACCOUNT", BERNARD_ACCOUNT), ("PHONE", BERNARD_PHONE)]))
    events = visit("v-bl-2", {**BERNARD, "birth_date": "1940-06-06"}, [("PHONE", BERNARD_PHONE)], minute=30)
    feed(h, events)
    h.local.check_consistent()
    keeper = h.customer("ACCOUNT", BERNARD_ACCOUNT)
    assert keeper not in landed(h, events)


def billing_line(holder: dict[str, str], line: int) -> list[tuple[Event, str]]:
    """A legacy export line of the joint account GAS-5001 (``test_joint_holders.billing_line``'s layout)."""
    fields = {"account_number": "GAS-5001", "account_type": "residential-gas", "service_tier": "standard",
              "address": "8 rue Garibaldi", "postcode": "69003", "city": "Lyon", **holder}
    mapped = map_business(BusinessRecord("AccountOpened", fields, f"accounts.csv:{line}", OPENED),
                          LegacyContext("util-billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR"))
    return [(out.event, out.topic) for out in mapped.events]


LINE_SENIOR = {**SENIOR, "phone": "06 12 00 00 01", "email": "jean.martin@example.fr"}
LINE_JUNIOR = {**JUNIOR, "phone": "06 12 00 00 02", "email": "jean.martin.jr@example.fr"}


def test_a_joint_account_of_father_and_son_of_one_name_gives_two_customers_in_every_order() -> None:
    """The legacy kind: one export line per holder, the same names, two birth dates; each keeps his own phone and
    e-mail whichever line comes first, and the account is shared between the two."""
    lines = [*billing_line(LINE_SENIOR, 2), *billing_line(LINE_JUNIOR, 3)]
    for order in itertools.permutations(lines):
        h = Harness(settings(default_region="FR"))
        for event, to in order:
            h.feed(event, to)
        senior, junior = h.customer("EMAIL", LINE_SENIOR["email"]), h.customer("EMAIL", LINE_JUNIOR["email"])
        assert senior is not None and junior is not None and senior != junior
        assert h.customer("PHONE", "+33612000001") == senior and h.customer("PHONE", "+33612000002") == junior
        h.local.check_consistent()


def test_the_sons_web_identify_with_the_fathers_account_is_his_own() -> None:
    """The web kind: Jean Jr. logs in with the joint account number and his own e-mail, the same names as his
    father's and his own birth date: his own customer, not his father's."""
    h = Harness(settings(default_region="FR"))
    for event, to in billing_line(LINE_SENIOR, 2):
        h.feed(event, to)
    web = SegmentMapper(web_settings(), TopicSettings())
    message = {"type": "identify", "userId": "web-jm-jr", "messageId": "m-jr-1", "timestamp": "2025-03-01T09:30:00Z",
               "traits": {"firstName": "Jean", "lastName": "Martin", "birthday": JUNIOR["birth_date"],
                          "email": LINE_JUNIOR["email"], "accountNumber": "GAS-5001"}}
    for outgoing in web(message, source="portal-web", received_at=RECEIVED).events:
        h.feed(outgoing.event, topic(outgoing.event))
    h.local.check_consistent()
    senior = h.customer("EMAIL", LINE_SENIOR["email"])
    assert senior is not None and h.customer("USER_ID", "web-jm-jr") not in (None, senior)
    assert h.customer("EMAIL", LINE_JUNIOR["email"]) != senior
