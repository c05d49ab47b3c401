"""Tier names in any case (tester20 F5): a billing export's ``GOLD`` is the policy's ``gold`` at every place the
tracker compares tiers (the customer's tier, the channel's guess, trusted channels, products, mid-case upgrades), and
the handoff carries it in the policy's form (``tier_key``)."""

from __future__ import annotations

from prometheus_client import REGISTRY

from bus.clock import from_micros
from processors.handoffs.config import HandoffPolicy, SlaPolicy, TierPolicy
from processors.handoffs.state import TierSource
from tests.processors.handoffs.factories import T0, created
from tests.processors.handoffs.test_customers import EMAIL, POLICY, H, World, opened, subscribed

ACCOUNT = {"type": "ACCOUNT", "value": "T20-ACC-ALICE"}


async def test_a_billing_exports_upper_case_tier_gets_the_policys_rule() -> None:
    world = World()  # POLICY: gold 2 h, premium 4 h, else 20 h
    world.assign("cus_alice", ACCOUNT, EMAIL)
    world.business(opened("T20-ACC-ALICE", "GOLD"))
    await world.send(created("h1", channel="WEB", tier=None, identifiers=[EMAIL]))
    state = world.state()
    assert (state.service_tier, state.tier_source) == ("gold", TierSource.CUSTOMER)
    assert from_micros(state.deadline_us) == T0 + 2 * H
    assert world.published("HandoffStatusChanged")[0].event.value["service_tier"] == "gold"


async def test_a_channels_tier_in_any_case_is_the_policys_trusted_or_guessed() -> None:
    guessing = World()
    await guessing.send(created("h1", tier="Gold", identifiers=[EMAIL]))
    assert (guessing.state().service_tier, guessing.state().tier_source) == ("gold", TierSource.CHANNEL)
    assert from_micros(guessing.state().deadline_us) == T0 + 2 * H
    trusting = World(POLICY.model_copy(update={"tiers": TierPolicy(trusted_channels=("CALL_CENTER",))}))
    trusting.assign("cus_alice", ACCOUNT, EMAIL)
    trusting.business(opened("T20-ACC-ALICE", "STANDARD"))
    await trusting.send(created("h1", tier="GOLD", identifiers=[EMAIL]))
    assert (trusting.state().service_tier, trusting.state().tier_source) == ("gold", TierSource.TRUSTED_CHANNEL)
    assert from_micros(trusting.state().deadline_us) == T0 + 2 * H


async def test_the_highest_tier_is_ranked_case_folded_across_accounts_and_products() -> None:
    policy = HandoffPolicy(sla=(SlaPolicy(service_tiers=("GOLD",), resolve_within_hours=2),),
                           tiers=TierPolicy(order=("Standard", "Premium", "Gold"), products={"CARE-GOLD": "GOLD"}))
    world = World(policy)
    world.assign("cus_alice", ACCOUNT, EMAIL)
    world.business(opened("T20-ACC-ALICE", "PREMIUM", at=T0 - 2 * H),
                   subscribed("T20-ACC-ALICE", "s-1", "CARE-GOLD", at=T0 - 3 * H))
    await world.send(created("h1", tier=None, identifiers=[EMAIL]))
    assert world.state().service_tier == "gold"  # the product's gold outranks the later premium account
    assert from_micros(world.state().deadline_us) == T0 + 2 * H


async def test_an_upper_case_upgrade_mid_case_retimes_and_the_same_tier_in_another_case_changes_nothing() -> None:
    world = World()
    world.assign("cus_alice", ACCOUNT, EMAIL)
    world.business(opened("T20-ACC-ALICE", "premium"))
    await world.send(created("h1", tier=None, identifiers=[EMAIL]))
    assert from_micros(world.state().deadline_us) == T0 + 4 * H
    world.business(opened("T20-ACC-ALICE", "PREMIUM", at=T0 - 23 * H))
    await world.tick(T0 + H / 2)
    assert world.state().service_tier == "premium" and from_micros(world.state().deadline_us) == T0 + 4 * H
    world.business(opened("T20-ACC-ALICE", "GOLD", at=T0 - 22 * H))
    await world.tick(T0 + H)
    assert world.state().service_tier == "gold"
    assert from_micros(world.state().deadline_us) == T0 + 2 * H  # 1 h used of gold's 2 h


async def test_a_tier_the_policy_does_not_list_is_counted() -> None:
    def counted() -> float:
        return REGISTRY.get_sample_value("omnibus_handoff_unknown_service_tiers_total", {"source": "handoff"}) or 0

    world, before = World(), counted()
    await world.send(created("h1", tier="VIP", identifiers=[EMAIL]))
    await world.send(created("h2", tier="GOLD", identifiers=[EMAIL]))
    assert world.state().service_tier == "vip" and counted() == before + 1


def test_an_account_tier_is_digested_case_folded_and_counted_once_per_event_when_unknown() -> None:
    from processors.handoffs.tier_facts import tier_fact
    from processors.handoffs.directory_feed import tier_fact_record

    def counted() -> float:
        return REGISTRY.get_sample_value("omnibus_handoff_unknown_service_tiers_total", {"source": "account"}) or 0

    gold, blank, vip = (tier_fact(opened("T20-ACC-ALICE", tier)) for tier in (" GOLD", " ", "VIP"))
    assert gold is not None and blank is not None and vip is not None
    assert (gold.tier, blank.tier, vip.tier) == ("gold", None, "vip")
    before = counted()
    for fact in (gold, blank, vip):
        tier_fact_record(fact, POLICY.tiers)
    assert counted() == before + 1
