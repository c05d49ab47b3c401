"""The engine on in-memory stores: resolve, wait for identity, present, answer, signals (the catalogue's events:
test_catalogue.py; the push channels: test_push.py; merges and splits: test_identity_events.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bus.serde import Event
from processors.offers.campaigns import defined
from processors.offers.outputs import Batch
from tests.processors.offers.factories import T0, envelope, ident, offer
from tests.processors.offers.world import EMAIL, PHONE, World, actions


def test_ineligible_customer_gets_nothing_until_a_fact_changes() -> None:
    world = World()
    world.created("cus_1", PHONE)
    assert not world.feed(defined(offer("tv", eligibility='"DSL" in products', channels=["CALL_CENTER"]))).instructions
    batch = world.feed(Event("omnibus.business.ProductSubscribed", {
        "envelope": envelope(world.id(), channel="BUSINESS_SYSTEM"), "account_number": "A1",
        "customer_identifiers": [ident(PHONE)], "subscription_id": "s1", "product_code": "DSL", "product_name": "DSL",
        "effective_at": T0}), "cus_1", from_contacts=True)
    assert actions(batch) == [("SHOW", "CALL_CENTER", "cus_1", "tv")]


def test_unresolved_events_wait_for_identity() -> None:
    world = World()
    world.feed(defined(offer("fibre", channels=["WEB", "CALL_CENTER"])))
    parked = world.offer_event("OfferResponded", EMAIL, "fibre", "WEB", response="DECLINED")
    assert ("unresolved_parked", ()) in parked.counts and not parked.instructions
    batch = world.created("cus_1", EMAIL)
    assert world.customer("cus_1")["offers"]["fibre"]["status"] == "DECLINED"
    assert not [i for i in batch.instructions if i.action == "SHOW"]


def test_tester19_f19_an_answer_to_an_offer_id_not_in_the_catalogue_is_counted_as_unknown() -> None:
    world = World()
    world.created("cus_1", PHONE)
    world.feed(defined(offer("green-tariff", channels=["BRANCH"])))
    typo = world.offer_event("OfferResponded", PHONE, "green-tarif", "BRANCH", response="DECLINED")
    assert ("unknown_offer", ("response", "BRANCH")) in typo.counts
    known = world.offer_event("OfferResponded", PHONE, "green-tariff", "BRANCH", response="DECLINED")
    assert not [count for count in known.counts if count[0] == "unknown_offer"]


def test_repeat_contacts_signal_once_per_window() -> None:
    world = World()
    world.created("cus_1", PHONE)

    def call(at: datetime) -> Batch:
        return world.feed(Event("omnibus.contact.InteractionRecorded", {
            "envelope": envelope(world.id(), at, "CALL_CENTER"), "interaction_id": world.id(),
            "customer_identifiers": [ident(PHONE)], "kind": "CALL", "name": "billing", "outcome": "UNRESOLVED",
            "agent_id": "a1", "duration_ms": 1, "properties": {"disposition": "bill-dispute"}}), "cus_1", from_contacts=True)

    assert not call(T0).outgoing
    second = call(T0 + timedelta(days=2))
    (signal,) = [o.event.value for o in second.outgoing if o.event.schema.endswith("RetentionSignal")]
    assert signal["kind"] == "REPEAT_CONTACT" and len(signal["evidence"]) == 2
    assert not [o for o in call(T0 + timedelta(days=3)).outgoing if o.event.schema.endswith("RetentionSignal")]
    assert [o for o in call(T0 + timedelta(days=9, hours=12)).outgoing if o.event.schema.endswith("RetentionSignal")]


@pytest.mark.parametrize(("schema", "fields", "kind"), [
    ("omnibus.business.PaymentOverdue", {"account_number": "A1", "bill_id": "b1", "amount_due": None,
                                         "due_date": None, "days_overdue": 15}, "PAYMENT_OVERDUE"),
    ("omnibus.business.OrderStatusChanged", {"order_id": "o1", "account_number": "A1", "status": "RECEIVED",
                                             "previous_status": None, "source_status": "PORT-OUT requested",
                                             "product_code": None}, "PORT_OUT_REQUEST"),
    ("omnibus.handoff.HandoffStatusChanged", {"handoff_id": "h1", "version": 3, "status": "IN_PROGRESS",
                                              "cause": "omnibus.handoff.HandoffBreached", "case_type": "billing"},
     "HANDOFF_BREACHED"),
])
def test_signals_from_billing_and_handoffs(schema: str, fields: dict[str, Any], kind: str) -> None:
    world = World()
    world.created("cus_1", PHONE)
    event = Event(schema, {"envelope": envelope(world.id()), "customer_identifiers": [ident(PHONE)], **fields})
    (signal,) = [o.event.value for o in world.feed(event, "cus_1", from_contacts=True).outgoing]
    assert signal["kind"] == kind and signal["customer_id"] == "cus_1" and signal["evidence"][0]["event_type"] == schema


def test_an_answer_naming_no_customer_is_refused() -> None:
    from processors.offers.engine import NoCustomer

    world = World()
    event = Event("omnibus.marketing.OfferResponded", {
        "envelope": envelope("ev-x"), "offer_id": "a", "offer_version": 1, "channel": "WEB",
        "customer_identifiers": [], "agent_id": None, "presentation_id": None, "response": "ACCEPTED"})
    with pytest.raises(NoCustomer, match="names no customer identifier"):
        world.feed(event)


def test_an_observation_naming_no_customer_is_skipped_and_counted_not_refused() -> None:
    """Found by a new user: an anonymous web page view (IdentifiersObserved with an anonymous id only) was
    dead-lettered at WARN; it is valid, and offers has nothing to do with it."""
    from processors.offers.engine import OBSERVED

    world = World()
    event = Event(OBSERVED, {"envelope": envelope("ev-anon"), "identifiers": [], "traits": []})
    produced = world.feed(event)
    assert ("unresolved_skipped", ()) in produced.counts and not produced.outgoing
