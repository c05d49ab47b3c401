"""The catalogue's events on in-memory stores: an offer defined, revised, redelivered, withdrawn (``catalogue.py``)."""

from __future__ import annotations

import json

from processors.offers.campaigns import defined, withdrawn
from processors.offers.definition import Offer
from processors.offers.store import Stores
from tests.processors.offers.factories import ident, offer
from tests.processors.offers.world import EMAIL, PHONE, World, actions


def test_published_offer_is_pushed_to_known_eligible_customers() -> None:
    world = World()
    world.created("cus_1", PHONE)
    batch = world.feed(defined(offer("fibre", channels=["WEB", "CALL_CENTER", "BRANCH"])))
    assert actions(batch) == [("SHOW", "CALL_CENTER", "cus_1", "fibre"), ("SHOW", "BRANCH", "cus_1", "fibre")]
    record = batch.outgoing[0]
    assert record.topic == "omnibus.marketing.instructions.call_center.v1" and record.key == "cus_1"
    assert record.event.value["customer_identifiers"] == [ident(PHONE)]
    assert world.created("cus_2", EMAIL).instructions[0].customer_id == "cus_2"  # a new customer gets it too


def test_revision_replaces_the_old_version_on_push_channels() -> None:
    world = World()
    world.created("cus_1", PHONE)
    world.feed(defined(offer("fibre", channels=["CALL_CENTER"])))
    batch = world.feed(defined(offer("fibre", version=2, title="Better", channels=["CALL_CENTER"])))
    assert [(i.action, i.offer.version) for i in batch.instructions] == [("SHOW", 2)]
    drift = world.offer_event("OfferPresented", PHONE, "fibre", "CALL_CENTER", version=1)
    assert ("version_drift", ("CALL_CENTER",)) in drift.counts
    assert not world.feed(defined(offer("fibre", channels=["CALL_CENTER"]))).instructions  # older replay ignored


def test_withdrawn_offer_is_withdrawn_everywhere() -> None:
    world = World()
    world.created("cus_1", PHONE)
    world.feed(defined(offer("fibre", channels=["CALL_CENTER"])))
    batch = world.feed(withdrawn(offer("fibre", channels=["CALL_CENTER"]), "ended"))
    assert [(i.action, i.reason) for i in batch.instructions] == [("WITHDRAW", "WITHDRAWN")]


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
