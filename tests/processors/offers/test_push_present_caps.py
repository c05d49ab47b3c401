"""SHOWs on the customer-present push channels (call center, counters) follow the caps like the pull query.

A presentation that fills a cap a SHOW falls under (the policy's across channels or on its channel, the offer's own)
withdraws it, reason ``CAPPED``; it is SHOWn again at the customer's next event once the window has room; the screen
pop follows. A merge withdraws the merged customer's SHOWs there, reason ``MERGED`` under its id, and the survivor's
stand or follow under the survivor's id within the caps (its counts).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bus.serde import Event
from processors.offers.campaigns import defined
from processors.offers.caps import ContactPolicy
from processors.offers.definition import Cap
from processors.offers.outputs import Batch
from processors.offers.profile_section import EligibleOffersSection
from tests.processors.offers.factories import T0, envelope, ident, offer
from tests.processors.offers.test_push_outbound import instruction, report
from tests.processors.offers.test_push_reservations import next_event, pull, reasons, world_with
from tests.processors.offers.world import World, actions

NID, MOBILE, MAIL = "NATIONAL_ID:48765431A", "PHONE:+34612345678", "EMAIL:lucia@example.es"
OTHER_MAIL = "EMAIL:lucia.r@example.es"
EVERYWHERE = ["WEB", "CALL_CENTER", "BRANCH", "SMS", "EMAIL"]
PRESENT = ["WEB", "CALL_CENTER", "BRANCH"]


def screen_pop(*batches: Batch) -> list[str]:
    """The offer ids the agent's screen pop lists after the call center's instructions of ``batches``."""
    section, state = EligibleOffersSection(), None
    for batch in batches:
        for outgoing in batch.outgoing:
            if outgoing.event.value.get("channel") == "CALL_CENTER":
                state = section.apply(state, outgoing.event)
    return [entry["offer_id"] for entry in section.render(state or {})]


def shown_on(world: World, customer_id: str, channel: str) -> list[str]:
    return sorted(o for o, s in world.customer(customer_id)["offers"].items() if channel in s["pushed"])


def three_channels_fill_the_week() -> tuple[World, list[Batch]]:
    """The default policy (3 contacts in 7 days across channels, 1 a day per channel): a web view, a counter pitch
    and a call each present one offer."""
    world = world_with(ContactPolicy(quiet_hours=None))
    batches = [world.created("cus_1", NID, MOBILE, MAIL)]
    batches.append(world.feed(defined(offer("savings", channels=EVERYWHERE, priority=70))))
    batches.append(world.feed(defined(offer("card", channels=EVERYWHERE, priority=60))))
    batches.append(world.feed(defined(offer("fibre", channels=PRESENT, priority=50))))
    for offer_id, channel in (("savings", "WEB"), ("fibre", "BRANCH"), ("card", "CALL_CENTER")):
        world.now += timedelta(minutes=10)
        batches.append(world.offer_event("OfferPresented", NID, offer_id, channel))
    return world, batches


def test_tester44_f2_a_full_cap_across_channels_withdraws_the_agents_and_the_clerks_shows() -> None:
    world, batches = three_channels_fill_the_week()
    assert "card" in screen_pop(*batches[:-1])  # before the third contact the agent may pitch it
    third = batches[-1]
    assert ("WITHDRAW", "CALL_CENTER", "CAPPED") in reasons(third)
    for channel in ("CALL_CENTER", "BRANCH", "SMS", "EMAIL"):
        assert shown_on(world, "cus_1", channel) == []
    live = [offer("savings", channels=EVERYWHERE), offer("card", channels=EVERYWHERE), offer("fibre", channels=PRESENT)]
    for channel in PRESENT:  # the pull query of each customer-present channel, as the tester saw it
        assert sorted(pull(world, channel, live)) == [(o, "contact_cap") for o in ("card", "fibre", "savings")]
    assert screen_pop(*batches) == []  # the agent pitches no 4th and 5th time in the week
    assert {o.event.value["reason"] for o in third.outgoing if o.event.value["action"] == "WITHDRAW"} == {"CAPPED"}

    world.now += timedelta(days=7, minutes=1)  # the window has room again: at the customer's next event
    again = next_event(world)
    assert {(a[0], a[1]) for a in actions(again)} >= {("SHOW", "CALL_CENTER"), ("SHOW", "BRANCH")}
    assert screen_pop(*batches, again) == ["savings", "card", "fibre"]


@pytest.mark.parametrize(("policy", "caps", "channel", "withdrawn", "reason"), [
    (ContactPolicy(caps=(Cap(max=1, per="1d"),), quiet_hours=None), [], "WEB",
     ["CALL_CENTER", "BRANCH"], "contact_cap"),
    (ContactPolicy(caps=(Cap(max=1, per="1d", channel="CALL_CENTER"),), quiet_hours=None), [], "CALL_CENTER",
     ["CALL_CENTER"], "channel_cap"),
    (ContactPolicy(caps=(), quiet_hours=None), [{"max": 1, "per": "1d"}], "BRANCH",
     ["CALL_CENTER", "BRANCH"], "offer_cap"),
    (ContactPolicy(caps=(), quiet_hours=None), [{"max": 1, "per": "1d", "channel": "BRANCH"}], "BRANCH",
     ["BRANCH"], "offer_cap"),
], ids=["policy cap across channels", "policy cap on the channel", "offer cap", "offer cap on the channel"])
def test_each_kind_of_cap_withdraws_the_shows_it_holds_as_the_pull_query_does(
        policy: ContactPolicy, caps: list[Any], channel: str, withdrawn: list[str], reason: str) -> None:
    world = world_with(policy)
    world.created("cus_1", NID)
    gold = offer("gold", channels=PRESENT, caps=caps)
    assert [a[:2] for a in actions(world.feed(defined(gold)))] == [("SHOW", "CALL_CENTER"), ("SHOW", "BRANCH")]
    presented = world.offer_event("OfferPresented", NID, "gold", channel)
    assert reasons(presented) == [("WITHDRAW", c, "CAPPED") for c in withdrawn]
    for push_channel in ("CALL_CENTER", "BRANCH"):  # the same rule: withdrawn where the pull query says capped
        capped = pull(world, push_channel, [gold])
        assert capped == ([("gold", reason)] if push_channel in withdrawn else [])
        assert shown_on(world, "cus_1", push_channel) == ([] if push_channel in withdrawn else ["gold"])
    assert not next_event(world).instructions  # no room yet: nothing SHOWn again, nothing withdrawn twice
    world.now = T0 + timedelta(hours=24, minutes=1)  # rolling window
    assert reasons(next_event(world)) == [("SHOW", c, None) for c in withdrawn]


def test_the_offer_presented_on_the_call_is_capped_there_and_answered_everywhere() -> None:
    """The agent's own pitch fills the call center's day: the SHOW goes (the pull query says channel_cap); an
    answer later withdraws what is left with the answer's reason, and tells the call center, which last heard
    ``CAPPED`` (a SHOW to come again), the answer too (``push.restated``)."""
    world = world_with(ContactPolicy(quiet_hours=None))
    world.created("cus_1", NID)
    world.feed(defined(offer("gold", channels=PRESENT)))
    assert reasons(world.offer_event("OfferPresented", NID, "gold", "CALL_CENTER")) == [
        ("WITHDRAW", "CALL_CENTER", "CAPPED")]
    declined = world.offer_event("OfferResponded", NID, "gold", "CALL_CENTER", response="DECLINED")
    assert reasons(declined) == [("WITHDRAW", "CALL_CENTER", "DECLINED"), ("WITHDRAW", "BRANCH", "DECLINED")]


def test_a_replay_gives_the_same_instructions_and_a_redelivered_presentation_withdraws_once() -> None:
    world, batches = three_channels_fill_the_week()
    call = Event("omnibus.marketing.OfferPresented", {
        "envelope": envelope(f"ev-{world.n}", world.now, "CALL_CENTER"), "offer_id": "card", "offer_version": 1,
        "channel": "CALL_CENTER", "customer_identifiers": [ident(NID)], "agent_id": None,
        "presentation_id": f"p-{world.n}"})
    assert not world.feed(call).outgoing
    _, replayed = three_channels_fill_the_week()
    assert [o.event.value["envelope"]["event_id"] for b in replayed for o in b.outgoing] == [
        o.event.value["envelope"]["event_id"] for b in batches for o in b.outgoing]


def merge(world: World, survivor: str = "cus_1", merged: str = "cus_2", moved: str = OTHER_MAIL) -> Batch:
    return world.feed(Event("omnibus.identity.CustomerMerged", {
        "envelope": envelope(world.id(), world.now), "survivor_customer_id": survivor,
        "merged_customer_id": merged, "moved_identifiers": [ident(moved)], "lineage": {}}))


def test_tester44_f7_a_merged_customers_call_center_and_counter_shows_are_withdrawn_under_its_id() -> None:
    world = world_with(ContactPolicy(caps=(), quiet_hours=None))
    world.created("cus_1", NID)
    world.created("cus_2", OTHER_MAIL)
    before = [world.feed(defined(offer("gold", channels=PRESENT))), world.feed(defined(offer("loan",
                                                                                           channels=PRESENT)))]
    before.append(world.offer_event("OfferResponded", NID, "loan", "BRANCH", response="DECLINED"))  # the survivor's
    merged = merge(world)
    withdrawn = [(a, o.key, o.event.value["channel"], o.event.value["offer_id"], o.event.value["reason"])
                 for o in merged.outgoing if (a := o.event.value["action"]) == "WITHDRAW"]
    assert sorted(w for w in withdrawn if w[1] == "cus_2") == sorted(
        ("WITHDRAW", "cus_2", c, o, "MERGED") for o in ("gold", "loan") for c in ("BRANCH", "CALL_CENTER"))
    # the survivor's SHOW of gold stands (nothing new); loan, declined by the survivor at the instant of cus_2's SHOW
    # (one clock reading here), stays withdrawn by the survivor's own WITHDRAW: the screen pop keeps the survivor's
    # instruction on a tie, so none is sent again (``push.merged_away``)
    assert [w for w in withdrawn if w[1] == "cus_1"] == []
    assert not [a for a in actions(merged) if a[0] == "SHOW"]
    assert screen_pop(*before, merged) == ["gold"]
    assert shown_on(world, "cus_1", "CALL_CENTER") == ["gold"]
    assert not merge(world).outgoing  # redelivered: the merged state is gone, nothing twice


def test_a_merged_customers_show_the_survivor_has_room_for_follows_under_the_survivors_id() -> None:
    """The survivor's call-center SHOW was withdrawn ``CAPPED`` a day ago (no event since); the merged customer's
    SHOW there is withdrawn ``MERGED`` and follows under the survivor's id, which has room now."""
    world = world_with(ContactPolicy(caps=(Cap(max=1, per="1d", channel="CALL_CENTER"),), quiet_hours=None))
    world.created("cus_1", NID)
    world.created("cus_2", OTHER_MAIL)
    before = [world.feed(defined(offer("gold", channels=PRESENT)))]
    before.append(world.offer_event("OfferPresented", NID, "gold", "CALL_CENTER"))
    assert reasons(before[-1]) == [("WITHDRAW", "CALL_CENTER", "CAPPED")]
    world.now = T0 + timedelta(hours=25)
    merged = merge(world)
    assert [(o.key, o.event.value["action"], o.event.value["channel"], o.event.value["reason"])
            for o in merged.outgoing] == [("cus_2", "WITHDRAW", "CALL_CENTER", "MERGED"),
                                          ("cus_2", "WITHDRAW", "BRANCH", "MERGED"),
                                          ("cus_1", "SHOW", "CALL_CENTER", None)]
    assert screen_pop(*before, merged) == ["gold"]  # the MERGED withdrawal, in no order with the SHOW, changes nothing


def test_a_merge_that_fills_the_cap_withdraws_the_survivors_shows_by_the_survivors_counts() -> None:
    """Two presentations of one and one of the other are three for one person: the merged id's SHOWs go
    ``MERGED``, the survivor's ``CAPPED``, and nothing follows under the survivor's id."""
    world = world_with(ContactPolicy(caps=(Cap(max=3, per="7d"),), quiet_hours=None))
    world.created("cus_1", NID)
    world.created("cus_2", OTHER_MAIL)
    world.feed(defined(offer("gold", channels=PRESENT)))
    world.offer_event("OfferPresented", NID, "gold", "WEB")
    world.offer_event("OfferPresented", NID, "gold", "WEB")
    world.offer_event("OfferPresented", OTHER_MAIL, "gold", "WEB")
    assert shown_on(world, "cus_1", "CALL_CENTER") == shown_on(world, "cus_2", "CALL_CENTER") == ["gold"]
    merged = merge(world)
    assert sorted((o.key, o.event.value["channel"], o.event.value["reason"]) for o in merged.outgoing) == [
        ("cus_1", "BRANCH", "CAPPED"), ("cus_1", "CALL_CENTER", "CAPPED"),
        ("cus_2", "BRANCH", "MERGED"), ("cus_2", "CALL_CENTER", "MERGED")]
    assert shown_on(world, "cus_1", "CALL_CENTER") == []
    world.now = datetime.fromisoformat("2026-06-09T12:01:00+00:00")
    assert [a[:3] for a in actions(next_event(world))] == [("SHOW", "CALL_CENTER", "cus_1"),
                                                           ("SHOW", "BRANCH", "cus_1")]


# --- an answer a clerk or an agent records is the pitch behind it (bus.offer_presentations) -----------------------


def pitched_three_ways() -> tuple[World, list[Batch]]:
    """The reported case, default policy: one offer viewed on the web, declined at the counter, accepted on a call,
    on one day; then marketing publishes another offer."""
    world = world_with(ContactPolicy(quiet_hours=None))
    batches = [world.created("cus_1", NID, MOBILE, MAIL)]
    batches.append(world.feed(defined(offer("savings", channels=PRESENT, caps=[{"max": 2, "per": "7d"}]))))
    for channel, answer in (("WEB", None), ("BRANCH", "DECLINED"), ("CALL_CENTER", "ACCEPTED")):
        world.now += timedelta(minutes=10)
        if answer is None:
            batches.append(world.offer_event("OfferPresented", NID, "savings", channel))
        else:
            batches.append(world.offer_event("OfferResponded", NID, "savings", channel, response=answer))
    world.now += timedelta(minutes=10)
    batches.append(world.feed(defined(offer("insurance", channels=PRESENT))))
    return world, batches


def test_answers_at_the_counter_and_on_a_call_count_in_the_caps_across_channels() -> None:
    world, batches = pitched_three_ways()
    published = batches[-1]
    assert not published.instructions  # no SHOW for the agent or the clerk: a 4th contact in the week
    assert {labels for name, labels in published.counts if name == "suppressed"} == {
        ("contact_cap", "CALL_CENTER"), ("contact_cap", "BRANCH")}
    insurance = [offer("insurance", channels=PRESENT)]
    for channel in PRESENT:  # the pull query of every channel the customer is on says why
        assert pull(world, channel, insurance) == [("insurance", "contact_cap")]
    assert screen_pop(*batches) == []
    assert [row[1] for row in world.customer("cus_1")["ledger"]] == ["WEB", "BRANCH", "CALL_CENTER"]
    presented = [labels for b in batches for name, labels in b.counts if name == "presented"]
    assert presented == [("WEB",), ("BRANCH",), ("CALL_CENTER",)]  # omnibus_offers_presented_total


def test_a_resent_answer_counts_once() -> None:
    world, _ = pitched_three_ways()
    resent = Event("omnibus.marketing.OfferResponded", {
        "envelope": envelope("ev-4", world.now, "CALL_CENTER"), "offer_id": "savings", "offer_version": 1,
        "channel": "CALL_CENTER", "customer_identifiers": [ident(NID)], "agent_id": None, "presentation_id": "p-4",
        "response": "ACCEPTED"})
    assert world.customer("cus_1")["applied"].count("ev-4") == 1  # the call's answer, as first read
    batch = world.feed(resent)
    assert not batch.outgoing and not batch.counts
    assert len(world.customer("cus_1")["ledger"]) == 3


def test_an_answer_that_fills_a_cap_withdraws_the_other_offers_shows_and_reservations() -> None:
    """An answer at the counter is a contact: with one a day across channels, the clerk's decline of one offer
    withdraws the agent's and the clerk's SHOWs of another, and its SMS, ``CAPPED`` (the answered one: ``DECLINED``)."""
    world = world_with(ContactPolicy(caps=(Cap(max=1, per="1d"),), quiet_hours=None))
    world.created("cus_1", NID, MOBILE)
    world.feed(defined(offer("loan", channels=PRESENT, priority=10)))
    shown = world.feed(defined(offer("gold", channels=[*PRESENT, "SMS"])))
    assert ("SHOW", "SMS", None) in reasons(shown)
    declined = world.offer_event("OfferResponded", NID, "loan", "BRANCH", response="DECLINED")
    assert sorted(reasons(declined)) == sorted([
        ("WITHDRAW", "SMS", "CAPPED"), ("WITHDRAW", "CALL_CENTER", "CAPPED"), ("WITHDRAW", "BRANCH", "CAPPED"),
        ("WITHDRAW", "CALL_CENTER", "DECLINED"), ("WITHDRAW", "BRANCH", "DECLINED")])
    assert world.customer("cus_1")["reserved"] == []
    world.now = T0 + timedelta(hours=24, minutes=1)  # the rolling day has room again
    assert [a[:2] for a in actions(next_event(world))] == [("SHOW", "CALL_CENTER"), ("SHOW", "BRANCH"),
                                                           ("SHOW", "SMS")]


def test_a_gateways_report_and_the_yes_reply_to_it_are_one_contact() -> None:
    """The SMS's presentation is the gateway's report; the customer's YES to it is its answer, not a second one."""
    world = world_with(ContactPolicy(quiet_hours=None))
    world.created("cus_1", NID, MOBILE)
    sms = instruction(world.feed(defined(offer("gold", channels=["SMS"]))), "SMS")
    world.feed(report(world, sms))
    world.feed(report(world, sms, "OfferResponded", response="ACCEPTED"))
    assert [row[1] for row in world.customer("cus_1")["ledger"]] == ["SMS"]
    assert world.customer("cus_1")["offers"]["gold"]["status"] == "ACCEPTED"


def test_a_merge_counts_both_customers_answers_once() -> None:
    """Two customers' answers at the counter, each one contact of the day on the counter, are two contacts of one
    person once identity merges them, counted once each however often the merge is read."""
    world = world_with(ContactPolicy(caps=(Cap(max=2, per="7d"),), quiet_hours=None))
    world.created("cus_1", NID)
    world.created("cus_2", OTHER_MAIL)
    world.feed(defined(offer("gold", channels=PRESENT)))
    world.feed(defined(offer("loan", channels=PRESENT)))
    world.offer_event("OfferResponded", NID, "loan", "BRANCH", response="DECLINED")
    world.offer_event("OfferResponded", OTHER_MAIL, "loan", "CALL_CENTER", response="NOT_NOW")
    assert shown_on(world, "cus_1", "CALL_CENTER") == shown_on(world, "cus_2", "CALL_CENTER") == ["gold"]
    merged = merge(world)
    assert ("cus_1", "CALL_CENTER", "CAPPED") in [
        (o.key, o.event.value["channel"], o.event.value["reason"]) for o in merged.outgoing]
    assert [row[1] for row in world.customer("cus_1")["ledger"]] == ["BRANCH", "CALL_CENTER"]
    merge(world)
    assert len(world.customer("cus_1")["ledger"]) == 2
