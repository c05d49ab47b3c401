"""The rebuild of ``omnibus replay handoffs`` and ``omnibus verify`` decides each handoff's customer and service
tier as the running tracker did (tester22 F3): from the customer identity placed the handoff on, through the
tracker's own rules, whatever identity decided about the handoff's identifiers later.

The running side is a tracker with a directory fed as its feed feeds it (``Placed``); the rebuild reads
``handoff.events.v1`` as that tracker left it, without a directory.
"""

from __future__ import annotations

import pytest

from bus.clock import from_micros
from processors.replay.handoffs import view
from processors.verify.handoffs import check_handoffs
from processors.verify.report import Report
from tests.processors.handoffs.factories import SYSTEM, T0, accepted, created
from tests.processors.handoffs.test_customers import H, opened, replay, topic_records
from tests.processors.handoffs.test_customers_placement import Placed, moved

FAMILY_EMAIL = {"type": "EMAIL", "value": "petit.famille@example.net"}  # the couple's, Emma's until Luc's visit
EMMA_PHONE = {"type": "PHONE", "value": "+33633445566"}
EMMA_ACCOUNT = {"type": "ACCOUNT", "value": "EL-100006"}
LUC_PHONE = {"type": "PHONE", "value": "+33622334455"}
LUC_ACCOUNT = {"type": "ACCOUNT", "value": "EL-100007"}
KEEP = ("customer_id", "service_tier", "tier_source", "tier_event_id", "deadline_us", "team", "tier", "lineage")


def petits(emma_tier: str = "gold", luc_tier: str = "standard") -> Placed:
    world = Placed()
    world.assign("cus_emma", EMMA_ACCOUNT, FAMILY_EMAIL, EMMA_PHONE)
    world.assign("cus_lucp", LUC_ACCOUNT, LUC_PHONE)
    world.business(opened("EL-100006", emma_tier), opened("EL-100007", luc_tier))
    return world


def counter_handoff(*identifiers: dict) -> object:
    return created("h1", channel="BRANCH", case_type="payment-plan", tier=None,
                   identifiers=list(identifiers or (FAMILY_EMAIL, EMMA_PHONE)))


async def agree(world: Placed, until) -> dict:
    """The rebuilt handoff, once checked equal to the running one (its state and verify's comparison), both
    clocks at ``until``."""
    await world.tick(until)
    rebuilt = await replay(world, until)
    assert {k: rebuilt["h1"][k] for k in KEEP} == {k: world.store["h1"][k] for k in KEEP}
    report = Report()
    check_handoffs(topic_records(world), SYSTEM, {k: view(s) for k, s in rebuilt.items()},
                   {k: view(s) for k, s in world.store.items()}, set(), report)
    assert report.ok, report.failures()
    return rebuilt["h1"]


@pytest.mark.parametrize("placement_first", [True, False])
async def test_f3_a_gold_customer_known_at_creation_is_rebuilt_gold_after_the_shared_email_moves(
        placement_first: bool) -> None:
    """The sample: Emma (gold) opens a payment-plan handoff at a counter with the couple's e-mail; identity places it
    on her; later Luc's visit makes him the e-mail's keeper. Tracker and rebuild: gold, 2 h (this policy)."""
    world = petits()
    handoff = counter_handoff()
    if placement_first:
        world.contact("cus_emma", handoff)
    await world.send(handoff)
    if not placement_first:
        world.contact("cus_emma", handoff)
    await world.tick(T0 + 0.5 * H)
    world.assign("cus_lucp", FAMILY_EMAIL)  # Luc's counter visit: the shared e-mail's keeper is Luc now
    await world.tick(T0 + H)
    assert (world.state().customer_id, world.state().service_tier) == ("cus_emma", "gold")
    assert from_micros(world.state().deadline_us) == T0 + 2 * H
    rebuilt = await agree(world, T0 + H)
    assert rebuilt["service_tier"] == "gold"


@pytest.mark.parametrize(("before", "after"), [("gold", "standard"), ("standard", "gold")])
async def test_a_tier_changed_later_in_the_export_is_rebuilt_as_the_tracker_followed_it(before: str,
                                                                                          after: str) -> None:
    """A downgrade leaves the open case alone, an upgrade re-times it forward (``tiers.mid_case: upgrade``)."""
    world = petits(emma_tier=before)
    handoff = counter_handoff()
    world.contact("cus_emma", handoff)
    await world.send(handoff)
    world.business(opened("EL-100006", after, at=T0 + H))
    await world.tick(T0 + H)
    await world.send(accepted("h1", T0 + 1.5 * H))
    await world.tick(T0 + 3 * H)
    assert world.state().service_tier == "gold"
    await agree(world, T0 + 3 * H)


@pytest.mark.parametrize("placement_first", [True, False])
async def test_a_co_holder_placed_against_the_first_identifiers_keeper_is_rebuilt_on_their_tier(
        placement_first: bool) -> None:
    """The first identifier is the keeper's (Emma, standard); identity weighed the rest and placed the handoff on
    Luc (gold). Read after creation, the placement corrects a settled tier: announced under Luc's tier's event."""
    world = petits(emma_tier="standard", luc_tier="gold")
    handoff = counter_handoff(FAMILY_EMAIL, LUC_PHONE)
    if placement_first:
        world.contact("cus_lucp", handoff)
    await world.send(handoff)
    if not placement_first:
        world.contact("cus_lucp", handoff)
    await world.tick(T0 + H)
    assert (world.state().customer_id, world.state().service_tier) == ("cus_lucp", "gold")
    await agree(world, T0 + H)  # before the breach: the deadline's lineage says why it moved (customer-resolved)


async def test_a_handoff_re_placed_by_a_move_is_rebuilt_on_the_new_customers_tier() -> None:
    """An operator moves Emma's (gold) handoff to Luc (standard): the placement corrects who the customer is, and
    the tier follows down (``customer-resolved``); the rebuild must not keep Emma's gold as a mid-case downgrade."""
    world = petits()
    handoff = counter_handoff()
    world.contact("cus_emma", handoff, at_ms=1_000)
    await world.send(handoff)
    world.contact("cus_lucp", moved(handoff, "moved-1"), moved_from="cus_emma", at_ms=2_000)
    await world.tick(T0 + H)
    assert (world.state().customer_id, world.state().service_tier) == ("cus_lucp", "standard")
    rebuilt = await agree(world, T0 + 5 * H)
    assert rebuilt["service_tier"] == "standard"
