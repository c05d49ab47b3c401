"""tester34 F19: a recycled number (an address another customer holds now, or nobody) gets none of its former holder's
offers; a push already instructed to it is withdrawn (``processors/offers/addresses.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bus.serde import Event
from processors.offers.addresses import ADDRESS_LOST, lost_pushes, relinquish
from processors.offers.campaigns import defined
from processors.offers.caps import ContactPolicy
from processors.offers.config import OffersSettings
from processors.offers.outputs import Batch
from processors.offers.state import CustomerState
from tests.processors.offers.factories import envelope, ident, offer
from tests.processors.offers.test_push_outbound import instruction
from tests.processors.offers.world import World, actions

MOBILE, OTHER_MOBILE = "PHONE:+48601234567", "PHONE:+48609876543"
EMAIL, NID = "EMAIL:jan@example.pl", "NATIONAL_ID:44051401359"


def linked(world: World, customer_id: str, key: str) -> Batch:
    """Identity links ``key`` to ``customer_id`` (a recycle's claim: the number's new holder)."""
    return world.feed(Event("omnibus.identity.CustomerLinked", {
        "envelope": envelope(world.id()), "customer_id": customer_id, "identifier": ident(key),
        "lineage": {"trigger_event_id": "ev-x", "trigger_channel": "LEGACY", "rule": "claim"}}))


def released(world: World, customer_id: str, key: str) -> Batch:
    """An operator's release (``omnibus identity release``): LinkRefused ``evicted``."""
    return world.feed(Event("omnibus.identity.LinkRefused", {
        "envelope": envelope(world.id()), "identifier": ident(key), "customer_id": customer_id,
        "other_customer_id": None, "reason": "manual-release", "match_weight": None, "evicted": True,
        "lineage": {}}))


def sms_to(batch: Batch) -> list[tuple[str, str, list[dict[str, Any]]]]:
    return [(o.event.value["action"], o.event.value["customer_id"], o.event.value["lookup_identifiers"])
            for o in batch.outgoing if o.event.value.get("channel") == "SMS"]


def test_f19_the_former_holders_offer_sms_never_goes_to_the_recycled_number() -> None:
    """The sample: Jan's number goes to a new subscriber; Jan's next offer SMS has nowhere to go (counted), and the
    new holder gets only his own."""
    world = World()
    world.created("cus_jan", NID, MOBILE)
    linked(world, "cus_new", MOBILE)
    assert world.customer("cus_jan")["identifiers"] == [NID]
    batch = world.feed(defined(offer("fibre", channels=["SMS"])))
    assert sms_to(batch) == [("SHOW", "cus_new", [ident(MOBILE)])]
    assert ("suppressed", ("no_address", "SMS")) in batch.counts


def test_f19_a_push_queued_for_the_morning_is_withdrawn_when_the_number_moves_overnight() -> None:
    """Quiet hours hold Jan's SMS at the gateway until 07:00; the number moves at night: the push is withdrawn (to the
    address it was sent to) before the gateway could send it, and shown again at Jan's other mobile."""
    settings = OffersSettings(policy=ContactPolicy(quiet_hours={"start": "21:00", "end": "07:00"}),
                              default_timezone="Europe/Warsaw")
    world = World(settings)
    world.now = datetime.fromisoformat("2026-12-03T22:30:00+00:00")
    world.created("cus_jan", MOBILE)
    shown = world.feed(defined(offer("fibre", channels=["SMS"])))
    assert instruction(shown, "SMS")["not_before"] is not None
    linked(world, "cus_jan", OTHER_MOBILE)
    moved = linked(world, "cus_new", MOBILE)
    withdraw = instruction(moved, "SMS", "WITHDRAW")
    assert withdraw["customer_id"] == "cus_jan" and withdraw["reason"] == ADDRESS_LOST
    assert withdraw["lookup_identifiers"] == [ident(MOBILE), ident(OTHER_MOBILE)]
    again = [a for a in sms_to(moved) if a[1] == "cus_jan" and a[0] == "SHOW"]
    assert again == [("SHOW", "cus_jan", [ident(OTHER_MOBILE)])]
    assert ("SHOW", "cus_new", [ident(MOBILE)]) in sms_to(moved)  # the new holder's own, under his own id


def test_a_released_number_withdraws_the_push_to_it_too() -> None:
    world = World()
    world.created("cus_jan", NID, MOBILE)
    world.feed(defined(offer("fibre", channels=["SMS", "CALL_CENTER"])))
    batch = released(world, "cus_jan", MOBILE)
    assert actions(batch) == [("WITHDRAW", "SMS", "cus_jan", "fibre")]
    assert instruction(batch, "SMS", "WITHDRAW")["reason"] == ADDRESS_LOST


def test_an_email_claimed_by_another_customer_takes_the_email_push_along_not_the_sms() -> None:
    world = World()
    world.created("cus_jan", MOBILE, EMAIL)
    world.feed(defined(offer("fibre", channels=["SMS", "EMAIL"])))
    batch = linked(world, "cus_ewa", EMAIL)
    assert ("WITHDRAW", "EMAIL", "cus_jan", "fibre") in actions(batch)
    assert not [a for a in actions(batch) if a[1] == "SMS" and a[2] == "cus_jan"]


def test_a_merge_and_the_holders_own_link_take_nothing_off_anyone() -> None:
    world = World()
    world.created("cus_jan", MOBILE)
    world.feed(defined(offer("fibre", channels=["SMS"])))
    again = linked(world, "cus_jan", MOBILE)  # redelivered, or the same customer's own claim
    assert not [a for a in actions(again) if a[0] == "WITHDRAW"]
    world.created("cus_b", EMAIL)
    merged = world.feed(Event("omnibus.identity.CustomerMerged", {
        "envelope": envelope(world.id()), "survivor_customer_id": "cus_b", "merged_customer_id": "cus_jan",
        "moved_identifiers": [ident(MOBILE)], "lineage": {}}))
    assert not [i for i in merged.instructions if i.reason == ADDRESS_LOST]


def test_relinquish_and_lost_pushes_pure() -> None:
    jan = CustomerState(customer_id="cus_jan", identifiers=[NID, MOBILE, EMAIL])
    states = {"cus_jan": jan, "cus_new": CustomerState(customer_id="cus_new", identifiers=[MOBILE])}
    found = relinquish({MOBILE: "cus_jan", EMAIL: "cus_jan"}.get, [MOBILE, EMAIL], "cus_new", states.__getitem__)
    assert [(s.customer_id, s.identifiers, before) for s, before in found] == [
        ("cus_jan", [NID], (NID, MOBILE, EMAIL))]
    assert relinquish({MOBILE: "cus_new"}.get, [MOBILE], "cus_new", states.__getitem__) == []
    assert lost_pushes(jan, (NID, MOBILE, EMAIL)) == []  # nothing pushed
