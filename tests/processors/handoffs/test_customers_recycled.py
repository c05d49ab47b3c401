"""tester34 F4: a recycled number's new subscriber hears nothing of, and is shown nothing of, its former holder's case.

Jan's mobile number goes to a new subscriber after the quarantine; identity gives it to the new customer on
``customer.identifiers.v1`` (a recycle's claim, ``processors/identity/graph/recycle.py``), or an operator releases it
(a tombstone). Jan's open handoff stays Jan's; its notifications go to a contact point Jan still holds, else to the
origin channel without an address (``addressed="false"``); its events (the screen pop's ``open_handoffs``) name Jan
by the identifiers Jan still holds, never the number (``HandoffState.relinquished``, ``CustomerDirectory.view``).
"""

from __future__ import annotations

from typing import Any

from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.state import HandoffState
from tests.processors.handoffs.factories import T0, accepted, created, resolved
from tests.processors.handoffs.test_customers import H, replay
from tests.processors.handoffs.test_customers_placement import Placed

MOBILE = {"type": "PHONE", "value": "+48601234567"}
JAN_EMAIL = {"type": "EMAIL", "value": "jan@example.pl"}
SHARED_LANDLINE = {"type": "PHONE", "value": "+48221234567"}
MOBILE_KEY = "PHONE:+48601234567"


def notifications(world: Placed) -> list[dict[str, Any]]:
    return [o.event.value for o in world.published("CustomerNotification")]


def last_change(world: Placed) -> dict[str, Any]:
    return world.published("HandoffStatusChanged")[-1].event.value


async def jans_case(world: Placed, *identifiers: dict[str, str]) -> None:
    """Jan's call-center case about his mobile, placed on Jan by identity."""
    world.assign("cus_jan", *identifiers)
    handoff = created("h1", identifiers=[MOBILE])
    await world.send(handoff)
    world.contact("cus_jan", handoff)
    await world.tick(T0 + H)


async def test_f4_the_cases_notifications_go_to_a_contact_point_jan_still_holds_never_the_recycled_number() -> None:
    """The sample: the number goes to the new subscriber; the next notification goes to Jan's e-mail (the web
    fallback), keyed and named as Jan's; the status event names Jan by his e-mail, not the number."""
    world = Placed()
    await jans_case(world, MOBILE, JAN_EMAIL)
    assert notifications(world)[-1]["address"] == MOBILE
    world.assign("cus_new", MOBILE)  # the recycle's claim
    await world.tick(T0 + 2 * H)
    assert world.state().relinquished == (MOBILE_KEY,) and world.state().customer_id == "cus_jan"
    change = last_change(world)
    assert change["customer_id"] == "cus_jan" and change["customer_identifiers"] == [JAN_EMAIL]
    await world.send(accepted("h1", T0 + 3 * H))
    sent = notifications(world)[-1]
    assert (sent["kind"], sent["channel"], sent["address"], sent["customer_id"]) == (
        "IN_PROGRESS", "WEB", JAN_EMAIL, "cus_jan")
    assert MOBILE not in sent["customer_identifiers"]
    assert MOBILE not in last_change(world)["customer_identifiers"]


async def test_with_no_contact_point_left_the_notification_is_held_for_the_origin_channel_unaddressed() -> None:
    world = Placed()
    await jans_case(world, MOBILE)
    world.assign("cus_new", MOBILE)
    await world.send(resolved("h1", T0 + 2 * H))  # the record is followed first: no tick needed
    sent = notifications(world)[-1]
    assert (sent["kind"], sent["channel"], sent["address"], sent["customer_id"]) == (
        "RESOLVED", "CALL_CENTER", None, "cus_jan")
    assert sent["customer_identifiers"] == [] and last_change(world)["customer_identifiers"] == []


async def test_a_released_number_is_relinquished_and_one_given_back_is_held_again() -> None:
    world = Placed()
    await jans_case(world, MOBILE, JAN_EMAIL)
    world.directory.assign(MOBILE_KEY, None)  # an operator's release: a tombstone
    await world.tick(T0 + 2 * H)
    assert world.state().relinquished == (MOBILE_KEY,)
    world.assign("cus_jan", MOBILE)  # a late record undid the recycle
    await world.tick(T0 + 3 * H)
    assert world.state().relinquished == () and last_change(world)["customer_identifiers"] == [MOBILE]
    await world.send(accepted("h1", T0 + 4 * H))
    assert notifications(world)[-1]["address"] == MOBILE


async def test_an_identifier_another_customer_held_from_the_start_is_not_relinquished() -> None:
    """A couple's shared landline identity gave the husband: the wife's case is told there as before (only a
    contact point the case's customer held and lost is withheld)."""
    world = Placed()
    world.assign("cus_piotr", SHARED_LANDLINE)
    world.assign("cus_anna", JAN_EMAIL)
    handoff = created("h1", identifiers=[SHARED_LANDLINE, JAN_EMAIL])
    await world.send(handoff)
    world.contact("cus_anna", handoff)
    await world.send(accepted("h1", T0 + H))
    assert world.state().relinquished == ()
    assert notifications(world)[-1]["address"] == SHARED_LANDLINE


async def test_a_restarted_directory_keeps_what_the_state_says_and_the_rebuild_agrees() -> None:
    world = Placed()
    await jans_case(world, MOBILE, JAN_EMAIL)
    world.assign("cus_new", MOBILE)
    await world.tick(T0 + 2 * H)
    # a replica restarted from the compacted topic: no record of Jan ever holding the number
    fresh = CustomerDirectory(ready=True)
    fresh.assign(MOBILE_KEY, "cus_new")
    fresh.assign("EMAIL:jan@example.pl", "cus_jan")
    state = world.state()
    view = fresh.view("h1", state.customer_identifiers, world.tracker.policy, "cus_jan",
                      relinquished=state.relinquished)
    assert view.relinquished == (MOBILE_KEY,)
    rebuilt = (await replay(world, T0 + 3 * H))["h1"]
    assert HandoffState.from_dict(rebuilt).relinquished == (MOBILE_KEY,)
