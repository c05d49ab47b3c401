"""tester25 F2, F7: an account number typed on the IVR keypad or in a web form never moves a person's phone or login to
the account's holder.

A bank's billing export (tester25's ``bills2.csv``: a BillIssued line per account with the holder's customer number,
mobile and name) registers Carla (C-770004, ACC-T25-0004) and Didier (C-770005, ACC-T25-0005). F2: Didier calls from
his own mobile and types Carla's account number in the IVR (Connect attribute ``accountNumber``, TaskRouter
``account_number``), which the call center read by default: his mobile, his call and his handoff moved to Carla. F7:
Mallory identifies on the portal with his e-mail and Carla's ``accountNumber``, which the web adapter read by default:
his login and e-mail joined Carla's master record and took its one login place, so Carla's own login was refused
there. The adapters read a record key only where the deployment says its flow verified it (call center
``verified_record_attributes``, web ``identifier_traits``; none by default). The events below are what the legacy, call
center and web mappers publish for the tester's lines, calls and identify calls, fed in every arrival order.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.call_center.mapper import MapContext, Topics
from adapters.call_center.mapper_ctr import map_ctr
from adapters.call_center.mapper_taskrouter import Timeline, map_task
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from tests.adapters.call_center.support import call_center_settings
from tests.adapters.call_center.test_mapper_identifiers import ctr, task
from tests.adapters.web.support import web_settings
from tests.bus.identifiers.support import identifier_settings
from tests.processors.identity.graph.test_joint_holders import BUSINESS, CONTACTS, OBSERVED, feed, landed
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

IMPORTED = datetime(2026, 12, 2, 13, 20, tzinfo=UTC)  # the import's time: the lines' occurred_at
LATER = IMPORTED + timedelta(minutes=5)
IDENTIFIERS = identifier_settings(default_region="FR", customer_number_format={"prefix": "C-"})
# tester25's bills2.csv lines, the fields its layout (BillIssued + customer_id, phone, given_name, family_name) maps
LINES: dict[str, dict[str, Any]] = {
    "carla": {"account_number": "ACC-T25-0004", "bill_id": "B-T25-0004", "amount": "42.10", "currency": "EUR",
              "period_start_date": "2026-11-01", "period_end_date": "2026-11-30", "due_date": "2026-12-20",
              "customer_id": "C-770004", "phone": "+33612345004", "given_name": "Carla", "family_name": "Venturini"},
    "didier": {"account_number": "ACC-T25-0005", "bill_id": "B-T25-0005", "amount": "18.00", "currency": "EUR",
               "period_start_date": "2026-11-01", "period_end_date": "2026-11-30", "due_date": "2026-12-20",
               "customer_id": "C-770005", "phone": "+33612345005", "given_name": "Didier", "family_name": "Lambertin"},
}
CARLAS_ACCOUNT, DIDIERS_PHONE, CARLAS_PHONE = "ACC-T25-0004", "+33612345005", "+33612345004"
Published = list[tuple[Event, str]]


def bill(holder: str, line: int) -> Published:
    """What ``omnibus adapter legacy import-batch --layout bills2.yaml bills2.csv`` publishes for the holder's line."""
    mapped = map_business(BusinessRecord("BillIssued", LINES[holder], f"bills2.csv:{line}", IMPORTED),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR",
                                        identifiers=IDENTIFIERS))
    return [(out.event, out.topic) for out in mapped.events]


def _routed(events: Any) -> Published:
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else CONTACTS) for out in events]


def didier_calls_typing_carlas_account(source: str, **call_center: Any) -> Published:
    """F2's ctr5: Didier calls from his mobile, types Carla's account number and opens a card dispute."""
    settings_ = call_center_settings(**call_center)
    site = "paris" if source == "connect" else "lyon"
    context = MapContext(site, settings_.sites[site], Topics.of(TopicSettings()), settings_, IDENTIFIERS)
    if source == "connect":
        at = LATER.isoformat()
        record = ctr(ContactId="t25-ctr-0005", InitiationTimestamp=at, DisconnectTimestamp=at, LastUpdateTimestamp=at,
                     CustomerEndpoint={"Address": DIDIERS_PHONE, "Type": "TELEPHONE_NUMBER"},
                     Attributes={"accountNumber": CARLAS_ACCOUNT, "disposition": "resolved",
                                 "omnibus_handoff_kind": "card-dispute"})
        record.pop("Agent", None)
        record.pop("Queue", None)
        return _routed(map_ctr(record, context).events)
    form = task(**{"from": DIDIERS_PHONE, "caller": DIDIERS_PHONE, "account_number": CARLAS_ACCOUNT,
                   "omnibus_handoff_kind": "card-dispute"})
    return _routed(map_task(form, Timeline(), context).events)


def identify(user_id: str, traits: dict[str, str], **web: Any) -> Published:
    """What the web hall publishes for a portal identify call."""
    mapper = SegmentMapper(web_settings(**web), TopicSettings(), IDENTIFIERS)
    message = {"type": "identify", "messageId": f"t25-id-{user_id}-{len(traits)}", "userId": user_id,
               "timestamp": LATER.isoformat(), "traits": traits}
    return _routed(mapper(message, source="portal-web", received_at=LATER).events)


def arrival(order: int, *groups: Published) -> Published:
    """The ``order``-th permutation of ``groups`` (a billing line's events, a call's, an identify's), in turn."""
    chosen = list(itertools.permutations(groups))[order]
    return [item for group in chosen for item in group]


def holders(h: Harness) -> tuple[str | None, str | None]:
    return h.customer("CUSTOMER_NUMBER", "C-770004"), h.customer("CUSTOMER_NUMBER", "C-770005")


@pytest.mark.parametrize("source", ["connect", "taskrouter"])
@pytest.mark.parametrize("order", range(6))
def test_f2_an_account_typed_on_the_keypad_leaves_the_callers_phone_with_his_billing_record(
        order: int, source: str) -> None:
    """F2 with the call center's defaults, the billing lines and the call in every arrival order: Didier's mobile, his
    call and his dispute stay on his record, Carla keeps her own account and phone only."""
    typed = didier_calls_typing_carlas_account(source)
    h = Harness(settings())
    feed(h, arrival(order, bill("carla", 1), bill("didier", 2), typed))
    carla, didier = holders(h)
    assert carla is not None and didier is not None and carla != didier
    assert h.customer("PHONE", DIDIERS_PHONE) == didier
    assert h.customer("PHONE", CARLAS_PHONE) == carla and h.customer("ACCOUNT", CARLAS_ACCOUNT) == carla
    for event, _ in typed:
        assert landed(h, event) <= {didier}, event.schema
    h.local.check_consistent()


def mallory_types_carlas_account() -> Published:
    return identify("t25-mallory", {"email": "mallory.t25@example.org", "accountNumber": CARLAS_ACCOUNT})


def carla_logs_in() -> Published:
    return identify("t25-carla-web", {"email": "carla.venturini@example.org", "firstName": "Carla",
                                      "lastName": "Venturini"})


@pytest.mark.parametrize("order", range(24))
def test_f7_an_account_typed_in_a_web_form_joins_no_login_to_its_holder(order: int) -> None:
    """F7 with the web adapter's defaults, in every arrival order of Carla's billing line, Mallory's identify with
    Carla's account number, Carla's own login and her own later identify with her account number: Mallory's login and
    e-mail stay a customer of their own, never Carla's master record, whose login place stays free; no link is
    refused for the real Carla's login."""
    mallory = mallory_types_carlas_account()
    carla_typed = identify("t25-carla-web", {"accountNumber": CARLAS_ACCOUNT})
    h = Harness(settings())
    feed(h, arrival(order, bill("carla", 1), mallory, carla_logs_in(), carla_typed))
    carla = h.customer("CUSTOMER_NUMBER", "C-770004")
    assert carla is not None and h.customer("ACCOUNT", CARLAS_ACCOUNT) == carla
    mallorys = h.customer("USER_ID", "t25-mallory")
    assert mallorys is not None and mallorys != carla
    assert h.customer("EMAIL", "mallory.t25@example.org") == mallorys
    assert h.customer("USER_ID", "t25-carla-web") not in (None, mallorys)
    for event, _ in mallory:
        assert landed(h, event) <= {mallorys}, event.schema
    h.local.check_consistent()


@pytest.mark.parametrize("order", range(2))
def test_an_account_the_portals_back_end_verified_joins_carlas_login_to_her_record(order: int) -> None:
    """The opt-in: a portal that writes the account its back end checked for the logged-in user names the trait
    (``identifier_traits`` with ``+``): Carla's login joins her billing record, in both orders."""
    verified = identify("t25-carla-web", {"email": "carla.venturini@example.org", "verifiedAccount": CARLAS_ACCOUNT},
                        identifier_traits={"EMAIL": ["email"], "ACCOUNT": ["verifiedAccount"]})
    h = Harness(settings())
    feed(h, arrival(order, bill("carla", 1), verified))
    carla = h.customer("CUSTOMER_NUMBER", "C-770004")
    assert carla is not None and h.customer("USER_ID", "t25-carla-web") == carla
    h.local.check_consistent()


@pytest.mark.parametrize("order", range(2))
def test_an_account_the_contact_flow_verified_lands_the_call_on_its_holder(order: int) -> None:
    """The opt-in on the call center: Carla calls from a phone billing does not know, and her flow verified her
    account (``verified_record_attributes``): the call lands on her record, in both orders."""
    settings_ = call_center_settings(verified_record_attributes={"ACCOUNT": ["accountNumber"]})
    context = MapContext("paris", settings_.sites["paris"], Topics.of(TopicSettings()), settings_, IDENTIFIERS)
    at = LATER.isoformat()
    record = ctr(ContactId="t25-ctr-0006", InitiationTimestamp=at, DisconnectTimestamp=at, LastUpdateTimestamp=at,
                 CustomerEndpoint={"Address": "+33698765432", "Type": "TELEPHONE_NUMBER"},
                 Attributes={"accountNumber": CARLAS_ACCOUNT})
    verified = _routed(map_ctr(record, context).events)
    h = Harness(settings())
    feed(h, arrival(order, bill("carla", 1), verified))
    carla = h.customer("CUSTOMER_NUMBER", "C-770004")
    assert carla is not None
    for event, _ in verified:
        assert landed(h, event) == {carla}, event.schema
    h.local.check_consistent()
