"""A handoff follows the contact it was opened during when identity moves that contact (``CustomerDirectory.read``).

Identity moves a call's contact events to another customer (an operator's move-contact, a split, a claim, the
latest-version or late-owner rule) and re-publishes them there with the ``omnibus-moved-from`` header; the call's
HandoffCreated stays where it was placed. The handoff opened during the call (``origin_interaction_id``) goes where
the call went, as if its HandoffCreated had moved, in either reading order.
"""

from __future__ import annotations

from bus.serde import Event
from processors.handoffs.customers import PLACEMENT_CAUSE
from tests.processors.handoffs.factories import T0, created
from tests.processors.handoffs.test_customers import H
from tests.processors.handoffs.test_customers_placement import JEAN_ACCOUNT, LANDLINE, Placed, moved
from tests.processors.identity.support import interaction

CALL = "CALL-9"


def call(interaction_id: str = CALL) -> Event:
    return interaction([("PHONE", LANDLINE["value"])], interaction_id=interaction_id)


def opened_during(interaction_id: str | None = CALL) -> Event:
    handoff = created("h1", tier=None, identifiers=[LANDLINE, JEAN_ACCOUNT])
    return Event(handoff.schema, {**handoff.value, "origin_interaction_id": interaction_id})


async def test_an_operators_move_of_the_call_takes_its_handoff_to_jean() -> None:
    world, handoff = Placed(), opened_during()
    world.contact("cus_claire", call())
    world.contact("cus_claire", handoff)  # identity placed the call and its handoff on Claire
    await world.send(handoff)
    assert world.state().customer_id == "cus_claire"
    copy = moved(call(), "moved-call-9")
    world.contact("cus_jean", copy, moved_from="cus_claire", at_ms=5)
    await world.tick(T0 + H)
    assert world.state().customer_id == "cus_jean"
    change = world.published("HandoffStatusChanged")[-1].event.value
    assert (change["customer_id"], change["cause"]) == ("cus_jean", PLACEMENT_CAUSE)
    assert change["envelope"]["causation_id"] == "moved-call-9"  # the moved copy of the call


async def test_a_move_read_before_the_handoff_places_it_at_creation() -> None:
    world, handoff = Placed(), opened_during()
    world.contact("cus_jean", moved(call(), "moved-call-9"), moved_from="cus_claire", at_ms=5)
    world.contact("cus_claire", handoff, at_ms=9)  # the HandoffCreated's partition is read later
    await world.send(handoff)
    assert world.state().customer_id == "cus_jean"
    assert world.directory.placed_on("h1") == ("cus_jean", "moved-call-9")


async def test_an_unmoved_copy_or_another_calls_move_leaves_the_handoff_and_contacts_stay_undecoded() -> None:
    world, handoff = Placed(), opened_during()
    world.contact("cus_claire", handoff)
    await world.send(handoff)
    world.contact("cus_claire", call())  # decoded once: the first of its writer schema
    decoded = world.decoded
    world.contact("cus_jean", call())  # no header: not a move, skipped undecoded
    assert world.decoded == decoded
    world.contact("cus_jean", moved(call("CALL-10"), "moved-call-10"), moved_from="cus_claire", at_ms=5)
    assert world.decoded == decoded + 1  # a moved contact is read
    await world.tick(T0 + H)
    assert world.state().customer_id == "cus_claire" and world.customers_announced() == {"cus_claire"}


async def test_a_handoff_opened_during_no_contact_keeps_its_own_placement() -> None:
    world, handoff = Placed(), opened_during(None)
    world.contact("cus_claire", handoff)
    world.contact("cus_jean", moved(call(), "moved-call-9"), moved_from="cus_claire", at_ms=5)
    await world.send(handoff)
    assert world.state().customer_id == "cus_claire"
