"""Offer facts follow the customer's open accounts: a closed account's segment, tier and products no longer count
(tester22 F1: a tenant who moved out was still offered an "electricity customers" tariff on every channel)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bus.identifiers.number_format import NumberFormat
from bus.serde import Event
from processors.offers import accounts as account_book
from processors.offers.campaigns import defined
from processors.offers.ranking import facts_of
from processors.offers.state import CustomerState, merge, split
from tests.processors.offers.factories import T0, customer, offer, us
from tests.processors.offers.test_engine import World, actions
from tests.processors.offers.test_engine_placement import business, opened, placed, profile

ALICE, BOB = "cus_alice", "cus_bob"
ALICE_PHONE = "PHONE:+33478112233"
GREEN = 'segment == "electricity" && !("GREEN-EL" in products)'


def closed(world: World, account: str, *keys: str) -> Event:
    return business(world, "AccountClosed", account, *keys, reason="move-out")


def subscribed(world: World, account: str, code: str, *keys: str) -> Event:
    return business(world, "ProductSubscribed", account, *keys, subscription_id=f"s-{code}", product_code=code,
                    product_name=None, effective_at=None)


def alice_with_the_green_offer(world: World) -> None:
    world.created(ALICE, "ACCOUNT:EL-100001", ALICE_PHONE)
    world.feed(defined(offer("green-tariff-2027", eligibility=GREEN, channels=["WEB", "CALL_CENTER", "BRANCH"])))
    batch = placed(world, opened(world, "EL-100001", ALICE_PHONE, account_type="electricity"), ALICE)
    assert actions(batch) == [("SHOW", "CALL_CENTER", ALICE, "green-tariff-2027"),
                              ("SHOW", "BRANCH", ALICE, "green-tariff-2027")]


def test_the_tenant_who_moved_out_is_no_longer_offered_the_electricity_tariff_on_any_channel() -> None:
    """The tester's sample: Alice's only contract is closed (move-out); the offer is withdrawn where it was shown,
    the pull query no longer lists it, and a redelivered close changes nothing."""
    world = World()
    alice_with_the_green_offer(world)
    world.now = T0 + timedelta(days=30)
    close = closed(world, "EL-100001", ALICE_PHONE)
    batch = placed(world, close, ALICE)
    assert actions(batch) == [("WITHDRAW", "CALL_CENTER", ALICE, "green-tariff-2027"),
                              ("WITHDRAW", "BRANCH", ALICE, "green-tariff-2027")]
    assert {i.reason for i in batch.instructions} == {"NOT_ELIGIBLE"}
    assert "segment" not in profile(world, ALICE) and "service_tier" not in profile(world, ALICE)
    state = CustomerState.from_dict(world.customer(ALICE))
    assert facts_of(state, us(world.now)).segment == ""
    assert not placed(world, close, ALICE).outgoing  # redelivered


def test_a_customer_with_several_accounts_keeps_the_open_ones_facts() -> None:
    """Closing the gold electricity contract leaves the gas one (standard): segment and tier are the gas account's,
    and the product subscribed on the closed contract no longer counts, the one on the gas contract does."""
    world = World()
    world.created(ALICE, "ACCOUNT:EL-100001", "ACCOUNT:GA-200001", ALICE_PHONE)
    world.feed(defined(offer("gold-care", eligibility='service_tier == "gold"', channels=["CALL_CENTER"])))
    placed(world, opened(world, "GA-200001", ALICE_PHONE, account_type="gas"), ALICE)
    placed(world, subscribed(world, "GA-200001", "BOILER-CARE", ALICE_PHONE), ALICE)
    world.now = T0 + timedelta(days=1)
    shown = placed(world, opened(world, "EL-100001", ALICE_PHONE, account_type="electricity", tier="gold"), ALICE)
    placed(world, subscribed(world, "EL-100001", "GREEN-EL", ALICE_PHONE), ALICE)
    assert actions(shown) == [("SHOW", "CALL_CENTER", ALICE, "gold-care")]
    assert profile(world, ALICE)["segment"] == "electricity"
    world.now = T0 + timedelta(days=30)
    batch = placed(world, closed(world, "EL-100001", ALICE_PHONE), ALICE)
    assert actions(batch) == [("WITHDRAW", "CALL_CENTER", ALICE, "gold-care")]  # a former gold customer
    assert profile(world, ALICE)["segment"] == "gas" and profile(world, ALICE)["service_tier"] == "standard"
    assert facts_of(CustomerState.from_dict(world.customer(ALICE)), us(world.now)).products == ("BOILER-CARE",)


@pytest.mark.parametrize("written", ["100001", "el 100001", "EL-0100001"])
def test_an_account_closed_by_another_producer_in_its_own_spelling_is_the_account_billing_opened(
        written: str) -> None:
    """``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT='{"prefix": "EL-"}'``: billing's adapter opened ``EL-100001``; a
    system that is no Omnibus adapter closes ``100001``. One account (``about.account_number`` in the format), so the
    tenant who moved out is no longer offered the electricity tariff; without the format they were two accounts, one
    still open."""
    world = World(account_format=NumberFormat(prefix="EL-"))
    alice_with_the_green_offer(world)
    world.now = T0 + timedelta(days=30)
    batch = placed(world, closed(world, written, ALICE_PHONE), ALICE)
    assert actions(batch) == [("WITHDRAW", "CALL_CENTER", ALICE, "green-tariff-2027"),
                              ("WITHDRAW", "BRANCH", ALICE, "green-tariff-2027")]
    assert list(world.customer(ALICE)["accounts"]) == ["EL-100001"]


def test_a_product_cancelled_on_one_account_is_still_held_on_the_other() -> None:
    world = World()
    world.created(ALICE, "ACCOUNT:EL-100001", "ACCOUNT:EL-100002", ALICE_PHONE)
    for account in ("EL-100001", "EL-100002"):
        placed(world, opened(world, account, ALICE_PHONE, account_type="electricity"), ALICE)
        placed(world, subscribed(world, account, "GREEN-EL", ALICE_PHONE), ALICE)
    placed(world, business(world, "ProductCancelled", "EL-100001", ALICE_PHONE, subscription_id="s-GREEN-EL",
                           product_code="GREEN-EL", reason=None, effective_at=None), ALICE)
    assert facts_of(CustomerState.from_dict(world.customer(ALICE)), us(world.now)).products == ("GREEN-EL",)
    placed(world, closed(world, "EL-100002", ALICE_PHONE), ALICE)
    assert facts_of(CustomerState.from_dict(world.customer(ALICE)), us(world.now)).products == ()


def test_a_close_delivered_before_its_open_leaves_the_account_closed() -> None:
    world = World()
    world.created(ALICE, "ACCOUNT:EL-100001", ALICE_PHONE)
    world.feed(defined(offer("green-tariff-2027", eligibility=GREEN, channels=["CALL_CENTER"])))
    world.now = T0 + timedelta(days=30)
    close = closed(world, "EL-100001", ALICE_PHONE)
    world.now = T0
    open_ = opened(world, "EL-100001", ALICE_PHONE, account_type="electricity")
    assert not placed(world, close, ALICE).instructions
    assert not placed(world, open_, ALICE).instructions
    assert "segment" not in profile(world, ALICE)
    world.now = T0 + timedelta(days=60)  # she moves back in: a later open counts
    batch = placed(world, opened(world, "EL-100001", ALICE_PHONE, account_type="electricity"), ALICE)
    assert actions(batch) == [("SHOW", "CALL_CENTER", ALICE, "green-tariff-2027")]


def test_state_kept_before_the_rule_loses_the_closed_accounts_segment_only() -> None:
    """A customer saved before accounts were kept: her segment came through EL-100001; closing another account of
    hers leaves it, closing EL-100001 takes it away."""
    world = World()
    alice_with_the_green_offer(world)
    legacy = world.customer(ALICE)
    legacy.pop("accounts")
    world.tables[2][ALICE] = legacy
    world.now = T0 + timedelta(days=30)
    assert not placed(world, closed(world, "GA-999999", ALICE_PHONE), ALICE).instructions
    assert profile(world, ALICE)["segment"] == "electricity"
    batch = placed(world, closed(world, "EL-100001", ALICE_PHONE), ALICE)
    assert [a[0] for a in actions(batch)] == ["WITHDRAW", "WITHDRAW"]


def test_merge_and_split_follow_the_open_accounts() -> None:
    book: account_book.Accounts = {}
    account_book.opened(book, "EL-1", us(T0), {"segment": "electricity", "service_tier": "gold"}, ["ACCOUNT:EL-1"])
    other: account_book.Accounts = {}
    account_book.closed(other, "EL-1", us(T0 + timedelta(days=2)))
    account_book.opened(other, "GA-1", us(T0 + timedelta(days=1)), {"segment": "gas"}, ["ACCOUNT:GA-1"])
    a = customer(ALICE, identifiers=["ACCOUNT:EL-1"], accounts=book,
                 profile={"segment": "electricity", "service_tier": "gold"},
                 fact_via={"segment": ["ACCOUNT:EL-1"], "service_tier": ["ACCOUNT:EL-1"]})
    b = customer(BOB, identifiers=["ACCOUNT:GA-1"], accounts=other, profile={"segment": "gas"},
                 fact_via={"segment": ["ACCOUNT:GA-1"]})
    both = merge(a, b)
    assert both.accounts["EL-1"]["status"] == "CLOSED" and both.profile == {"segment": "gas"}
    kept, new = split(both, BOB, {"ACCOUNT:GA-1"})
    assert kept.profile == {} and new.profile == {"segment": "gas"} and set(new.accounts) == {"GA-1"}
    assert CustomerState.from_dict(both.to_dict()) == both
