"""Identity's announcements on in-memory stores (``identity_events.py``): merges, evictions, splits and the contacts
a split moved (the world and its helpers: world.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bus.serde import Event
from processors.offers.campaigns import defined
from processors.offers.outputs import Batch
from processors.offers.store import Stores
from tests.processors.offers.factories import T0, envelope, ident, offer
from tests.processors.offers.world import EMAIL, PHONE, World, actions


def test_merge_keeps_the_answer_given_under_the_other_identifier() -> None:
    world = World()
    world.created("cus_1", PHONE)
    world.created("cus_2", EMAIL)
    world.feed(defined(offer("fibre", channels=["WEB", "CALL_CENTER"])))
    world.offer_event("OfferResponded", EMAIL, "fibre", "WEB", response="DECLINED")
    batch = world.feed(Event("omnibus.identity.CustomerMerged", {
        "envelope": envelope(world.id()), "survivor_customer_id": "cus_1", "merged_customer_id": "cus_2",
        "moved_identifiers": [ident(EMAIL)], "lineage": {}}))
    assert actions(batch) == [("WITHDRAW", "CALL_CENTER", "cus_1", "fibre")]
    assert world.customer("cus_2")["merged_into"] == "cus_1"
    assert world.customer("cus_1")["offers"]["fibre"]["status"] == "DECLINED"
    world.now += timedelta(seconds=1)
    later = world.offer_event("OfferPresented", EMAIL, "fibre", "BRANCH")  # the e-mail now leads to cus_1
    assert ("presented_after_answer", ("BRANCH",)) in later.counts


def test_an_evicted_identifier_names_its_customer_no_more() -> None:
    """A per-customer limit took the e-mail off cus_1 (LinkRefused ``evicted``): an answer given under it
    now waits for identity, like one under an identifier nobody owns."""
    world = World()
    world.created("cus_1", PHONE, EMAIL)
    world.feed(defined(offer("fibre", channels=["WEB", "CALL_CENTER"])))

    def refused(customer_id: str, evicted: bool) -> Event:
        return Event("omnibus.identity.LinkRefused", {
            "envelope": envelope(world.id()), "identifier": ident(EMAIL), "customer_id": customer_id,
            "other_customer_id": None, "reason": "limit", "match_weight": None, "evicted": evicted, "lineage": {}})

    world.feed(refused("cus_1", False))  # an ordinary refusal names a customer that does not hold it
    world.feed(refused("cus_2", True))  # an eviction by another customer than the one holding it
    assert world.tables[1][EMAIL] == "cus_1"
    world.feed(refused("cus_1", True))
    assert EMAIL not in world.tables[1] and world.customer("cus_1")["identifiers"] == [PHONE]
    parked = world.offer_event("OfferResponded", EMAIL, "fibre", "WEB", response="DECLINED")
    assert ("unresolved_parked", ()) in parked.counts
    assert world.customer("cus_1")["offers"]["fibre"]["status"] != "DECLINED"


def test_split_gives_the_new_customer_its_own_offers_again() -> None:
    world = World()
    world.created("cus_1", PHONE, EMAIL)
    world.feed(defined(offer("fibre", channels=["WEB", "CALL_CENTER"])))
    world.offer_event("OfferResponded", EMAIL, "fibre", "WEB", response="ACCEPTED")
    batch = world.feed(Event("omnibus.identity.CustomerSplit", {
        "envelope": envelope(world.id()), "source_customer_id": "cus_1", "new_customer_id": "cus_9",
        "moved_identifiers": [ident(PHONE)], "reason": "two people", "lineage": {}}))
    # the answer came through the e-mail, which stays: the phone's new customer is pitched again
    assert actions(batch) == [("SHOW", "CALL_CENTER", "cus_9", "fibre")]
    assert world.customer("cus_1")["offers"]["fibre"]["status"] == "ACCEPTED"


def test_a_split_redelivered_after_the_new_customer_answered_changes_nothing() -> None:
    """At-least-once: the split again after a rebalance, while the tables already hold the new customer's answer.
    The new customer is not rebuilt from the source (which no longer holds the moved identifiers): no SHOW of an
    offer it accepted, and its answer stays."""
    world = World()
    world.created("cus_1", PHONE, EMAIL)
    world.feed(defined(offer("fibre", channels=["WEB", "CALL_CENTER"])))
    world.offer_event("OfferResponded", EMAIL, "fibre", "WEB", response="ACCEPTED")
    split = Event("omnibus.identity.CustomerSplit", {
        "envelope": envelope(world.id()), "source_customer_id": "cus_1", "new_customer_id": "cus_9",
        "moved_identifiers": [ident(PHONE)], "reason": "two people", "lineage": {}})
    assert actions(world.feed(split)) == [("SHOW", "CALL_CENTER", "cus_9", "fibre")]
    answered = world.offer_event("OfferResponded", PHONE, "fibre", "CALL_CENTER", response="ACCEPTED")
    assert actions(answered) == [("WITHDRAW", "CALL_CENTER", "cus_9", "fibre")]
    assert not world.feed(split).outgoing
    assert world.customer("cus_9")["offers"]["fibre"]["status"] == "ACCEPTED"
    assert world.customer("cus_1")["offers"]["fibre"]["status"] == "ACCEPTED"


def test_a_split_withdraws_from_the_source_an_offer_that_went_whole_to_the_new_customer() -> None:
    """#8 point 7: the offer was pitched to the moved person (presented through the moved phone, eligible through
    the moved account's product). The split hands it to the new customer; the source no longer fits it, so its
    screen pop (``eligible_offers``, fed by these instructions) must lose it: a WITHDRAW under the source. Before,
    the source's state simply lost the offer and no instruction ever took it off the other person's screen."""
    account = "ACCOUNT:A1"
    world = World()
    world.created("cus_1", PHONE, EMAIL, account)
    world.feed(defined(offer("tv", eligibility='"DSL" in products', channels=["CALL_CENTER"])))
    shown = world.feed(Event("omnibus.business.ProductSubscribed", {
        "envelope": envelope(world.id(), channel="BUSINESS_SYSTEM"), "account_number": "A1",
        "customer_identifiers": [ident(PHONE)], "subscription_id": "s1", "product_code": "DSL", "product_name": "DSL",
        "effective_at": T0}), "cus_1", from_contacts=True)
    assert actions(shown) == [("SHOW", "CALL_CENTER", "cus_1", "tv")]
    world.offer_event("OfferPresented", PHONE, "tv", "WEB")  # on the call center it fills its day: CAPPED
    split = Event("omnibus.identity.CustomerSplit", {
        "envelope": envelope(world.id()), "source_customer_id": "cus_1", "new_customer_id": "cus_9",
        "moved_identifiers": [ident(PHONE), ident(account)], "reason": "two people", "lineage": {}})
    batch = world.feed(split)
    assert ("WITHDRAW", "CALL_CENTER", "cus_1", "tv") in actions(batch)
    (withdraw,) = [i for i in batch.instructions if i.customer_id == "cus_1"]
    assert withdraw.identifiers == ("EMAIL:a@x.org",)  # under the source's own identifier: its screen pop
    assert world.customer("cus_9")["offers"]["tv"]["status"] == "PRESENTED"
    assert not world.feed(split).outgoing  # redelivered: nothing new


def test_a_split_keeps_on_the_source_an_offer_it_still_fits() -> None:
    world = World()
    world.created("cus_1", PHONE, EMAIL)
    world.feed(defined(offer("fibre", channels=["CALL_CENTER"])))
    world.offer_event("OfferPresented", PHONE, "fibre", "WEB")
    batch = world.feed(Event("omnibus.identity.CustomerSplit", {
        "envelope": envelope(world.id()), "source_customer_id": "cus_1", "new_customer_id": "cus_9",
        "moved_identifiers": [ident(PHONE)], "reason": "two people", "lineage": {}}))
    assert [a for a in actions(batch) if a[2] == "cus_1"] == []  # still shown there: no WITHDRAW, no second SHOW
    assert world.customer("cus_1")["offers"]["fibre"]["pushed"] == ["CALL_CENTER"]


ACCOUNT = "ACCOUNT:FR7630003001"


def visit(world: World, customer_id: str, key: str, at: datetime, *, event_id: str | None = None,
          moved_from: str | None = None, causation_id: str | None = None) -> Batch:
    """A counter transaction on ``customer.contacts.v1`` under ``customer_id``; with ``moved_from``, the copy an
    operator's split re-published (header ``omnibus-moved-from``, ``causation_id`` the original)."""
    head = envelope(event_id or world.id(), at, "BRANCH")
    head["causation_id"] = causation_id
    event = Event("omnibus.contact.InteractionRecorded", {
        "envelope": head, "interaction_id": head["event_id"], "customer_identifiers": [ident(key)],
        "kind": "COUNTER_TRANSACTION", "name": "withdrawal", "outcome": "RESOLVED", "agent_id": "a1",
        "duration_ms": 1, "properties": {}})
    stores, batch = Stores(*world.tables), Batch()
    world.engine.handle(stores, event, customer_id, batch, from_contacts=True, moved_from=moved_from)
    stores.commit()
    return batch


def signals(batch: Batch) -> list[dict[str, Any]]:
    return [o.event.value for o in batch.outgoing if o.event.schema.endswith("RetentionSignal")]


def split_event(world: World, moved: str) -> Event:
    return Event("omnibus.identity.CustomerSplit", {
        "envelope": envelope(world.id()), "source_customer_id": "cus_father", "new_customer_id": "cus_son",
        "moved_identifiers": [ident(moved)], "reason": "father and son", "lineage": {}})


def test_a_contact_a_split_moved_is_no_repeat_contact_of_itself() -> None:
    """tester12 M2: the son's one visit, moved by ``identity split`` and re-published under the son, gave a
    REPEAT_CONTACT whose two pieces of evidence were the visit and its copy. A moved contact counts once."""
    world = World()
    world.created("cus_father", PHONE, ACCOUNT)
    visit(world, "cus_father", ACCOUNT, T0, event_id="tx-son")
    world.feed(split_event(world, ACCOUNT))
    copy = visit(world, "cus_son", ACCOUNT, T0, moved_from="cus_father", causation_id="tx-son")
    assert signals(copy) == []
    assert [row[3] for row in world.customer("cus_son")["contacts"]] == ["tx-son"]
    # a real second visit of the son within the window is a repeat contact, with the visit once in the evidence
    (signal,) = signals(visit(world, "cus_son", ACCOUNT, T0 + timedelta(days=1), event_id="tx-son-2"))
    assert signal["kind"] == "REPEAT_CONTACT"
    assert [e["event_id"] for e in signal["evidence"]] == ["tx-son", "tx-son-2"]


def test_a_moved_contact_arriving_late_at_the_customer_it_left_is_not_counted_there() -> None:
    """The copy is keyed by the son, the original by the father: on two partitions, in no common order. The original
    reaching the father after its copy reached the son no longer counts for the father (no false repeat contact with
    the father's own visit), as the KPIs' ``released``."""
    world = World()
    world.created("cus_father", PHONE, ACCOUNT)
    visit(world, "cus_father", PHONE, T0 - timedelta(hours=1), event_id="tx-father")
    world.feed(split_event(world, ACCOUNT))
    visit(world, "cus_son", ACCOUNT, T0, moved_from="cus_father", causation_id="tx-son")
    late = visit(world, "cus_father", ACCOUNT, T0, event_id="tx-son")
    assert signals(late) == []
    assert [row[3] for row in world.customer("cus_father")["contacts"]] == ["tx-father"]
    assert [row[3] for row in world.customer("cus_son")["contacts"]] == ["tx-son"]


def test_a_moved_contact_arriving_before_its_split_stays_with_the_new_customer_once() -> None:
    """The copy can reach the offer engine before ``CustomerSplit``: the split folds what the new customer already
    has instead of replacing it, and the contact is on the son once, off the father."""
    world = World()
    world.created("cus_father", PHONE, ACCOUNT)
    visit(world, "cus_father", ACCOUNT, T0, event_id="tx-son")
    visit(world, "cus_son", ACCOUNT, T0, moved_from="cus_father", causation_id="tx-son")
    world.feed(split_event(world, ACCOUNT))
    assert [row[3] for row in world.customer("cus_son")["contacts"]] == ["tx-son"]
    assert world.customer("cus_father")["contacts"] == []
    assert signals(visit(world, "cus_son", ACCOUNT, T0, moved_from="cus_father", causation_id="tx-son")) == []
