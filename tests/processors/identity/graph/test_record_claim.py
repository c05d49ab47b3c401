"""tester25 F2, F7: an event that claims a record's key (an account typed on a keypad or in a web form) never takes an
identifier a system of record gave another customer.

A bank's billing export (tester25's ``bills2.csv``: account, customer number ``C-7700..``, mobile, names) gives Carla
and Didier their accounts and mobiles. Didier calls from his own mobile and the IVR takes Carla's account number
(``accountNumber``): the call reaches Carla through her account, the merge is refused (two customer numbers), and
the earliest-claim rule took Didier's mobile to Carla, since a record's mobile ranks after every other channel's event
(a family plan's line, tester18 F4). Such an event's other identifiers now rank after every record's
(``rules.claims_record``, ``limits.CLAIMED_BAND``): the mobile stays Didier's in every arrival order of the lines and
the call, and a later call from it pops Didier. The events are built as the adapters publish them (the call's
identifiers directly, so the test does not depend on which attributes the call center reads).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.serde import Event
from tests.bus.identifiers.support import identifier_settings
from tests.processors.identity.graph.test_joint_holders import BUSINESS, CONTACTS, OBSERVED, feed, landed
from tests.processors.identity.support import Harness, envelope, ident, interaction
from tests.processors.identity.support import matcher_settings as settings

Items = list[tuple[Event, str]]
EXPORTED = datetime(2026, 12, 2, 11, 52, tzinfo=UTC)
PLAIN = identifier_settings(default_region="FR")
LINES: dict[str, dict[str, Any]] = {  # bills2.yaml's fields of tester25's lines
    "carla": {"account_number": "ACC-T25-0004", "account_type": "current", "customer_id": "C-770004",
              "phone": "+33612345004", "email": "carla.venturini@example.org", "card_number": "4970 1000 0000 0014",
              "given_name": "Carla", "family_name": "Venturini"},
    "didier": {"account_number": "ACC-T25-0005", "account_type": "current", "customer_id": "C-770005",
               "phone": "+33612345005", "email": "didier.lambertin@example.org", "given_name": "Didier",
               "family_name": "Lambertin"},
}
CARLAS_ACCOUNT = ("ACCOUNT", "ACC-T25-0004")
# What a record gives Carla and another channel's event only claims (rules.RECORD_KINDS): F2's account, her card, her
# customer number (a keypad number read as verified).
CARLAS_KEYS = {"account": CARLAS_ACCOUNT, "card": ("CARD", "4970100000000014"),
               "number": ("CUSTOMER_NUMBER", "C-770004")}
DIDIERS_PHONE, DIDIERS_EMAIL = ("PHONE", "+33612345005"), ("EMAIL", "didier.lambertin@example.org")


def billing_line(holder: str, line: int) -> Items:
    """What ``omnibus adapter legacy import-batch`` publishes for the holder's line: the business event and its
    ``IdentifiersObserved`` with the names."""
    mapped = map_business(BusinessRecord("AccountOpened", LINES[holder], f"bills2.csv:{line}", EXPORTED),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR",
                                        identifiers=PLAIN))
    return [(out.event, out.topic) for out in mapped.events]


def typed_call(contact_id: str, identifiers: list[tuple[str, str]], minutes: int = 20,
               channel: str = "CALL_CENTER") -> Items:
    """A call (or a counter visit: ``channel``) whose contact carries ``identifiers`` (the caller's number, an account
    the IVR took), as the call center publishes it, ``minutes`` after the export."""
    at = EXPORTED + timedelta(minutes=minutes)
    contact = interaction(identifiers, interaction_id=contact_id, channel=channel)
    contact.value["envelope"].update(occurred_at=at, received_at=at)
    return [(contact, CONTACTS)]


def web_identify(message_id: str, identifiers: list[tuple[str, str]], minutes: int = 30,
                 traits: dict[str, str] | None = None) -> Items:
    """A portal ``identify`` as the web adapter maps it: its identifiers and traits."""
    at = EXPORTED + timedelta(minutes=minutes)
    event = Event("omnibus.contact.IdentifiersObserved", {
        "envelope": {**envelope("WEB", event_id=message_id), "occurred_at": at, "received_at": at},
        "identifiers": [ident(kind, value) for kind, value in identifiers], "traits": traits})
    return [(event, OBSERVED)]


def arrival(order: tuple[int, ...], groups: list[Items]) -> Items:
    return [item for index in order for item in groups[index]]


ORDERS = list(itertools.permutations(range(3)))
IDS = ["-".join(map(str, order)) for order in ORDERS]


def customers(h: Harness) -> tuple[str | None, str | None]:
    return h.customer("CUSTOMER_NUMBER", "C-770004"), h.customer("CUSTOMER_NUMBER", "C-770005")


@pytest.mark.parametrize("order", ORDERS, ids=IDS)
@pytest.mark.parametrize("minutes", [20, -20], ids=["call-after-export", "call-before-export"])
@pytest.mark.parametrize("typed", sorted(CARLAS_KEYS))
def test_f2_a_typed_account_leaves_the_callers_billing_phone_on_his_record(order: tuple[int, ...], minutes: int,
                                                                           typed: str) -> None:
    """F2: Didier calls from his billing mobile and the IVR took Carla's account (or her card, or her customer
    number); the lines and the call in every arrival order, the call dated after or before the export: Didier's mobile
    stays on his record, Carla's customer holds only her own identifiers, and a later plain call from his mobile pops
    Didier."""
    h = Harness(settings())
    call = typed_call("t25-ctr-0005", [DIDIERS_PHONE, CARLAS_KEYS[typed]], minutes)
    feed(h, arrival(order, [billing_line("carla", 1), billing_line("didier", 2), call]))
    carla, didier = customers(h)
    assert carla is not None and didier is not None and carla != didier
    assert h.customer(*DIDIERS_PHONE) == didier
    assert h.customer("PHONE", "+33612345004") == carla
    assert h.customer(*CARLAS_KEYS[typed]) == carla
    later = typed_call("t25-ctr-0006", [DIDIERS_PHONE], minutes=60)
    feed(h, later)
    assert landed(h, later[0][0]) == {didier}
    assert customers(h) == (carla, didier)
    h.local.check_consistent()


@pytest.mark.parametrize("order", ORDERS, ids=IDS)
def test_a_typed_account_on_the_web_leaves_a_records_e_mail_on_its_holder(order: tuple[int, ...]) -> None:
    """The same kind on the web: a portal identify with Didier's billing e-mail and Carla's account number (typed in a
    form) leaves the e-mail on Didier's record, in every arrival order."""
    h = Harness(settings())
    visit = web_identify("t25-id-didier", [("USER_ID", "t25-didier"), DIDIERS_EMAIL, CARLAS_ACCOUNT])
    feed(h, arrival(order, [billing_line("carla", 1), billing_line("didier", 2), visit]))
    carla, didier = customers(h)
    assert carla is not None and didier is not None and carla != didier
    assert h.customer(*DIDIERS_EMAIL) == didier
    assert h.customer(*DIDIERS_PHONE) == didier
    h.local.check_consistent()


@pytest.mark.parametrize("order", ORDERS, ids=IDS)
def test_a_typed_account_at_the_counter_leaves_the_customers_billing_phone_on_his_record(
        order: tuple[int, ...]) -> None:
    """The same kind at a branch counter: a clerk keys Didier's mobile and Carla's account (no names): the mobile stays
    on Didier's record in every arrival order."""
    h = Harness(settings())
    visit = typed_call("t25-tx-0005", [DIDIERS_PHONE, CARLAS_ACCOUNT], channel="BRANCH")
    feed(h, arrival(order, [billing_line("carla", 1), billing_line("didier", 2), visit]))
    carla, didier = customers(h)
    assert carla is not None and didier is not None and carla != didier
    assert h.customer(*DIDIERS_PHONE) == didier
    h.local.check_consistent()
