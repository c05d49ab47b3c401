"""tester29 F9, F10: a national ID typed in a web form or given to an IVR never moves a login, e-mail or phone to the
ID's holder unless the deployment says its flow verified it.

A Spanish bank's core-banking export (``AccountOpened``: IBAN, customer number ``C-550012``, Carmen's DNI, mobile,
e-mail, name) registers Carmen, her master record. F9: an intruder identifies on the portal with his own login, e-mail
and phone and Carmen's DNI (``nationalId``), which the web adapter read by default: his login, e-mail and phone joined
Carmen's master record, no review, and took its one login place, so Carmen's own login later landed on a web-only
customer. A DNI is no secret (contracts, invoices, rental files, relatives). F10: a call whose IVR took a DNI
(``nationalId``, ``dni``) had no way to be read as verified, and the DNI was left off without a word. The events below
are what the legacy, web and call-center mappers publish (``identifier_settings(default_region="ES")``: es.dni and
es.nie), fed in every arrival order.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from adapters.call_center.mapper import MapContext, Topics
from adapters.call_center.mapper_ctr import map_ctr
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from tests.adapters.call_center.support import call_center_settings
from tests.adapters.call_center.test_mapper_identifiers import ctr
from tests.adapters.web.support import web_settings
from tests.bus.identifiers.support import identifier_settings
from tests.processors.identity.graph.test_joint_holders import CONTACTS, OBSERVED, feed, landed
from tests.processors.identity.graph.test_keypad_customer_number import CALLED
from tests.processors.identity.graph.test_keypad_record_key import arrival
from tests.processors.identity.graph.test_master_record import core_banking_line
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

SPAIN = identifier_settings(default_region="ES")
CARMENS_DNI = "51234567C"  # a valid DNI (51234567 mod 23 -> C)
CARMEN = {"account_number": "ES9121000418450200051332", "account_type": "current", "customer_id": "C-550012",
          "national_id": CARMENS_DNI, "email": "carmen.ruiz@example.es", "phone": "+34612551212",
          "given_name": "Carmen", "family_name": "Ruiz Soto", "birth_date": "1971-03-08"}
INTRUDER_PHONE, INTRUDER_EMAIL = "+34622001222", "intruso@example.es"
Published = list[tuple[Event, str]]


def master_record() -> Published:
    """Carmen's line of the core-banking export."""
    return core_banking_line(CARMEN, "ES", SPAIN)


def _routed(events: Any) -> Published:
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else CONTACTS) for out in events]


def identify(user_id: str, traits: dict[str, str], minutes: int, **web: Any) -> Published:
    """What the web hall publishes for a portal identify call ``minutes`` after the calls' time."""
    at = CALLED + timedelta(minutes=minutes)
    message = {"type": "identify", "messageId": f"t29-id-{user_id}-{len(traits)}", "userId": user_id,
               "timestamp": at.isoformat(), "traits": traits}
    return _routed(SegmentMapper(web_settings(**web), TopicSettings(), SPAIN)(
        message, source="portal-web", received_at=at).events)


def intruder_types_carmens_dni() -> Published:
    """F9's identify: the intruder's login, e-mail and phone with Carmen's DNI."""
    return identify("u-intruso-001", {"email": INTRUDER_EMAIL, "nationalId": CARMENS_DNI, "phone": "+34 622 001 222"},
                    minutes=5)


def carmen_logs_in() -> Published:
    """Carmen's own portal login with her registered e-mail and her name."""
    return identify("u-carmen-5512", {"email": CARMEN["email"], "firstName": "Carmen", "lastName": "Ruiz Soto"},
                    minutes=30)


def call_giving_carmens_dni(**call_center: Any) -> Published:
    """F10's CTR: a call from the intruder's mobile whose IVR took Carmen's DNI (``nationalId`` and ``dni``)."""
    settings_ = call_center_settings(**call_center)
    context = MapContext("paris", settings_.sites["paris"], Topics.of(TopicSettings()), settings_, SPAIN)
    at = (CALLED + timedelta(minutes=10)).isoformat()
    record = ctr(ContactId="t29-ctr-4555", InitiationTimestamp=at, DisconnectTimestamp=at, LastUpdateTimestamp=at,
                 CustomerEndpoint={"Address": INTRUDER_PHONE, "Type": "TELEPHONE_NUMBER"},
                 Attributes={"nationalId": CARMENS_DNI, "dni": CARMENS_DNI})
    record.pop("Agent", None)
    record.pop("Queue", None)
    return _routed(map_ctr(record, context).events)


def carmens(h: Harness) -> str:
    carmen = h.customer("CUSTOMER_NUMBER", CARMEN["customer_id"])
    assert carmen is not None
    return carmen


@pytest.mark.parametrize("order", range(6))
def test_f9_a_dni_typed_in_a_web_form_joins_no_login_email_or_phone_to_its_holder(order: int) -> None:
    """F9 with the web adapter's defaults, in every arrival order of Carmen's master record, the intruder's identify
    with her DNI and her own login: the intruder's login, e-mail and phone are a customer of their own, never
    Carmen's, and Carmen's own login lands on her master record (its login place was taken before)."""
    intruder = intruder_types_carmens_dni()
    h = Harness(settings())
    feed(h, arrival(order, master_record(), intruder, carmen_logs_in()))
    carmen = carmens(h)
    intruders = h.customer("USER_ID", "u-intruso-001")
    assert intruders is not None and intruders != carmen
    assert h.customer("EMAIL", INTRUDER_EMAIL) == intruders and h.customer("PHONE", INTRUDER_PHONE) == intruders
    for event, _ in intruder:
        assert landed(h, event) <= {intruders}, event.schema
    assert h.customer("USER_ID", "u-carmen-5512") == carmen
    h.local.check_consistent()


@pytest.mark.parametrize("order", range(2))
def test_a_dni_the_portals_back_end_verified_joins_carmens_login_to_her_record(order: int) -> None:
    """The opt-in: a portal that writes the DNI its back end checked for the logged-in user names the trait
    (``identifier_traits`` with ``+``): Carmen's login, with no e-mail, joins her master record, in both orders."""
    verified = identify("u-carmen-5512", {"verifiedDni": CARMENS_DNI}, minutes=30,
                        identifier_traits={"EMAIL": ["email"], "NATIONAL_ID": ["verifiedDni"]})
    h = Harness(settings())
    feed(h, arrival(order, master_record(), verified))
    assert h.customer("USER_ID", "u-carmen-5512") == carmens(h)
    h.local.check_consistent()


@pytest.mark.parametrize("order", range(2))
def test_f10_a_dni_given_to_the_ivr_leaves_the_callers_phone_his_own_unless_verified(order: int) -> None:
    """F10 with the call center's defaults: the call from the intruder's mobile that gave Carmen's DNI stays off her
    record, and the answer names both attributes; a flow that verified the DNI (DNI + PIN against core banking)
    names its attribute in ``verified_record_attributes`` and the call lands on Carmen (refused as a setting
    before)."""
    typed = call_giving_carmens_dni()
    h = Harness(settings())
    feed(h, arrival(order, master_record(), typed))
    carmen = carmens(h)
    assert h.customer("PHONE", INTRUDER_PHONE) not in (None, carmen)
    for event, _ in typed:
        assert carmen not in landed(h, event), event.schema
    verified = call_giving_carmens_dni(verified_record_attributes={"NATIONAL_ID": ["dni"]})
    h = Harness(settings())
    feed(h, arrival(order, master_record(), verified))
    for event, _ in verified:
        assert landed(h, event) == {carmens(h)}, event.schema
    h.local.check_consistent()
