"""A merge sends under the survivor's id only the WITHDRAWs its subscribers need (``push.merged_away``): none for a
SHOW of the merged customer the survivor's own later WITHDRAW already outranks (tester50 F1: the survivor got a second
``WITHDRAW DECLINED`` and a second ``WITHDRAW CAPPED`` for offers withdrawn seconds before), one when the merged
customer's SHOW is the later (the screen pop, which merges both customers' instructions per offer by the latest,
would show it otherwise)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bus.serde import Event
from processors.offers.campaigns import defined
from processors.offers.caps import ContactPolicy
from processors.offers.config import OffersSettings
from processors.offers.outputs import Batch
from processors.offers.profile_section import EligibleOffersSection
from tests.processors.offers.factories import envelope, ident, offer
from tests.processors.offers.world import EMAIL, PHONE, World

SECTION = EligibleOffersSection()
SECOND = timedelta(seconds=1)


def merge_event(world: World) -> Event:
    return Event("omnibus.identity.CustomerMerged", {
        "envelope": envelope(world.id(), world.now), "survivor_customer_id": "cus_1", "merged_customer_id": "cus_2",
        "moved_identifiers": [ident(EMAIL)], "lineage": {}})


def screen_pops(world: World, *batches: Batch) -> dict[str, Any]:
    """The call center's instructions of ``batches`` on each customer's ``eligible_offers``, then merged."""
    sections: dict[str, Any] = {}
    for batch in batches:
        for outgoing in batch.outgoing:
            if outgoing.event.value.get("channel") == "CALL_CENTER":
                sections[outgoing.key] = SECTION.apply(sections.get(outgoing.key), outgoing.event)
    return SECTION.merge(sections.get("cus_1"), sections.get("cus_2")) or {}


def survivors(batch: Batch) -> list[tuple[str, str, str | None]]:
    return [(i.action, i.channel, i.reason) for i in batch.instructions if i.customer_id == "cus_1"]


@pytest.mark.parametrize("survivor_answers_last", [True, False])
def test_a_withdrawal_the_survivor_had_is_sent_again_only_when_the_merged_show_is_later(
        survivor_answers_last: bool) -> None:
    world = World()
    log = [world.feed(defined(offer("fibre", channels=["CALL_CENTER", "BRANCH"])))]

    def survivor_declines() -> None:
        log.append(world.created("cus_1", PHONE))
        log.append(world.offer_event("OfferResponded", PHONE, "fibre", "WEB", response="DECLINED"))

    if not survivor_answers_last:
        survivor_declines()
    world.now += SECOND
    log.append(world.created("cus_2", EMAIL))  # SHOWn under cus_2
    world.now += SECOND
    if survivor_answers_last:
        survivor_declines()
    world.now += SECOND
    merged = world.feed(merge_event(world))
    assert {(i.action, i.channel, i.customer_id, i.reason) for i in merged.instructions if i.customer_id == "cus_2"} \
        == {("WITHDRAW", "CALL_CENTER", "cus_2", "MERGED"), ("WITHDRAW", "BRANCH", "cus_2", "MERGED")}
    if survivor_answers_last:  # its WITHDRAW DECLINED came after cus_2's SHOW: nothing more to say
        assert survivors(merged) == []
    else:  # cus_2's SHOW came after it: the screen pop would list the declined offer again
        assert sorted(survivors(merged)) == [("WITHDRAW", "BRANCH", "DECLINED"), ("WITHDRAW", "CALL_CENTER",
                                                                                  "DECLINED")]
    assert screen_pops(world, *log, merged).get("shown") == {}
    state = world.customer("cus_1")["offers"]["fibre"]
    assert state["status"] == "DECLINED" and state["pushed"] == []


def test_a_capped_withdrawal_is_not_sent_twice() -> None:
    """The survivor's call-center SHOW withdrawn CAPPED by its own pitch (1 a day per channel), after the merged
    customer's SHOW: the merge sends no second CAPPED under the survivor's id."""
    world = World(OffersSettings(policy=ContactPolicy(quiet_hours=None), default_timezone="UTC"))
    log = [world.feed(defined(offer("fibre", channels=["CALL_CENTER", "BRANCH"]))),
           world.feed(defined(offer("tv", channels=["CALL_CENTER", "BRANCH"])))]
    log.append(world.created("cus_2", EMAIL))
    world.now += SECOND
    log.append(world.created("cus_1", PHONE))
    world.now += SECOND
    capped = world.offer_event("OfferPresented", PHONE, "tv", "CALL_CENTER")
    log.append(capped)
    assert ("WITHDRAW", "CALL_CENTER", "CAPPED") in survivors(capped)
    world.now += SECOND
    merged = world.feed(merge_event(world))
    assert [s for s in survivors(merged) if s[0] == "WITHDRAW"] == []
    assert screen_pops(world, *log, merged).get("shown") == {}


@pytest.mark.parametrize("survivor_first", [True, False])
def test_at_one_instant_the_survivor_s_withdrawal_stands_and_is_not_sent_again(survivor_first: bool) -> None:
    """The merged customer's SHOW and the survivor's WITHDRAW DECLINED at one instant (one clock reading, a replay):
    the screen pop's merge keeps the survivor's side of a tie, and a subscriber keeping the latest per key has the
    survivor's WITHDRAW under its id already, so the merge sends none again (before, a second WITHDRAW DECLINED)."""
    world = World()
    log = [world.feed(defined(offer("fibre", channels=["CALL_CENTER", "BRANCH"])))]
    steps = [lambda: [world.created("cus_1", PHONE),
                      world.offer_event("OfferResponded", PHONE, "fibre", "WEB", response="DECLINED")],
             lambda: [world.created("cus_2", EMAIL)]]
    for step in steps if survivor_first else steps[::-1]:
        log.extend(step())
    world.now += SECOND
    merged = world.feed(merge_event(world))
    assert survivors(merged) == []
    assert screen_pops(world, *log, merged).get("shown") == {}
    state = world.customer("cus_1")["offers"]["fibre"]
    assert state["status"] == "DECLINED" and state["pushed"] == []
