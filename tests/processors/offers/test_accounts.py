"""Offer facts follow the customer's open accounts: a closed account's segment, tier and products no longer count
(tester22 F1: a tenant who moved out was still offered an "electricity customers" tariff on every channel)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from bus.identifiers.number_format import NumberFormat
from bus.serde import Event
from processors.offers import accounts as account_book
from processors.offers.campaigns import defined
from processors.offers.ranking import facts_of
from processors.offers.state import CustomerState, merge, split
from tests.processors.offers.factories import T0, customer, offer, us
from tests.processors.offers.test_engine_placement import business, opened, placed, profile
from tests.processors.offers.world import World, actions

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


# tester28 F3: the accounts export had no occurred_at, so its AccountOpened was stamped at the export (03/12) and
# outranked the AccountClosed dated 30/11: the tenant who moved out kept the "electricity customers" offers. A fact
# whose event is ``undated`` never outranks a dated one, whatever the instants, in either arrival order.
EXPORTED, DATED = T0 + timedelta(days=3), T0


def at(world: World, when: Any, undated: bool, make: Callable[[], Event]) -> Event:
    world.now = when
    event = make()
    return Event(event.schema, {**event.value, "undated": undated})


def cancelled_event(world: World, account: str, code: str, *keys: str) -> Event:
    return business(world, "ProductCancelled", account, *keys, subscription_id=f"s-{code}", product_code=code,
                    reason=None, effective_at=None)


def segment_is_electricity(state: CustomerState) -> bool:
    return facts_of(state, us(EXPORTED)).segment == "electricity"


def green_held(state: CustomerState) -> bool:
    return facts_of(state, us(EXPORTED)).products == ("GREEN-EL",)


def undated_and_dated(world: World, kind: str) -> tuple[Event, Event, Callable[[CustomerState], bool]]:
    """The undated fact stamped at the export, the dated fact three days before it, and what holds once both came."""
    open_ = partial(opened, world, "EL-100001", ALICE_PHONE, account_type="electricity")
    close = partial(closed, world, "EL-100001", ALICE_PHONE)
    subscribe = partial(subscribed, world, "EL-100001", "GREEN-EL", ALICE_PHONE)
    cancel = partial(cancelled_event, world, "EL-100001", "GREEN-EL", ALICE_PHONE)
    if kind == "account opened undated, closed dated":
        return at(world, EXPORTED, True, open_), at(world, DATED, False, close), negate(segment_is_electricity)
    if kind == "account closed undated, opened dated":
        return at(world, EXPORTED, True, close), at(world, DATED, False, open_), segment_is_electricity
    if kind == "product subscribed undated, cancelled dated":
        return at(world, EXPORTED, True, subscribe), at(world, DATED, False, cancel), negate(green_held)
    return at(world, EXPORTED, True, cancel), at(world, DATED, False, subscribe), green_held


def negate(check: Callable[[CustomerState], bool]) -> Callable[[CustomerState], bool]:
    return lambda state: not check(state)


UNDATED_KINDS = ["account opened undated, closed dated", "account closed undated, opened dated",
                 "product subscribed undated, cancelled dated", "product cancelled undated, subscribed dated"]


@pytest.mark.parametrize("kind", UNDATED_KINDS)
@pytest.mark.parametrize("dated_first", [False, True], ids=["undated first", "dated first"])
def test_f3_an_undated_fact_stamped_at_the_export_never_outranks_a_dated_one(kind: str, dated_first: bool) -> None:
    """The first is the tester's sample. For products the account stays open (an open of its own before both)."""
    world = World()
    world.created(ALICE, "ACCOUNT:EL-100001", ALICE_PHONE)
    if kind.startswith("product"):
        placed(world, at(world, T0 - timedelta(days=30), False,
                         partial(opened, world, "EL-100001", ALICE_PHONE, account_type="electricity")), ALICE)
    stamped, own_time, holds = undated_and_dated(world, kind)
    for event in (own_time, stamped) if dated_first else (stamped, own_time):
        placed(world, event, ALICE)
    world.now = EXPORTED + timedelta(hours=1)
    assert holds(CustomerState.from_dict(world.customer(ALICE)))


def test_f3_the_tenant_who_moved_out_is_not_offered_the_tariff_when_the_export_came_after_the_close() -> None:
    """The tester's sequence as the offers see it: the close dated 30/11 withdraws the tariff, the accounts export
    stamped 03/12 (no occurred_at) does not show it again."""
    world = World()
    world.created(ALICE, "ACCOUNT:EL-100001", ALICE_PHONE)
    world.feed(defined(offer("green-tariff-2027", eligibility=GREEN, channels=["CALL_CENTER"])))
    close = at(world, DATED, False, partial(closed, world, "EL-100001", ALICE_PHONE))
    export = at(world, EXPORTED, True, partial(opened, world, "EL-100001", ALICE_PHONE, account_type="electricity"))
    assert not placed(world, close, ALICE).instructions
    assert not placed(world, export, ALICE).instructions
    assert world.customer(ALICE)["accounts"]["EL-100001"]["status"] == "CLOSED"


def test_f3_merged_customers_keep_the_dated_fact_of_an_account_and_of_a_product() -> None:
    stamped: account_book.Accounts = {}
    account_book.opened(stamped, "EL-1", us(EXPORTED), {"segment": "electricity"}, ["ACCOUNT:EL-1"], undated=True)
    account_book.subscribed(stamped, "EL-1", "GREEN-EL", ["ACCOUNT:EL-1"], us(EXPORTED), undated=True)
    own: account_book.Accounts = {}
    account_book.closed(own, "EL-1", us(DATED))
    assert account_book.cancelled(own, "EL-1", "GREEN-EL", us(DATED), via=["ACCOUNT:EL-1"])
    for survivor, other in ((stamped, own), (own, stamped)):
        both = account_book.merged(survivor, other)
        assert both["EL-1"]["status"] == "CLOSED" and both["EL-1"]["products"] == []


def test_f3_a_cancellation_delivered_before_its_subscription_leaves_the_product_cancelled() -> None:
    """The same rank rule between two dated facts: a subscription older than the cancellation changes nothing."""
    book: account_book.Accounts = {}
    account_book.cancelled(book, "EL-1", "GREEN-EL", us(T0 + timedelta(days=2)))
    assert not account_book.subscribed(book, "EL-1", "GREEN-EL", ["ACCOUNT:EL-1"], us(T0))
    assert account_book.subscribed(book, "EL-1", "GREEN-EL", ["ACCOUNT:EL-1"], us(T0 + timedelta(days=3)))
    assert book["EL-1"]["products"] == ["GREEN-EL"]


def test_f3_an_undated_open_of_a_new_account_opens_it() -> None:
    """The first fact of an account (or one known only from a product) is taken, undated or not (broker test
    test_a_billing_fact_counts_for_the_customer_the_screen_pop_puts_the_account_on)."""
    book: account_book.Accounts = {}
    account_book.opened(book, "EL-1", us(EXPORTED), {"segment": "electricity"}, ["ACCOUNT:EL-1"], undated=True)
    assert book["EL-1"]["status"] == "OPEN"
    account_book.subscribed(book, "EL-2", "GREEN-EL", ["ACCOUNT:EL-2"], us(EXPORTED), undated=True)
    account_book.closed(book, "EL-2", us(EXPORTED), undated=True)
    assert book["EL-2"]["status"] == "CLOSED"
