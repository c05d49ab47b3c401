"""A push channel's last instruction for an offer states why it is not shown now (``push.sync``): an offer withdrawn
there for another reason (``CAPPED``, ``NOT_NOW``, ``NOT_ELIGIBLE``) and answered for good later gets a ``WITHDRAW``
naming the answer, and one withdrawn for an answer later taken back gets one naming the reason that holds now.
The reported sample: the agent corrected *which* offer the customer accepted in a later CTR version; the offer
accepted had been withdrawn ``CAPPED`` on the call center by the call itself and stayed so there (tester51 F4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bus.serde import Event
from processors.offers.campaigns import defined
from processors.offers.outputs import Batch
from processors.offers.state import CustomerState
from tests.processors.offers.factories import envelope, ident, offer
from tests.processors.offers.world import EMAIL, PHONE, World

CALL = "call:amazon-connect:c-1"
SECOND = timedelta(seconds=1)


def ctr_version(world: World, n: int, offer_id: str, response: str) -> Event:
    """Version ``n`` of one call's offer answer, as the call-center adapter publishes it (``source_event_id``
    ``ContactId@LastUpdateTimestamp``: the later ``n`` is the newer version of one pitch)."""
    stamp = (world.now + n * SECOND).isoformat()
    value: dict[str, Any] = {
        "envelope": {**envelope(world.id(), world.now, "CALL_CENTER"), "source_system": "amazon-connect",
                     "source_event_id": f"c-1@{stamp}", "received_at": world.now + n * SECOND},
        "offer_id": offer_id, "offer_version": 1, "channel": "CALL_CENTER", "customer_identifiers": [ident(PHONE)],
        "agent_id": None, "presentation_id": CALL, "response": response}
    return Event("omnibus.marketing.OfferResponded", value)


def last_words(*batches: Batch) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(channel, offer id) -> (action, reason) of the last instruction under ``cus_1``."""
    words: dict[tuple[str, str], tuple[str, str | None]] = {}
    for batch in batches:
        for item in batch.instructions:
            if item.customer_id == "cus_1":
                words[(item.channel, item.offer.offer_id)] = (item.action, item.reason)
    return words


def two_offers() -> tuple[World, list[Batch]]:
    world = World()
    log = [world.feed(defined(offer(name, channels=["WEB", "CALL_CENTER", "BRANCH"]))) for name in ("fibre", "tv")]
    log.append(world.created("cus_1", PHONE))
    return world, log


def test_the_offer_accepted_in_a_corrected_version_is_withdrawn_accepted_where_the_call_capped_it() -> None:
    world, log = two_offers()
    log.append(world.feed(ctr_version(world, 0, "fibre", "ACCEPTED")))
    assert last_words(*log)[("CALL_CENTER", "tv")] == ("WITHDRAW", "CAPPED")  # the call filled the day's cap
    corrected = world.feed(ctr_version(world, 1, "tv", "ACCEPTED"))
    log.append(corrected)
    words = last_words(*log)
    assert words[("CALL_CENTER", "tv")] == ("WITHDRAW", "ACCEPTED")
    assert words[("BRANCH", "tv")] == ("WITHDRAW", "ACCEPTED")
    # fibre's acceptance was taken back: capped on the call center, shown again at the counter
    assert words[("CALL_CENTER", "fibre")] == ("WITHDRAW", "CAPPED")
    assert words[("BRANCH", "fibre")] == ("SHOW", None)
    (accepted,) = [i for i in corrected.instructions if i.channel == "CALL_CENTER" and i.offer.offer_id == "tv"]
    assert accepted.answered_channel == "CALL_CENTER"
    world.now += SECOND
    assert last_words(world.offer_event("OfferPresented", PHONE, "fibre", "WEB")) == {}  # said once


def test_an_offer_withdrawn_capped_and_declined_later_elsewhere_is_withdrawn_declined() -> None:
    world, log = two_offers()
    log.append(world.offer_event("OfferPresented", PHONE, "fibre", "CALL_CENTER"))
    assert last_words(*log)[("CALL_CENTER", "tv")] == ("WITHDRAW", "CAPPED")
    world.now += SECOND
    log.append(world.offer_event("OfferResponded", PHONE, "tv", "WEB", response="DECLINED"))
    words = last_words(*log)
    assert words[("CALL_CENTER", "tv")] == ("WITHDRAW", "DECLINED") == words[("BRANCH", "tv")]


def test_a_snoozed_offer_accepted_later_is_withdrawn_accepted() -> None:
    world, log = two_offers()
    log.append(world.offer_event("OfferResponded", PHONE, "tv", "WEB", response="NOT_NOW"))
    assert last_words(*log)[("BRANCH", "tv")] == ("WITHDRAW", "NOT_NOW")
    world.now += SECOND
    log.append(world.offer_event("OfferResponded", PHONE, "tv", "WEB", response="ACCEPTED"))
    assert last_words(*log)[("BRANCH", "tv")] == ("WITHDRAW", "ACCEPTED")


def test_a_state_kept_before_the_reasons_were_restates_nothing_it_does_not_know() -> None:
    """``instructed`` kept as ``[channel, instant]`` (no reason): loaded, and no WITHDRAW sent again on a guess."""
    world, log = two_offers()
    log.append(world.offer_event("OfferPresented", PHONE, "fibre", "CALL_CENTER"))
    raw = world.customer("cus_1")
    for state in raw["offers"].values():
        state["instructed"] = [pair[:2] for pair in state["instructed"]]
    assert CustomerState.from_dict(raw).offers["tv"].instructed_reason("CALL_CENTER") == ""
    world.now += SECOND
    batch = world.offer_event("OfferResponded", PHONE, "tv", "WEB", response="DECLINED")
    assert ("CALL_CENTER", "tv") not in last_words(batch)
    assert last_words(batch)[("BRANCH", "tv")] == ("WITHDRAW", "DECLINED")  # still shown there: withdrawn as ever


def test_a_merged_customer_s_instructions_are_not_restated_under_the_survivor() -> None:
    world, log = two_offers()
    log.append(world.created("cus_2", EMAIL))
    log.append(world.offer_event("OfferPresented", EMAIL, "fibre", "CALL_CENTER"))
    assert last_words(*log)[("CALL_CENTER", "tv")] == ("SHOW", None)  # cus_1's; cus_2's was capped
    world.now += SECOND
    declined = world.offer_event("OfferResponded", EMAIL, "tv", "WEB", response="DECLINED")
    assert [(i.customer_id, i.reason) for i in declined.instructions if i.channel == "CALL_CENTER"] == [
        ("cus_2", "DECLINED")]
