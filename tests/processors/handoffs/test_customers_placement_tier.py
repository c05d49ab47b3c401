"""A placement that moves a handoff to another customer corrects who the customer is, so the tier follows it.

The guessed customer's settled tier was never the handoff's customer's: the handoff is re-timed to the placed
customer's tier as ``customer-resolved``, in either direction, once per change of customer by placement. A tier
change of the same customer still follows ``tiers.mid_case`` (a downgrade never applies).
"""

from __future__ import annotations

from bus.clock import from_micros
from processors.handoffs.state import DeadlineRule
from tests.processors.handoffs.factories import T0, created
from tests.processors.handoffs.test_customers import H, subscribed
from tests.processors.handoffs.test_customers_placement import JEAN_ACCOUNT, LANDLINE, LUC_MOBILE, SOPHIE_ACCOUNT, Placed


async def test_a_placement_off_a_premium_guess_re_times_the_case_to_the_right_customers_lower_tier() -> None:
    world = Placed()
    world.business(subscribed("C-100300", "s-1", "CARE-PLUS"))  # Claire, who owns the shared landline, is premium
    handoff = created("h1", tier=None, identifiers=[LANDLINE, JEAN_ACCOUNT])
    await world.send(handoff)
    guessed = world.state()
    assert (guessed.customer_id, guessed.service_tier) == ("cus_claire", "premium")
    assert from_micros(guessed.deadline_us) == T0 + 4 * H
    world.contact("cus_jean", handoff)  # identity placed it on Jean, standard
    await world.tick(T0 + H)
    state = world.state()
    assert (state.customer_id, state.service_tier) == ("cus_jean", "standard")
    assert from_micros(state.deadline_us) == T0 + 20 * H  # 1 h used of standard's 20 h: later, not kept at 4 h
    assert state.lineage is not None and state.lineage.rule is DeadlineRule.CUSTOMER_RESOLVED
    announced = len(world.published("HandoffStatusChanged"))
    await world.tick(T0 + 2 * H)  # the same placement again: once per change of customer
    again = world.state()
    assert (again.customer_id, again.service_tier, again.deadline_us, again.lineage) == (
        state.customer_id, state.service_tier, state.deadline_us, state.lineage)
    assert len(world.published("HandoffStatusChanged")) == announced


async def test_a_placement_onto_a_higher_tier_brings_the_deadline_forward_as_before() -> None:
    world = Placed()
    handoff = created("h1", channel="BRANCH", tier=None, identifiers=[SOPHIE_ACCOUNT, LUC_MOBILE])
    await world.send(handoff)
    assert from_micros(world.state().deadline_us) == T0 + 20 * H  # Sophie's standard
    world.contact("cus_luc", handoff)
    await world.tick(T0 + H)
    state = world.state()
    assert (state.customer_id, state.service_tier) == ("cus_luc", "premium")
    assert from_micros(state.deadline_us) == T0 + 4 * H  # 1 h used of premium's 4 h
    assert state.lineage is not None and state.lineage.rule is DeadlineRule.CUSTOMER_RESOLVED


async def test_a_placement_on_the_customer_already_guessed_changes_no_tier_or_deadline() -> None:
    world = Placed()
    world.business(subscribed("C-100300", "s-1", "CARE-PLUS"))
    handoff = created("h1", tier=None, identifiers=[LANDLINE, JEAN_ACCOUNT])
    await world.send(handoff)
    before = world.state()
    announced = len(world.published("HandoffStatusChanged"))
    world.contact("cus_claire", handoff)  # identity agrees with the guess
    await world.tick(T0 + H)
    state = world.state()
    assert state.customer_placed
    assert (state.customer_id, state.service_tier, state.deadline_us, state.lineage) == (
        before.customer_id, before.service_tier, before.deadline_us, before.lineage)
    assert len(world.published("HandoffStatusChanged")) == announced


async def test_a_placed_customers_own_downgrade_mid_case_is_still_ignored() -> None:
    world = Placed()
    world.business(subscribed("C-100200", "s-1", "CARE-PLUS"))  # Jean premium at creation
    handoff = created("h1", tier=None, identifiers=[LANDLINE, JEAN_ACCOUNT])
    world.contact("cus_jean", handoff)
    await world.send(handoff)
    state = world.state()
    assert (state.customer_id, state.service_tier) == ("cus_jean", "premium")
    world.business(subscribed("C-100200", "s-1", "CARE-PLUS", at=T0 + H, cancelled=True))
    await world.tick(T0 + H)
    after = world.state()
    assert (after.service_tier, after.deadline_us) == ("premium", state.deadline_us)
