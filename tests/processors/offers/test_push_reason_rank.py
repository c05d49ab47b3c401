"""A push channel's standing WITHDRAW reason follows the strongest reason that holds now (``push.restated``): the
customer's own answer (accepted, opted out, declined, not now) outranks a cap, the channel's own limit, whatever
order the cap and the answer came in and across a merge either way; said once, nothing again while it is unchanged.
The reported sample: a call filled the call center's day cap (``tv`` withdrawn ``CAPPED`` there), then the customer
said "not now" to ``tv`` at the counter: the counter heard ``NOT_NOW``, the call center kept ``CAPPED`` (tester53 F3).
And on a merge the survivor's WITHDRAW follows a merged customer's later SHOW on every push channel alike, the SMS
gateway's as the call center's (tester53 F4: sent again on the call center only)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bus.serde import Event
from processors.offers.campaigns import defined
from processors.offers.caps import ContactPolicy
from processors.offers.config import OffersSettings
from processors.offers.definition import Cap
from processors.offers.outputs import Batch
from tests.processors.offers.factories import envelope, ident, offer
from tests.processors.offers.test_identity_events_merge_withdrawals import screen_pops
from tests.processors.offers.world import EMAIL, PHONE, World

SECOND = timedelta(seconds=1)
MOBILE_2 = "PHONE:+8613900000002"
ANSWERS = ["ACCEPTED", "DECLINED", "OPTED_OUT", "NOT_NOW"]
PRESENT = ("CALL_CENTER", "BRANCH")  # the customer-present push channels


def last_words(customer_id: str, *batches: Batch) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(channel, offer id) -> (action, reason) of the last instruction under ``customer_id``."""
    words: dict[tuple[str, str], tuple[str, str | None]] = {}
    for batch in batches:
        for item in batch.instructions:
            if item.customer_id == customer_id:
                words[(item.channel, item.offer.offer_id)] = (item.action, item.reason)
    return words


def two_offers(world: World) -> list[Batch]:
    return [world.feed(defined(offer(name, channels=["WEB", *PRESENT]))) for name in ("fibre", "tv")]


def merge_event(world: World, survivor: str, merged: str, moved: str) -> Event:
    return Event("omnibus.identity.CustomerMerged", {
        "envelope": envelope(world.id(), world.now), "survivor_customer_id": survivor, "merged_customer_id": merged,
        "moved_identifiers": [ident(moved)], "lineage": {}})


def test_a_channel_capped_by_a_call_hears_not_now_given_at_the_counter() -> None:
    """The reported sample, without a merge."""
    world = World()
    log = [*two_offers(world), world.created("cus_1", PHONE)]
    log.append(world.offer_event("OfferPresented", PHONE, "fibre", "CALL_CENTER"))
    assert last_words("cus_1", *log)[("CALL_CENTER", "tv")] == ("WITHDRAW", "CAPPED")
    world.now += SECOND
    snoozed = world.offer_event("OfferResponded", PHONE, "tv", "BRANCH", response="NOT_NOW")
    log.append(snoozed)
    words = last_words("cus_1", *log)
    assert words[("CALL_CENTER", "tv")] == ("WITHDRAW", "NOT_NOW") == words[("BRANCH", "tv")]
    world.now += SECOND
    assert ("CALL_CENTER", "tv") not in last_words("cus_1", world.offer_event(
        "OfferPresented", PHONE, "fibre", "WEB"))  # said once


@pytest.mark.parametrize("answer", ANSWERS)
@pytest.mark.parametrize("cap_first", [True, False])
def test_every_answer_outranks_a_cap_in_either_order(answer: str, cap_first: bool) -> None:
    world = World()
    log = [*two_offers(world), world.created("cus_1", PHONE)]

    def cap() -> Batch:  # the call fills the call center's day cap (1 a day per channel)
        return world.offer_event("OfferPresented", PHONE, "fibre", "CALL_CENTER")

    def answered() -> Batch:
        return world.offer_event("OfferResponded", PHONE, "tv", "WEB", response=answer)

    for step in (cap, answered) if cap_first else (answered, cap):
        log.append(step())
        world.now += SECOND
    words = last_words("cus_1", *log)
    assert [words[(channel, "tv")] for channel in PRESENT] == [("WITHDRAW", answer)] * 2
    sent = [(i.channel, i.reason) for batch in log for i in batch.instructions
            if i.offer.offer_id == "tv" and i.action == "WITHDRAW" and i.reason == answer]
    assert sorted(sent) == sorted((channel, answer) for channel in PRESENT)  # once on each channel
    assert last_words("cus_1", world.offer_event("OfferPresented", PHONE, "fibre", "WEB")).get(
        ("CALL_CENTER", "tv")) is None  # nothing again while it holds


def test_a_final_answer_outranks_a_not_now_and_is_said_once() -> None:
    world = World()
    log = [*two_offers(world), world.created("cus_1", PHONE)]
    log.append(world.offer_event("OfferPresented", PHONE, "fibre", "CALL_CENTER"))
    world.now += SECOND
    log.append(world.offer_event("OfferResponded", PHONE, "tv", "BRANCH", response="NOT_NOW"))
    world.now += SECOND
    log.append(world.offer_event("OfferResponded", PHONE, "tv", "WEB", response="DECLINED"))
    world.now += SECOND
    log.append(world.offer_event("OfferResponded", PHONE, "tv", "WEB", response="NOT_NOW"))  # a decline stands
    words = last_words("cus_1", *log)
    assert [words[(channel, "tv")] for channel in PRESENT] == [("WITHDRAW", "DECLINED")] * 2
    assert last_words("cus_1", log[-1]) == {}


def test_a_snooze_over_while_a_cap_holds_gives_way_to_capped() -> None:
    """The not-now no longer holds (its snooze is over) and the day's call fills the cap: the reason that holds now,
    ``CAPPED``, is the call center's last word; the counter, with room, SHOWs the offer again."""
    settings = OffersSettings(policy=ContactPolicy(quiet_hours=None, not_now_days=1), default_timezone="UTC")
    world = World(settings)
    log = [*two_offers(world), world.created("cus_1", PHONE)]
    log.append(world.offer_event("OfferResponded", PHONE, "tv", "WEB", response="NOT_NOW"))
    assert last_words("cus_1", *log)[("CALL_CENTER", "tv")] == ("WITHDRAW", "NOT_NOW")
    world.now += timedelta(days=2)
    log.append(world.offer_event("OfferPresented", PHONE, "fibre", "CALL_CENTER"))
    words = last_words("cus_1", *log)
    assert words[("CALL_CENTER", "tv")] == ("WITHDRAW", "CAPPED")
    assert words[("BRANCH", "tv")] == ("SHOW", None)


@pytest.mark.parametrize("snoozer", ["cus_1", "cus_2"])
@pytest.mark.parametrize("cap_first", [True, False])
def test_across_a_merge_either_way_the_not_now_stands_on_every_channel(snoozer: str, cap_first: bool) -> None:
    """One customer's call capped ``tv`` on the call center, the other said "not now" to it at the counter, in
    either order; then the merge (``cus_2`` into ``cus_1``): the survivor's last word is ``NOT_NOW`` on every
    channel, and the screen pop, merging both customers' instructions, lists no ``tv``."""
    world = World()
    log = [*two_offers(world), world.created("cus_1", PHONE), world.created("cus_2", EMAIL)]
    keys = {"cus_1": PHONE, "cus_2": EMAIL}
    capper = "cus_2" if snoozer == "cus_1" else "cus_1"

    def cap() -> Batch:
        return world.offer_event("OfferPresented", keys[capper], "fibre", "CALL_CENTER")

    def snooze() -> Batch:
        return world.offer_event("OfferResponded", keys[snoozer], "tv", "BRANCH", response="NOT_NOW")

    for step in (cap, snooze) if cap_first else (snooze, cap):
        world.now += SECOND
        log.append(step())
    world.now += SECOND
    merged = world.feed(merge_event(world, "cus_1", "cus_2", EMAIL))
    log.append(merged)
    words = last_words("cus_1", *log)
    assert [words.get((channel, "tv")) for channel in PRESENT] == [("WITHDRAW", "NOT_NOW")] * 2
    assert "tv" not in (screen_pops(world, *log).get("shown") or {})
    world.now += SECOND
    assert last_words("cus_1", world.offer_event("OfferPresented", PHONE, "fibre", "WEB")).get(
        ("CALL_CENTER", "tv")) is None  # said once


@pytest.mark.parametrize("survivor_answers_last", [True, False])
def test_a_merge_sends_the_survivor_s_withdrawal_on_every_push_channel_alike(survivor_answers_last: bool) -> None:
    """The survivor accepted ``fibre`` on a call; the merged customer had it SHOWn on the call center, the counter
    and the SMS gateway, before or after: the survivor's ``WITHDRAW ACCEPTED`` follows on all three when the merged
    SHOW was the later, on none when its own came after (before: the call center and the counter, not SMS)."""
    world = World()
    log = [world.feed(defined(offer("fibre", channels=[*PRESENT, "SMS"])))]

    def survivor_accepts() -> None:
        log.append(world.created("cus_1", PHONE))
        log.append(world.offer_event("OfferResponded", PHONE, "fibre", "CALL_CENTER", response="ACCEPTED"))

    if not survivor_answers_last:
        survivor_accepts()
    world.now += SECOND
    log.append(world.created("cus_2", MOBILE_2))  # SHOWn under cus_2 on all three
    assert {(i.channel, i.action) for i in log[-1].instructions} == {
        ("CALL_CENTER", "SHOW"), ("BRANCH", "SHOW"), ("SMS", "SHOW")}
    world.now += SECOND
    if survivor_answers_last:
        survivor_accepts()
    world.now += SECOND
    merged = world.feed(merge_event(world, "cus_1", "cus_2", MOBILE_2))
    assert {(i.channel, i.reason) for i in merged.instructions if i.customer_id == "cus_2"} == {
        ("CALL_CENTER", "MERGED"), ("BRANCH", "MERGED"), ("SMS", "MERGED")}
    again = sorted((i.channel, i.action, i.reason) for i in merged.instructions if i.customer_id == "cus_1")
    if survivor_answers_last:
        assert again == []
    else:
        assert again == [(channel, "WITHDRAW", "ACCEPTED") for channel in ("BRANCH", "CALL_CENTER", "SMS")]
    assert screen_pops(world, *log, merged).get("shown") == {}
    assert world.customer("cus_1")["offers"]["fibre"]["pushed"] == []


@pytest.mark.parametrize("survivor_capped_last", [True, False])
def test_a_merged_show_over_the_survivor_s_cap_is_withdrawn_capped_on_every_push_channel_alike(
        survivor_capped_last: bool) -> None:
    """The survivor's web presentation filled the cap (1 a week across channels): ``fibre`` withdrawn ``CAPPED`` on
    its three push channels; the merged customer had it SHOWn on all three, before or after. The merge sends the
    survivor's ``WITHDRAW CAPPED`` on all three when the merged SHOW was the later (before: not on SMS), on none when
    its own came after."""
    policy = ContactPolicy(quiet_hours=None, caps=(Cap(max=1, per=7 * 86400),))
    world = World(OffersSettings(policy=policy, default_timezone="UTC"))
    log = [world.feed(defined(offer("fibre", channels=["WEB", *PRESENT, "SMS"])))]

    def survivor_capped() -> None:
        log.append(world.created("cus_1", PHONE))
        world.now += SECOND
        log.append(world.offer_event("OfferPresented", PHONE, "fibre", "WEB"))
        assert {(i.channel, i.reason) for i in log[-1].instructions} == {
            ("CALL_CENTER", "CAPPED"), ("BRANCH", "CAPPED"), ("SMS", "CAPPED")}

    if not survivor_capped_last:
        survivor_capped()
    world.now += SECOND
    log.append(world.created("cus_2", MOBILE_2))
    world.now += SECOND
    if survivor_capped_last:
        survivor_capped()
    world.now += SECOND
    merged = world.feed(merge_event(world, "cus_1", "cus_2", MOBILE_2))
    again = sorted((i.channel, i.action, i.reason) for i in merged.instructions if i.customer_id == "cus_1")
    if survivor_capped_last:
        assert again == []
    else:
        assert again == [(channel, "WITHDRAW", "CAPPED") for channel in ("BRANCH", "CALL_CENTER", "SMS")]
    assert screen_pops(world, *log, merged).get("shown") == {}


@pytest.mark.parametrize("sent", [("SMS",), ("EMAIL",), ("SMS", "EMAIL"), ()])
def test_a_merged_customer_s_outbound_show_is_withdrawn_merged_under_its_id_whether_sent_or_not(
        sent: tuple[str, ...]) -> None:
    """The merged customer's ``fibre`` was SHOWn to the SMS gateway and the e-mail tool; the gateway had reported the
    SMS sent (its reservation ended: a presentation now) before the merge. Its id got ``WITHDRAW MERGED`` on the call
    center but nothing on SMS: that key's last word there stayed a SHOW (small65 sent ``MERGED`` on the outbound
    channels only for SHOWs still reserved). A push already sent cannot be unsent: the WITHDRAW closes the key's
    instruction, as an answer's WITHDRAW after the send does. Sent or still reserved, each outbound SHOW of the merged
    customer is withdrawn ``MERGED`` once under its id, and the survivor's screen pop is as before."""
    world = World()
    log = [world.feed(defined(offer("fibre", channels=["CALL_CENTER", "SMS", "EMAIL"])))]
    log.append(world.created("cus_1", PHONE))
    world.now += SECOND
    log.append(world.created("cus_2", MOBILE_2, "EMAIL:b@x.org"))
    assert {(i.channel, i.action) for i in log[-1].instructions} == {
        ("CALL_CENTER", "SHOW"), ("SMS", "SHOW"), ("EMAIL", "SHOW")}
    for channel in sent:
        world.now += SECOND
        log.append(world.offer_event("OfferPresented", MOBILE_2, "fibre", channel))
    world.now += SECOND
    merged = world.feed(merge_event(world, "cus_1", "cus_2", MOBILE_2))
    withdrawn = sorted((i.channel, i.action, i.reason) for i in merged.instructions if i.customer_id == "cus_2")
    assert withdrawn == [(channel, "WITHDRAW", "MERGED") for channel in ("CALL_CENTER", "EMAIL", "SMS")]
    assert last_words("cus_2", *log, merged) == {
        (channel, "fibre"): ("WITHDRAW", "MERGED") for channel in ("CALL_CENTER", "SMS", "EMAIL")}
    world.now += SECOND
    later = world.offer_event("OfferPresented", PHONE, "fibre", "WEB")
    assert [i for i in later.instructions if i.customer_id == "cus_2"] == []  # said once
