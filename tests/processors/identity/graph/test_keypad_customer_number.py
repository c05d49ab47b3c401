"""tester24 F3, F4: a customer number typed on the IVR keypad never moves the caller's billing phone to another customer.

A telecom's billing export (tester24's ``accounts.csv``: contract, customer number ``C-7700..``, e-mail, mobile, names,
birth date) registers each customer's mobile; the call center's Connect contact flow asks for the customer number
(attribute ``customerNumber``). Read as an identifier, the number decided the call's customer: Sophie, calling from
her own mobile, typed Claire's number and her mobile moved to Claire, with every later call and her handoff (F3); Paul
typed his own number without billing's prefix (``770002``) and his mobile moved to a customer holding only the typed
number (F4). The call center reads a customer number only from the attributes a deployment says its flow verified
(``verified_record_attributes`` under CUSTOMER_NUMBER, none by default). The events below are what the legacy and call-center
adapters' mappers publish for the tester's lines and calls, fed in every arrival order.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.call_center.mapper import MapContext, Topics
from adapters.call_center.mapper_ctr import map_ctr
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.config import TopicSettings
from bus.identifiers import IdentifierSettings
from bus.serde import Event
from tests.adapters.call_center.support import call_center_settings
from tests.adapters.call_center.test_mapper_identifiers import ctr
from tests.bus.identifiers.support import identifier_settings
from tests.processors.identity.graph.test_joint_holders import BUSINESS, CONTACTS, OBSERVED, feed, landed
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

EXPORTED = datetime(2026, 12, 2, 11, 52, tzinfo=UTC)  # the export file's time: the lines' occurred_at
CALLED = EXPORTED + timedelta(minutes=20)
PLAIN = identifier_settings(default_region="FR")
BILLING_FORMAT = {"prefix": "C-"}  # OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT: billing writes C-770002
FORMATTED = identifier_settings(default_region="FR", customer_number_format=BILLING_FORMAT)
# tester24's accounts.csv lines, the fields its layout maps the columns to
LINES: dict[str, dict[str, Any]] = {
    "paul": {"account_number": "CT-900001", "account_type": "mobile", "customer_id": "C-770002", "email": "paul.martin@example.fr",
             "phone": "0611223344", "given_name": "Paul", "family_name": "Martin", "birth_date": "1981-03-14"},
    "sophie": {"account_number": "CT-900004", "account_type": "mobile",
               "customer_id": "C-770005", "email": "sophie.bernard@example.fr",
               "phone": "0622334455", "given_name": "Sophie", "family_name": "Bernard", "birth_date": "1990-06-21"},
    "claire": {"account_number": "CT-900005", "account_type": "mobile",
               "customer_id": "C-770006", "email": "claire.petit@example.fr",
               "phone": "06 33 44 55 66", "given_name": "Claire", "family_name": "Petit", "birth_date": "1987-11-02"},
}
MOBILES = {"paul": "+33611223344", "sophie": "+33622334455", "claire": "+33633445566"}
READ_BY_THE_FLOW = {"CUSTOMER_NUMBER": ["customerNumber"]}  # a deployment whose contact flow verifies the number it asks for


def billing_line(holder: str, line: int, identifiers: IdentifierSettings = PLAIN) -> list[tuple[Event, str]]:
    """What ``omnibus adapter legacy import-batch`` publishes for the holder's line of the export."""
    mapped = map_business(BusinessRecord("AccountOpened", LINES[holder], f"accounts.csv:{line}", EXPORTED),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR",
                                        identifiers=identifiers))
    return [(out.event, out.topic) for out in mapped.events]


def call(contact_id: str, caller: str, attributes: dict[str, str], minutes: int = 0,
         identifiers: IdentifierSettings = PLAIN, **call_center: Any) -> list[tuple[Event, str]]:
    """What the call center publishes for a Connect CTR from ``caller`` with the contact flow's ``attributes``."""
    settings_ = call_center_settings(**call_center)
    context = MapContext("paris", settings_.sites["paris"], Topics.of(TopicSettings()), settings_, identifiers)
    at = (CALLED + timedelta(minutes=minutes)).isoformat()
    record = ctr(ContactId=contact_id, InitiationTimestamp=at, DisconnectTimestamp=at, LastUpdateTimestamp=at,
                 CustomerEndpoint={"Address": caller, "Type": "TELEPHONE_NUMBER"}, Attributes=attributes)
    record.pop("Agent", None)
    record.pop("Queue", None)
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for out in map_ctr(record, context).events]


def sophie_types_claires_number(**call_center: Any) -> list[tuple[Event, str]]:
    """F3's ctr-0002: Sophie calls from her mobile, types Claire's number and asks for a billing dispute."""
    return call("ctr-0002", MOBILES["sophie"], {"customerNumber": "C-770006",
                                                "omnibus_handoff_kind": "billing-dispute"}, **call_center)


def arrival(order: int, *groups: list[tuple[Event, str]]) -> list[tuple[Event, str]]:
    """The ``order``-th permutation of ``groups`` (a billing line's events, a call's), each group's events in turn."""
    chosen = list(itertools.permutations(groups))[order]
    return [item for group in chosen for item in group]


def two_customers(h: Harness) -> tuple[str | None, str | None]:
    return h.customer("CUSTOMER_NUMBER", "C-770005"), h.customer("CUSTOMER_NUMBER", "C-770006")


@pytest.mark.parametrize("order", range(6))
def test_f3_a_number_typed_on_the_keypad_leaves_the_callers_phone_with_her_billing_record(order: int) -> None:
    """F3 with the call center's defaults, the billing lines and the call in every arrival order: Sophie's mobile, her
    call and her dispute stay on her billing record, Claire keeps only her own identifiers, and a later plain call
    from Sophie's mobile pops Sophie."""
    h = Harness(settings())
    feed(h, arrival(order, billing_line("sophie", 5), billing_line("claire", 6), sophie_types_claires_number()))
    sophie, claire = two_customers(h)
    assert sophie is not None and claire is not None and sophie != claire
    assert h.customer("PHONE", MOBILES["sophie"]) == sophie
    assert h.customer("PHONE", MOBILES["claire"]) == claire
    for event, _ in sophie_types_claires_number():
        assert landed(h, event) <= {sophie}, event.schema
    later = call("ctr-0003", MOBILES["sophie"], {}, minutes=5)
    feed(h, later)
    assert landed(h, later[0][0]) == {sophie}
    assert two_customers(h) == (sophie, claire)
    h.local.check_consistent()


@pytest.mark.parametrize("order", range(2))
def test_f4_with_billings_format_the_keypads_own_number_finds_the_callers_record(
        monkeypatch: pytest.MonkeyPatch, order: int) -> None:
    """F4 as the demo runs now (billing's format set on the adapters and identity) with a flow that verifies the number:
    Paul's keypad ``770002`` is billing's ``C-770002``, so his call lands on his record and his mobile stays there,
    whatever the order the export's line and the call arrive in; no customer holds only the typed number."""
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT", '{"prefix": "C-"}')
    keypad = call("ctr-0001", MOBILES["paul"], {"customerNumber": "770002", "omnibus_handoff_kind": "technical"},
                  identifiers=FORMATTED, verified_record_attributes=READ_BY_THE_FLOW)
    h = Harness(settings())
    feed(h, arrival(order, billing_line("paul", 2, FORMATTED), keypad))
    paul = h.customer("CUSTOMER_NUMBER", "C-770002")
    assert paul is not None and h.customer("PHONE", MOBILES["paul"]) == paul
    assert h.customer("CUSTOMER_NUMBER", "770002") == paul  # the screen pop's lookup, as typed
    for event, _ in keypad:
        assert landed(h, event) <= {paul}, event.schema
    assert len(h.local.roots()) == 1
    h.local.check_consistent()


@pytest.mark.parametrize("order", range(2))
def test_f4_with_the_defaults_the_keypads_number_makes_no_phantom_customer(order: int) -> None:
    """F4 with no format and the call center's defaults: the unread ``770002`` makes no customer of its own, and
    Paul's mobile, call and handoff stay on his billing record in every order."""
    keypad = call("ctr-0001", MOBILES["paul"], {"customerNumber": "770002", "omnibus_handoff_kind": "technical"})
    h = Harness(settings())
    feed(h, arrival(order, billing_line("paul", 2), keypad))
    paul = h.customer("CUSTOMER_NUMBER", "C-770002")
    assert paul is not None and h.customer("PHONE", MOBILES["paul"]) == paul
    assert h.customer("CUSTOMER_NUMBER", "770002") is None
    assert len(h.local.roots()) == 1
    h.local.check_consistent()


@pytest.mark.parametrize("order", range(6))
def test_a_keypad_number_read_as_verified_still_leaves_the_callers_phone_with_her_record(order: int) -> None:
    """F3 where a deployment reads the typed number (``verified_record_attributes``) and it is not the
    caller's: identity refuses to merge Sophie and Claire (two customer numbers: two people), and the call, which
    claimed a record's key (``rules.claims_record``: a customer number is one, ``rules.RECORD_KINDS``), ranks Sophie's
    mobile after her billing line (``limits.CLAIMED_BAND``): the mobile stays hers in every order (tester25 F2). Before,
    the number's customer claimed it (a record's phone ranked after every other channel's event)."""
    h = Harness(settings())
    typed = sophie_types_claires_number(verified_record_attributes=READ_BY_THE_FLOW)
    feed(h, arrival(order, billing_line("sophie", 5), billing_line("claire", 6), typed))
    sophie, claire = two_customers(h)
    assert sophie is not None and claire is not None and sophie != claire
    assert h.customer("PHONE", MOBILES["sophie"]) == sophie
    assert h.customer("PHONE", MOBILES["claire"]) == claire
    later = call("ctr-0003", MOBILES["sophie"], {}, minutes=5)
    feed(h, later)
    assert landed(h, later[0][0]) == {sophie}
    h.local.check_consistent()
