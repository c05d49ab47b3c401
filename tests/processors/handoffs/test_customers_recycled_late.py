"""A recycled number's previous holder's contact arriving after the number moved: its case is never named,
announced or notified as the new subscriber's before identity places it.

Reported (a late Connect CTR of María's, dated during her tenancy, arriving after the number went to Pedro): the
tracker named Pedro by the number's current holder (``CustomerDirectory.customer_of``) until identity's placement
came 2.6 s later: ``HandoffRouted``/``HandoffStatusChanged`` with his ``customer_id`` (which identity re-publishes on
his key of ``customer.contacts.v1``), and "We have passed your request" went to his number. A number another
customer held before its holder (``CustomerDirectory.changed_hands``) names nobody until the placement, and the
first notification waits for it (``HandoffState.received_held``), then goes to the placed customer's own contact
points: the previous holder's (never the number she lost), or the new holder's when the call was his.
"""

from __future__ import annotations

from processors.handoffs.state import HandoffState
from tests.processors.handoffs.factories import T0, accepted, created, resolved
from tests.processors.handoffs.test_customers import H, replay
from tests.processors.handoffs.test_customers_placement import Placed
from tests.processors.handoffs.test_customers_recycled import MOBILE, MOBILE_KEY, notifications

MARIA_EMAIL = {"type": "EMAIL", "value": "maria@example.es"}
PEDRO_EMAIL = {"type": "EMAIL", "value": "pedro@example.es"}


def recycled() -> Placed:
    """María held the mobile; it went to Pedro (identity's recycle claim), both with an e-mail of their own."""
    world = Placed()
    world.assign("cus_maria", MOBILE, MARIA_EMAIL)
    world.assign("cus_pedro", MOBILE, PEDRO_EMAIL)
    return world


def named(world: Placed) -> set[str | None]:
    """Every customer id the tracker's outputs named (events and notifications)."""
    return {o.event.value.get("customer_id") for o in world.publisher.published}


async def test_the_reported_late_call_names_and_tells_the_new_subscriber_nothing() -> None:
    world = recycled()
    late = created("h1", identifiers=[MOBILE])  # the CTR names the number only
    await world.send(late)
    assert world.state().customer_id is None and world.state().received_held
    assert named(world) == {None} and notifications(world) == []  # nothing addressed to the number yet
    await world.tick(T0 + H)  # a tick before the placement: still nobody
    assert named(world) == {None} and notifications(world) == []
    world.contact("cus_maria", late)  # identity places the case on María (the contact's time is hers)
    await world.tick(T0 + 2 * H)
    state = world.state()
    assert (state.customer_id, state.customer_placed, state.received_held) == ("cus_maria", True, False)
    assert state.relinquished == (MOBILE_KEY,)
    (received,) = notifications(world)
    assert (received["kind"], received["customer_id"], received["address"]) == ("RECEIVED", "cus_maria", MARIA_EMAIL)
    assert "cus_pedro" not in named(world)


async def test_the_new_subscribers_own_call_is_told_once_placed() -> None:
    world = recycled()
    his = created("h1", identifiers=[MOBILE])
    await world.send(his)
    world.contact("cus_pedro", his)
    await world.tick(T0 + H)
    assert world.state().customer_id == "cus_pedro" and world.state().relinquished == ()
    (received,) = notifications(world)
    assert (received["kind"], received["customer_id"], received["address"]) == ("RECEIVED", "cus_pedro", MOBILE)
    await world.tick(T0 + 2 * H)  # told once
    assert len(notifications(world)) == 1


async def test_a_placement_read_before_the_creation_needs_no_wait() -> None:
    world = recycled()
    late = created("h1", identifiers=[MOBILE])
    world.contact("cus_maria", late)
    await world.send(late)
    state = world.state()
    assert (state.customer_id, state.received_held) == ("cus_maria", False)
    assert [n["customer_id"] for n in notifications(world)] == ["cus_maria"]
    assert all(n["address"] != MOBILE for n in notifications(world))


async def test_a_case_also_naming_a_settled_identifier_is_named_by_it_and_never_told_at_the_number() -> None:
    """Her e-mail, which nobody else held, names her at once; the number she lost is never addressed (as before)."""
    world = recycled()
    await world.send(created("h1", identifiers=[MOBILE, MARIA_EMAIL]))
    state = world.state()
    assert (state.customer_id, state.received_held) == ("cus_maria", False)
    assert notifications(world) and all(n["address"] != MOBILE for n in notifications(world))


async def test_a_number_merged_into_its_holder_did_not_change_hands() -> None:
    """A merge moves identifiers to the survivor: no other person held them, the case is named at once."""
    world = Placed()
    world.assign("cus_b", MOBILE)
    world.merged("cus_b", "cus_a")
    world.assign("cus_a", MOBILE)
    await world.send(created("h1", identifiers=[MOBILE]))
    assert world.state().customer_id == "cus_a" and not world.state().received_held
    assert [n["kind"] for n in notifications(world)] == ["RECEIVED"]


async def test_a_case_finished_before_its_placement_is_not_told_it_was_received() -> None:
    world = recycled()
    late = created("h1", identifiers=[MOBILE])
    await world.send(late)
    await world.send(accepted("h1", T0 + H))
    await world.send(resolved("h1", T0 + 2 * H))
    world.contact("cus_maria", late)
    await world.tick(T0 + 3 * H)
    assert "RECEIVED" not in [n["kind"] for n in notifications(world)]
    assert not world.state().received_held


async def test_a_state_saved_before_the_upgrade_holds_nothing() -> None:
    world = recycled()
    await world.send(created("h1", identifiers=[MOBILE]))
    raw = world.state().to_dict()
    raw.pop("received_held")  # a table row an older release wrote
    assert HandoffState.from_dict(raw).received_held is False


async def test_a_rebuild_from_the_announcements_holds_no_notification_it_sent() -> None:
    """``omnibus replay``/``verify`` rebuild the table from ``handoff.events.v1``: the placement's announcement
    clears the held notification there as it did live, so the rebuilt row equals the running tracker's."""
    world = recycled()
    late = created("h1", identifiers=[MOBILE])
    await world.send(late)
    world.contact("cus_maria", late)
    await world.tick(T0 + H)
    rebuilt = HandoffState.from_dict((await replay(world, T0 + H))["h1"])
    assert (rebuilt.customer_id, rebuilt.received_held) == ("cus_maria", False)


async def test_a_late_visit_with_the_old_number_and_a_new_e_mail_is_never_told_at_the_number() -> None:
    """Reported after the first fix: the previous holder's late counter visit carried her old number and an e-mail
    nobody held; identity placed it on a new customer holding only the e-mail, who never held the number, so the
    "no longer holds" rule did not keep it: RECEIVED and DELAYED went to the number, the new subscriber's."""
    world = recycled()
    new_email = {"type": "EMAIL", "value": "maria.nueva@example.es"}
    late = created("h1", identifiers=[MOBILE, new_email])
    await world.send(late)
    world.assign("cus_visit", new_email)  # identity made a customer of the visit, holding the e-mail only
    world.contact("cus_visit", late)
    await world.tick(T0 + H)
    state = world.state()
    assert state.customer_id == "cus_visit" and state.relinquished == (MOBILE_KEY,)
    assert notifications(world) and all(n["address"] != MOBILE for n in notifications(world))
    assert MOBILE not in world.published("HandoffStatusChanged")[-1].event.value["customer_identifiers"]
