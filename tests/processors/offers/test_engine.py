"""The engine on in-memory stores: publish, resolve, present, answer, withdraw everywhere (merges and splits:
test_engine_identity.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from bus.config import TopicSettings
from bus.identifiers.number_format import NumberFormat
from bus.serde import Event
from processors.offers.campaigns import defined, withdrawn
from processors.offers.caps import ContactPolicy
from processors.offers.config import OffersSettings
from processors.offers.definition import Offer
from processors.offers.engine import OfferEngine
from processors.offers.outputs import Batch, Emitter
from processors.offers.store import Stores
from tests.processors.offers.factories import T0, envelope, ident, offer

PHONE, EMAIL = "PHONE:+8613900000001", "EMAIL:a@x.org"
SETTINGS = OffersSettings(policy=ContactPolicy(quiet_hours=None), default_timezone="UTC")


class World:
    def __init__(self, settings: OffersSettings = SETTINGS, account_format: NumberFormat | None = None) -> None:
        self.now = T0
        self.tables: list[dict[str, Any]] = [{}, {}, {}, {}]
        self.engine = OfferEngine(settings, Emitter(TopicSettings(), "test", lambda: self.now), lambda: self.now,
                                  account_format=account_format)
        self.n = 0

    def feed(self, event: Event, key: str | None = None, *, from_contacts: bool = False) -> Batch:
        stores, batch = Stores(*self.tables), Batch()
        self.engine.handle(stores, event, key, batch, from_contacts=from_contacts)
        stores.commit()
        return batch

    def id(self) -> str:
        self.n += 1
        return f"ev-{self.n}"

    def created(self, customer_id: str, *keys: str) -> Batch:
        return self.feed(Event("omnibus.identity.CustomerCreated", {
            "envelope": envelope(self.id()), "customer_id": customer_id, "identifiers": [ident(k) for k in keys]}))

    def offer_event(self, schema: str, key: str, offer_id: str, channel: str, version: int = 1, **extra: Any) -> Batch:
        value = {"envelope": envelope(self.id(), self.now, channel), "offer_id": offer_id, "offer_version": version,
                 "channel": channel, "customer_identifiers": [ident(key)], "agent_id": None,
                 "presentation_id": f"p-{self.n}", **extra}
        return self.feed(Event(f"omnibus.marketing.{schema}", value))

    def customer(self, customer_id: str) -> dict[str, Any]:
        return self.tables[2][customer_id]


def actions(batch: Batch) -> list[tuple[str, str, str, str]]:
    return [(i.action, i.channel, i.customer_id, i.offer.offer_id) for i in batch.instructions]


def test_published_offer_is_pushed_to_known_eligible_customers() -> None:
    world = World()
    world.created("cus_1", PHONE)
    batch = world.feed(defined(offer("fibre", channels=["WEB", "CALL_CENTER", "BRANCH"])))
    assert actions(batch) == [("SHOW", "CALL_CENTER", "cus_1", "fibre"), ("SHOW", "BRANCH", "cus_1", "fibre")]
    record = batch.outgoing[0]
    assert record.topic == "omnibus.marketing.instructions.call_center.v1" and record.key == "cus_1"
    assert record.event.value["customer_identifiers"] == [ident(PHONE)]
    assert world.created("cus_2", EMAIL).instructions[0].customer_id == "cus_2"  # a new customer gets it too


def test_accept_on_web_withdraws_from_every_push_channel() -> None:
    world = World()
    world.created("cus_1", PHONE, EMAIL)
    world.feed(defined(offer("fibre")))
    world.offer_event("OfferPresented", EMAIL, "fibre", "WEB")
    batch = world.offer_event("OfferResponded", EMAIL, "fibre", "WEB", response="ACCEPTED")
    assert actions(batch) == [("WITHDRAW", "CALL_CENTER", "cus_1", "fibre"), ("WITHDRAW", "BRANCH", "cus_1", "fibre")]
    assert {(i.reason, i.answered_channel) for i in batch.instructions} == {("ACCEPTED", "WEB")}
    assert batch.instructions[0].started_us is not None
    assert world.customer("cus_1")["offers"]["fibre"]["status"] == "ACCEPTED"
    assert ("response", ("ACCEPTED", "WEB")) in batch.counts
    # a channel that had not heard yet pitches it anyway: counted, the answer stands, nothing re-shown
    late = world.offer_event("OfferPresented", PHONE, "fibre", "CALL_CENTER")
    assert ("presented_after_answer", ("CALL_CENTER",)) in late.counts and not late.instructions


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


def test_revision_replaces_the_old_version_on_push_channels() -> None:
    world = World()
    world.created("cus_1", PHONE)
    world.feed(defined(offer("fibre", channels=["CALL_CENTER"])))
    batch = world.feed(defined(offer("fibre", version=2, title="Better", channels=["CALL_CENTER"])))
    assert [(i.action, i.offer.version) for i in batch.instructions] == [("SHOW", 2)]
    drift = world.offer_event("OfferPresented", PHONE, "fibre", "CALL_CENTER", version=1)
    assert ("version_drift", ("CALL_CENTER",)) in drift.counts
    assert not world.feed(defined(offer("fibre", channels=["CALL_CENTER"]))).instructions  # older replay ignored


def test_tester19_f19_an_answer_to_an_offer_id_not_in_the_catalogue_is_counted_as_unknown() -> None:
    world = World()
    world.created("cus_1", PHONE)
    world.feed(defined(offer("green-tariff", channels=["BRANCH"])))
    typo = world.offer_event("OfferResponded", PHONE, "green-tarif", "BRANCH", response="DECLINED")
    assert ("unknown_offer", ("response", "BRANCH")) in typo.counts
    known = world.offer_event("OfferResponded", PHONE, "green-tariff", "BRANCH", response="DECLINED")
    assert not [count for count in known.counts if count[0] == "unknown_offer"]


def test_withdrawn_offer_is_withdrawn_everywhere() -> None:
    world = World()
    world.created("cus_1", PHONE)
    world.feed(defined(offer("fibre", channels=["CALL_CENTER"])))
    batch = world.feed(withdrawn(offer("fibre", channels=["CALL_CENTER"]), "ended"))
    assert [(i.action, i.reason) for i in batch.instructions] == [("WITHDRAW", "WITHDRAWN")]


def test_cross_channel_cap_suppresses_the_push_and_counts_it() -> None:
    world = World(OffersSettings(policy=ContactPolicy(caps=({"max": 1, "per": "7d"},), quiet_hours=None)))
    world.created("cus_1", PHONE)
    world.feed(defined(offer("a", channels=["WEB"])))
    world.offer_event("OfferPresented", PHONE, "a", "WEB")
    batch = world.feed(defined(offer("b", channels=["CALL_CENTER"])))
    assert not batch.instructions and ("suppressed", ("contact_cap", "CALL_CENTER")) in batch.counts


def test_quiet_hours_defer_a_push_with_not_before() -> None:
    settings = OffersSettings(policy=ContactPolicy(caps=(), quiet_hours={"start": "11:00", "end": "13:30"}),
                              default_timezone="UTC")
    world = World(settings)
    world.created("cus_1", PHONE)
    (show,) = world.feed(defined(offer("a", channels=["CALL_CENTER"]))).instructions
    assert show.not_before == T0.replace(hour=13, minute=30)


def test_a_show_pushed_before_a_zone_change_keeps_its_not_before_until_the_offer_is_shown_again() -> None:
    """tester28 F8: a SHOW computed in UTC carries ``not_before`` 08:00 UTC; after a restart in Europe/Paris (or with
    the zone now derived from the region) nothing re-evaluates it by itself: the customer's next event keeps it, the
    offer's next version (or a SHOW after a WITHDRAW) carries the new zone's. It holds back only an outbound use of
    the instruction: the customer present is shown the offer (``ranking.choose``)."""
    policy = ContactPolicy(caps=(), quiet_hours={"start": "21:00", "end": "08:00"})
    world = World(OffersSettings(policy=policy, default_timezone="UTC"))
    world.now = T0.replace(hour=7, minute=13)  # 08:13 in Paris (summer time: 09:13)
    world.created("cus_1", PHONE)
    (show,) = world.feed(defined(offer("a", channels=["CALL_CENTER"]))).instructions
    assert show.not_before == T0.replace(hour=8, minute=0)
    paris = World(OffersSettings(policy=policy, default_timezone="Europe/Paris"))
    paris.tables, paris.now = world.tables, world.now
    assert not paris.offer_event("OfferPresented", PHONE, "a", "WEB").instructions  # its next event: kept
    (again,) = paris.feed(defined(offer("a", version=2, channels=["CALL_CENTER"]))).instructions
    assert again.action == "SHOW" and again.not_before == world.now


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


def test_a_contact_ahead_of_its_customer_announcement_pushes_nothing_the_screen_pop_cannot_place() -> None:
    """The demo's flaky screen pop: a contact re-keyed to cus_1 on customer.contacts reached offers before identity's
    CustomerCreated on customer.events (two topics, no common order). The SHOW went out naming no identifier, which
    identity cannot place on any customer, and the later announcement pushed nothing more (already shown): the
    agent's screen pop never got the offer. Now nothing is pushed until an identifier locates the customer."""
    world = World()
    world.feed(defined(offer("fibre", channels=["WEB", "CALL_CENTER", "BRANCH"])))
    early = world.feed(Event("omnibus.contact.InteractionRecorded", {
        "envelope": envelope(world.id(), T0, "CALL_CENTER"), "interaction_id": world.id(),
        "customer_identifiers": [ident(PHONE)], "kind": "CALL", "name": "billing", "outcome": "RESOLVED",
        "agent_id": "a1", "duration_ms": 1, "properties": {}}), "cus_1", from_contacts=True)
    assert actions(early) == []
    announced = world.created("cus_1", PHONE)
    assert actions(announced) == [("SHOW", "CALL_CENTER", "cus_1", "fibre"), ("SHOW", "BRANCH", "cus_1", "fibre")]
    assert all(o.event.value["customer_identifiers"] == [ident(PHONE)] for o in announced.outgoing)


def test_a_redelivered_definition_pushes_nothing_again() -> None:
    """At-least-once: the definition came first, then the customer, then the definition again after a rebalance
    (the final CI run saw two SHOW instructions for one offer this way)."""
    world = World()
    definition = defined(offer("fibre", channels=["CALL_CENTER"]))
    assert not world.feed(definition).instructions
    assert actions(world.created("cus_1", PHONE)) == [("SHOW", "CALL_CENTER", "cus_1", "fibre")]
    assert not world.feed(definition).instructions
    assert not world.feed(defined(offer("fibre", channels=["CALL_CENTER"]))).instructions  # republished unchanged


def test_a_same_version_edit_is_pushed_again() -> None:
    world = World()
    world.created("cus_1", PHONE)
    world.feed(defined(offer("fibre", channels=["CALL_CENTER"])))
    batch = world.feed(defined(offer("fibre", title="Fibre, now faster", channels=["CALL_CENTER"])))
    assert [(i.action, i.offer.title) for i in batch.instructions] == [("SHOW", "Fibre, now faster")]


def test_the_catalogue_entry_survives_the_tables_json_round_trip() -> None:
    """The redelivery check compares the stored entry with the definition: both must read the same after JSON."""
    definition = Offer.from_record(defined(offer("fibre", channels=["CALL_CENTER"])).value)
    assert json.loads(json.dumps(definition.to_json())) == definition.to_json()


def test_a_definition_redelivered_after_its_withdrawal_pushes_nothing() -> None:
    """At-least-once: the definition and its withdrawal again after a rebalance, while the tables already hold the
    withdrawal and customers who came after it. The publisher never re-defines a withdrawn version
    (``campaigns.check_revision``), so the definition is a copy: no SHOW, and no WITHDRAW, for anyone."""
    world = World()
    fibre = offer("fibre", channels=["CALL_CENTER"])
    definition, withdrawal = defined(fibre), withdrawn(fibre, "ended")
    world.feed(definition)
    assert actions(world.created("cus_1", PHONE)) == [("SHOW", "CALL_CENTER", "cus_1", "fibre")]
    assert actions(world.feed(withdrawal)) == [("WITHDRAW", "CALL_CENTER", "cus_1", "fibre")]
    assert not world.created("cus_2", EMAIL).outgoing  # after the withdrawal: nothing to show
    assert not world.feed(definition).outgoing
    assert not world.feed(withdrawal).outgoing
    assert world.engine.offer(Stores(*world.tables), "fibre")[1]  # still withdrawn
