"""The push channels on in-memory stores: SHOW what fits, WITHDRAW what no longer does, caps and quiet hours
(``push.py``; outbound gateways: test_push_outbound.py; reservations under a cap: test_push_reservations.py)."""

from __future__ import annotations

from datetime import timedelta

from bus.serde import Event
from processors.offers.campaigns import defined
from processors.offers.caps import ContactPolicy
from processors.offers.config import OffersSettings
from tests.processors.offers.factories import T0, envelope, ident, offer
from tests.processors.offers.world import EMAIL, PHONE, World, actions


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
    # a channel that had not heard yet pitches it anyway (a second later): counted, the answer stands, nothing re-shown
    world.now += timedelta(seconds=1)
    late = world.offer_event("OfferPresented", PHONE, "fibre", "CALL_CENTER")
    assert ("presented_after_answer", ("CALL_CENTER",)) in late.counts and not late.instructions


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


def test_declined_at_the_counter_then_accepted_on_a_call_is_a_sale() -> None:
    """The offer state kept DECLINED, silently, while the KPIs counted the call's acceptance; a decline after the
    sale leaves it a sale and is counted as an answer not applied."""
    world = World()
    world.created("cus_1", PHONE, EMAIL)
    world.feed(defined(offer("fibre")))
    world.offer_event("OfferResponded", PHONE, "fibre", "BRANCH", response="DECLINED")
    accepted = world.offer_event("OfferResponded", PHONE, "fibre", "CALL_CENTER", response="ACCEPTED")
    state = world.customer("cus_1")["offers"]["fibre"]
    assert (state["status"], state["answered_channel"]) == ("ACCEPTED", "CALL_CENTER")
    assert not any(name == "answer_not_applied" for name, _ in accepted.counts)
    declined = world.offer_event("OfferResponded", EMAIL, "fibre", "WEB", response="DECLINED")
    assert ("answer_not_applied", ("DECLINED", "WEB")) in declined.counts and not declined.instructions
    assert world.customer("cus_1")["offers"]["fibre"]["status"] == "ACCEPTED"
