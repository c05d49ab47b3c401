"""tester32 F9: an outbound push (SMS, e-mail) instructed and not presented yet reserves a contact under every cap.

Presentations + reservations never exceed a cap: with room for one push, the first channel in ``PUSH_CHANNELS``'
order gets it; a presentation on another channel that fills a cap withdraws the reservations left over it
(reason ``CAPPED``); the gateway's report turns a reservation into a presentation; a merge withdraws the merged
customer's duplicate (reason ``MERGED``). The window is rolling.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bus.serde import Event
from processors.offers.campaigns import defined
from processors.offers.caps import ContactPolicy
from processors.offers.config import OffersSettings
from processors.offers.definition import Cap
from processors.offers.ranking import choose
from processors.offers.state import CustomerState
from tests.processors.offers.factories import T0, envelope, ident, offer
from tests.processors.offers.test_push_outbound import instruction, report
from tests.processors.offers.world import World, actions

NID, MOBILE, MAIL = "NATIONAL_ID:48765431A", "PHONE:+34612345678", "EMAIL:pedro@example.es"
OTHER_MOBILE = "PHONE:+34622111222"
ONE_A_DAY = ContactPolicy(caps=(Cap(max=1, per="1d"),), quiet_hours=None)


def world_with(policy: ContactPolicy, zone: str = "UTC") -> World:
    return World(OffersSettings(policy=policy, default_timezone=zone))


def next_event(world: World, customer_id: str = "cus_1") -> Any:
    """The customer's next change (here identity links a new user id): the engine re-evaluates its pushes."""
    world.n += 1
    return world.feed(Event("omnibus.identity.CustomerLinked", {
        "envelope": envelope(f"ev-{world.n}", world.now), "customer_id": customer_id,
        "identifiers": [ident(f"USER_ID:u-{world.n}")]}))


def pull(world: World, channel: str, offers: list[Any], customer_id: str = "cus_1") -> list[tuple[str, str]]:
    """The pull query's ``suppressed`` for ``channel``: (offer id, reason)."""
    state = CustomerState.from_dict(world.customer(customer_id))
    chosen = choose(state, offers, channel, world.now, "UTC", world.engine.settings.policy)
    return [(o.offer_id, reason.value) for o, reason in chosen.suppressed]


def reasons(batch: Any) -> list[tuple[str, str, str | None]]:
    return [(i.action, i.channel, i.reason) for i in batch.instructions]


def test_tester32_f9_one_a_day_offer_on_sms_email_and_the_counter_makes_one_contact_a_day() -> None:
    """The bank's offer: one push of the two, and the counter pitch at 20:07Z withdraws it; back after 24 hours."""
    policy = ContactPolicy(quiet_hours={"start": "21:00", "end": "08:00"})  # the default caps
    world = world_with(policy, "Europe/Madrid")
    world.now = datetime.fromisoformat("2026-12-03T15:00:00+00:00")
    world.created("cus_1", NID, MOBILE, MAIL)
    gold = offer("tarjeta-oro-2026", channels=["WEB", "CALL_CENTER", "BRANCH", "SMS", "EMAIL"],
                 caps=[{"max": 1, "per": "1d"}], quiet_hours={"start": "21:00", "end": "09:00"})
    published = world.feed(defined(gold))
    assert [a[:2] for a in actions(published)] == [("SHOW", "CALL_CENTER"), ("SHOW", "BRANCH"), ("SHOW", "SMS")]
    assert ("suppressed", ("offer_cap", "EMAIL")) in published.counts
    assert pull(world, "EMAIL", [gold]) == [("tarjeta-oro-2026", "offer_cap")]
    assert pull(world, "SMS", [gold]) == []  # the SMS holds its own room
    assert pull(world, "BRANCH", [gold]) == []  # a customer who is there comes first

    world.now = datetime.fromisoformat("2026-12-03T20:07:00+00:00")
    pitched = world.offer_event("OfferPresented", NID, "tarjeta-oro-2026", "BRANCH")
    assert reasons(pitched) == [("WITHDRAW", "SMS", "CAPPED"), ("WITHDRAW", "CALL_CENTER", "CAPPED"),
                                ("WITHDRAW", "BRANCH", "CAPPED")]  # the agent's and the clerk's too: one a day
    assert pull(world, "SMS", [gold]) == pull(world, "EMAIL", [gold]) == [("tarjeta-oro-2026", "offer_cap")]

    world.now = datetime.fromisoformat("2026-12-04T20:00:00+00:00")  # rolling: 24 hours after the pitch, not a day
    assert not next_event(world).instructions
    world.now = datetime.fromisoformat("2026-12-04T20:08:00+00:00")
    again = next_event(world)
    assert [a[:2] for a in actions(again)] == [("SHOW", "CALL_CENTER"), ("SHOW", "BRANCH"), ("SHOW", "SMS")]
    assert instruction(again, "SMS")["not_before"] == datetime.fromisoformat("2026-12-05T08:00:00+00:00")


@pytest.mark.parametrize(("policy", "caps", "reason"), [
    (ONE_A_DAY, [], "contact_cap"),
    (ContactPolicy(quiet_hours=None), [{"max": 1, "per": "1d"}], "offer_cap"),
], ids=["policy cap across channels", "offer cap across channels"])
def test_room_for_one_push_goes_to_the_first_push_channel(policy: ContactPolicy, caps: list[Any], reason: str) -> None:
    world = world_with(policy)
    world.created("cus_1", MOBILE, MAIL)
    batch = world.feed(defined(offer("gold", channels=["EMAIL", "SMS"], caps=caps)))
    assert actions(batch) == [("SHOW", "SMS", "cus_1", "gold")]  # PUSH_CHANNELS' order: SMS before EMAIL
    assert ("suppressed", (reason, "EMAIL")) in batch.counts


def test_the_policy_cap_on_a_channel_counts_the_other_offers_reserved_pushes() -> None:
    world = world_with(ContactPolicy(caps=(Cap(max=1, per="1d", channel="SMS"),), quiet_hours=None))
    world.created("cus_1", MOBILE, MAIL)
    assert actions(world.feed(defined(offer("gold", channels=["SMS"])))) == [("SHOW", "SMS", "cus_1", "gold")]
    second = world.feed(defined(offer("loan", channels=["SMS", "EMAIL"])))
    assert actions(second) == [("SHOW", "EMAIL", "cus_1", "loan")]  # the e-mail has room, the SMS has none
    assert ("suppressed", ("channel_cap", "SMS")) in second.counts


def test_the_offers_cap_on_a_channel_holds_a_merged_customers_second_sms() -> None:
    """Two customers, each with the offer's SMS SHOW, are one person: one SMS stands, under the survivor's id."""
    world = world_with(ContactPolicy(caps=(), quiet_hours=None))
    world.created("cus_1", MOBILE)
    world.created("cus_2", OTHER_MOBILE)
    shown = world.feed(defined(offer("gold", channels=["SMS"], caps=[{"max": 1, "per": "1d", "channel": "SMS"}])))
    assert sorted(a[2] for a in actions(shown)) == ["cus_1", "cus_2"]
    merged = world.feed(Event("omnibus.identity.CustomerMerged", {
        "envelope": envelope(world.id()), "survivor_customer_id": "cus_1", "merged_customer_id": "cus_2",
        "moved_identifiers": [ident(OTHER_MOBILE)], "lineage": {}}))
    assert actions(merged) == [("WITHDRAW", "SMS", "cus_2", "gold")]
    assert merged.instructions[0].reason == "MERGED"
    assert merged.outgoing[0].key == "cus_2"  # on the key the gateway holds it under
    assert [row[4] for row in world.customer("cus_1")["reserved"]] == ["cus_1"]


def test_a_counter_pitch_filling_the_cap_withdraws_the_reservations_left_over_it() -> None:
    world = world_with(ContactPolicy(caps=(Cap(max=2, per="1d"),), quiet_hours=None))
    world.created("cus_1", NID, MOBILE, MAIL)
    shown = world.feed(defined(offer("gold", channels=["BRANCH", "SMS", "EMAIL"])))
    assert [a[:2] for a in actions(shown)] == [("SHOW", "BRANCH"), ("SHOW", "SMS"), ("SHOW", "EMAIL")]
    pitched = world.offer_event("OfferPresented", NID, "gold", "BRANCH")
    assert reasons(pitched) == [("WITHDRAW", "EMAIL", "CAPPED")]  # the SMS, reserved first, keeps its room
    assert pitched.outgoing[0].event.value["reason"] == "CAPPED"


def test_the_gateways_report_turns_the_reservation_into_a_presentation() -> None:
    world = world_with(ONE_A_DAY)
    world.created("cus_1", MOBILE, MAIL)
    sms = instruction(world.feed(defined(offer("gold", channels=["SMS", "EMAIL"]))), "SMS")
    sent = world.feed(report(world, sms))
    assert not sent.instructions  # presented: nothing left to withdraw, and still no room for the e-mail
    state = world.customer("cus_1")
    assert state["reserved"] == [] and [row[1] for row in state["ledger"]] == ["SMS"]
    world.now = T0 + timedelta(hours=25)
    assert actions(next_event(world)) == [("SHOW", "EMAIL", "cus_1", "gold")]  # the SMS is out of the window


def test_an_unreported_push_keeps_its_room_until_withdrawn_or_expired() -> None:
    """A failed send is reported by nothing (the gateway may retry until ``valid_until``): its room stays reserved;
    the offer's expiry, or an answer that withdraws it, frees it."""
    world = world_with(ContactPolicy(caps=(Cap(max=1, per="1d", channel="SMS"),), quiet_hours=None))
    world.created("cus_1", NID, MOBILE)
    world.feed(defined(offer("flash", channels=["SMS", "BRANCH"], valid_until=(T0 + timedelta(hours=1)).isoformat())))
    assert not world.feed(defined(offer("gold", channels=["SMS"]))).instructions
    world.now = T0 + timedelta(minutes=30)
    assert not next_event(world).instructions
    world.now = T0 + timedelta(hours=2)
    assert reasons(next_event(world)) == [("WITHDRAW", "BRANCH", "EXPIRED"), ("WITHDRAW", "SMS", "EXPIRED"),
                                          ("SHOW", "SMS", None)]


def test_an_answer_withdrawing_a_push_frees_its_room_for_another_offer() -> None:
    world = world_with(ContactPolicy(caps=(Cap(max=1, per="1d", channel="SMS"),), quiet_hours=None))
    world.created("cus_1", NID, MOBILE)
    world.feed(defined(offer("flash", channels=["SMS"])))
    assert not world.feed(defined(offer("gold", channels=["SMS"]))).instructions
    declined = world.offer_event("OfferResponded", NID, "flash", "WEB", response="DECLINED")
    assert actions(declined) == [("WITHDRAW", "SMS", "cus_1", "flash"), ("SHOW", "SMS", "cus_1", "gold")]


def counter_pitch_day() -> tuple[World, list[Any]]:
    world = world_with(ONE_A_DAY)
    world.created("cus_1", NID, MOBILE, MAIL)
    batches = [world.feed(defined(offer("gold", channels=["BRANCH", "SMS", "EMAIL"])))]
    batches.append(world.offer_event("OfferPresented", NID, "gold", "BRANCH"))
    return world, batches


def test_a_redelivered_pitch_withdraws_once_and_a_replay_gives_the_same_instructions() -> None:
    world, batches = counter_pitch_day()
    assert reasons(batches[1]) == [("WITHDRAW", "SMS", "CAPPED"), ("WITHDRAW", "BRANCH", "CAPPED")]
    redelivered = batches[1].outgoing[0]
    pitch = Event("omnibus.marketing.OfferPresented", {
        "envelope": envelope("ev-2", world.now, "BRANCH"), "offer_id": "gold", "offer_version": 1,
        "channel": "BRANCH", "customer_identifiers": [ident(NID)], "agent_id": None, "presentation_id": "p-2"})
    assert not world.feed(pitch).outgoing  # the same event id: applied once
    _, replayed = counter_pitch_day()
    assert [o.event.value["envelope"]["event_id"] for b in replayed for o in b.outgoing] == [
        o.event.value["envelope"]["event_id"] for b in batches for o in b.outgoing]
    assert redelivered.event.value["envelope"]["event_id"] == replayed[1].outgoing[0].event.value["envelope"]["event_id"]


def test_room_for_one_push_among_offers_goes_to_the_higher_priority() -> None:
    world = world_with(ONE_A_DAY)
    world.feed(defined(offer("loan", channels=["SMS"], priority=0)))
    world.feed(defined(offer("gold", channels=["SMS"], priority=50)))
    assert actions(world.created("cus_1", MOBILE)) == [("SHOW", "SMS", "cus_1", "gold")]


def test_a_merged_customers_sms_is_withdrawn_under_its_id_when_the_survivor_answered_the_offer() -> None:
    world = world_with(ContactPolicy(quiet_hours=None))
    world.created("cus_1", NID, MOBILE)
    world.created("cus_2", OTHER_MOBILE)
    world.feed(defined(offer("gold", channels=["SMS"])))
    world.offer_event("OfferResponded", NID, "gold", "BRANCH", response="DECLINED")
    merged = world.feed(Event("omnibus.identity.CustomerMerged", {
        "envelope": envelope(world.id()), "survivor_customer_id": "cus_1", "merged_customer_id": "cus_2",
        "moved_identifiers": [ident(OTHER_MOBILE)], "lineage": {}}))
    assert reasons(merged) == [("WITHDRAW", "SMS", "MERGED")] and merged.outgoing[0].key == "cus_2"
    assert world.customer("cus_1")["reserved"] == []
