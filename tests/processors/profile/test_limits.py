"""Every profile section stays bounded whatever the customer's history (#13: state records within Kafka's
1 MiB by construction): a customer with a long history, and the largest profile the limits allow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bus.errors import ConfigError
from bus.identifiers.normaliser import MAX_CHARS as MAX_IDENTIFIER_CHARS
from bus.serde import Event
from processors.handoffs.outputs import STATUS_CHANGED
from processors.offers.outputs import OFFER_INSTRUCTION
from processors.profile.book import VIA, VIA_KEYS_PER_ENTRY, ProfileBook
from processors.profile.limits import (
    MAX_CONTENT_CHARS,
    MAX_TEXT_CHARS,
    ProfileLimits,
    load_profile_limits,
    short_text,
    short_texts,
)
from processors.profile.registry import SECTIONS
from schemas.enums import CHANNELS
from tests.processors.identity.support import T0, envelope

BROKER_RECORD_LIMIT = 1024 * 1024
LONG = "x" * 5000  # every text longer than any cap


def book(limits: ProfileLimits | None = None) -> ProfileBook:
    return ProfileBook.from_registry(limits or ProfileLimits())


def subscription(n: int, *, cancelled: bool = False, text: str = "Fiber") -> Event:
    kind = "ProductCancelled" if cancelled else "ProductSubscribed"
    return Event(f"omnibus.business.{kind}", {
        "envelope": envelope("BUSINESS_SYSTEM", minutes=n + (1 if cancelled else 0)), "account_number": f"ACC-{text}",
        "customer_identifiers": [], "subscription_id": f"sub-{n}-{text}", "product_code": f"P{n}{text}",
        "product_name": text, "effective_at": None, "reason": None,
    })


def handoff(n: int, status: str = "CREATED", text: str = "case", version: int = 1) -> Event:
    return Event(STATUS_CHANGED, {
        "envelope": envelope("PROCESSOR", minutes=n), "handoff_id": f"h-{n}-{text}", "version": version,
        "status": status, "case_type": text, "summary": text, "team": text, "owner": {"id": text},
        "escalation_tier": 0, "deadline_at": None, "acknowledged": False, "origin_channel": "CALL_CENTER",
        "created_at": T0 + timedelta(minutes=n), "service_tier": text, "customer_identifiers": [],
    })


def offer(n: int, action: str = "SHOW", priority: int = 0, text: str = "offer") -> Event:
    return Event(OFFER_INSTRUCTION, {
        "envelope": envelope("PROCESSOR", minutes=n), "offer_id": f"o-{n}-{text}", "offer_version": 1,
        "action": action, "title": text, "content": text, "priority": priority, "not_before": None,
        "valid_until": None, "customer_identifiers": [],
    })


def fold(profile_book: ProfileBook, events: list[Event], profile: dict[str, Any] | None = None) -> dict[str, Any]:
    for event in events:
        profile = profile_book.apply(profile, event)
    return profile or {}


def test_a_customer_with_a_long_history_keeps_the_live_facts_and_counts_what_went() -> None:
    limits = ProfileLimits(products_per_kind=20, open_handoffs=10, closed_handoffs=5, eligible_offers=5,
                           withdrawn_offers=7)
    history = []
    for n in range(300):  # every other product is cancelled a minute after it was subscribed
        history += [subscription(n)] + ([subscription(n, cancelled=True)] if n % 2 == 0 else [])
    history += [handoff(n) for n in range(100)] + [handoff(n, "RESOLVED", version=2) for n in range(0, 80, 4)]
    history += [offer(n, priority=n % 3) for n in range(60)] + [offer(n, "WITHDRAW") for n in range(60, 90)]
    profile = fold(book(limits), history)

    products = profile["products"]["products"]
    # closed ones went first, then the oldest: the 20 newest active products stay, each of 300 went once
    assert sorted(products) == sorted(f"sub-{n}-Fiber" for n in range(261, 300, 2))
    assert profile["products"]["dropped"] == 300 - 20
    handoffs = profile["open_handoffs"]
    assert len(handoffs["open"]) == 10 and "h-99-case" in handoffs["open"] and len(handoffs["done"]) == 5
    assert handoffs["dropped"] > 0
    offers = profile["eligible_offers"]
    assert len(offers["shown"]) == 5 and {e["priority"] for e in offers["shown"].values()} == {2}
    assert len(offers["seen"]) == 5 + 7 and offers["dropped"] > 0
    assert len(msgspec.msgpack.encode(profile)) < 32 * 1024


def test_a_merge_of_two_long_histories_stays_within_the_limits() -> None:
    limits = ProfileLimits(products_per_kind=10, open_handoffs=4, closed_handoffs=3, eligible_offers=2,
                           withdrawn_offers=3)
    profile_book = book(limits)
    one = fold(profile_book, [subscription(n, text="a") for n in range(30)] + [handoff(n, text="a") for n in range(9)]
               + [offer(n, text="a") for n in range(6)] + [offer(n, "WITHDRAW", text="w") for n in range(9)])
    two = fold(profile_book, [subscription(n, text="b") for n in range(30)] + [handoff(n, text="b") for n in range(9)]
               + [offer(n, text="b") for n in range(6)])
    merged = profile_book.merge(one, two)
    assert len(merged["products"]["products"]) == 10
    assert merged["products"]["dropped"] == one["products"]["dropped"] + two["products"]["dropped"] + 10
    assert len(merged["open_handoffs"]["open"]) == 4
    assert len(merged["eligible_offers"]["shown"]) == 2 and len(merged["eligible_offers"]["seen"]) == 2 + 3


def test_the_largest_profile_the_default_limits_allow_is_half_the_broker_limit() -> None:
    """Every count reached and every text (ids included) at its longest: the bound holds by construction."""
    limits, profile_book = ProfileLimits(), book()
    events: list[Event] = []
    for n in range(limits.products_per_kind):
        events += [subscription(n, text=f"{n}{LONG}"),
                   Event("omnibus.business.AccountOpened", {
                       "envelope": envelope("BUSINESS_SYSTEM", minutes=n), "account_number": f"{n}{LONG}",
                       "customer_identifiers": [], "account_type": LONG, "service_tier": LONG}),
                   Event("omnibus.business.OrderStatusChanged", {
                       "envelope": envelope("BUSINESS_SYSTEM", minutes=n), "account_number": LONG,
                       "customer_identifiers": [], "order_id": f"{n}{LONG}", "status": LONG, "product_code": LONG}),
                   Event("omnibus.business.PaymentOverdue", {
                       "envelope": envelope("BUSINESS_SYSTEM", minutes=n), "account_number": LONG,
                       "customer_identifiers": [], "bill_id": f"{n}{LONG}", "days_overdue": 2**31,
                       "amount_due": {"amount_minor": 2**62, "currency": "EUR"}})]
    events += [handoff(n, text=f"{n}{LONG}") for n in range(limits.open_handoffs + limits.closed_handoffs)]
    events += [handoff(n, "RESOLVED", text=f"{n}{LONG}", version=2) for n in range(limits.closed_handoffs)]
    events += [offer(n, text=f"{n}{LONG}") for n in range(limits.eligible_offers + limits.withdrawn_offers)]
    events += [offer(n, "WITHDRAW", text=f"{n}{LONG}") for n in range(limits.withdrawn_offers)]
    for channel in CHANNELS:
        for n in range(limits.recent_contacts_per_channel):
            env = {**envelope(channel, minutes=n), "site": LONG}
            events.append(Event("omnibus.contact.CallCompleted", {
                "envelope": env, "contact_id": f"{n}{LONG}", "disposition": LONG, "agent_id": LONG, "talk_ms": 2**40,
                "abandoned": False, "queue": LONG, "caller_identifiers": []}))
    events += [Event("omnibus.contact.IdentifiersObserved", {
        "envelope": {**envelope("WEB", minutes=n), "site": LONG}, "identifiers": [],
        "traits": {"given_name": LONG, "family_name": LONG, "birth_date": "1962-03-14"}})
        for n in range(limits.name_observations)]
    # each entry fed through as many identifiers of the longest kind as the split record keeps (``ProfileBook``'s VIA)
    carried = [f"NATIONAL_ID:{n}{'x' * MAX_IDENTIFIER_CHARS}"[:len("NATIONAL_ID:") + MAX_IDENTIFIER_CHARS]
               for n in range(VIA_KEYS_PER_ENTRY)]
    profile = None
    for event in events:
        profile = profile_book.apply(profile, event, carried)
    assert profile is not None and len(profile[VIA]["products"]) == 4 * limits.products_per_kind
    assert len(profile["name"]["seen"]) == limits.name_observations
    assert len(profile["products"]["products"]) == limits.products_per_kind
    assert len(profile["open_handoffs"]["open"]) == limits.open_handoffs
    assert len(profile["eligible_offers"]["shown"]) == limits.eligible_offers
    assert max(len(entry["content"]) for entry in profile["eligible_offers"]["shown"].values()) == MAX_CONTENT_CHARS
    assert max(len(key) for key in profile["products"]["orders"]) == MAX_TEXT_CHARS
    size = len(msgspec.msgpack.encode(profile))
    assert size < BROKER_RECORD_LIMIT // 2, size
    # ... and a merge of two such customers is no larger than one of them at its limits.
    assert len(msgspec.msgpack.encode(profile_book.merge(profile, profile))) <= size + 64  # the counters grow


def test_limits_come_from_the_environment_and_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_PROCESSOR_PROFILE__OPEN_HANDOFFS", "7")
    assert load_profile_limits().open_handoffs == 7
    assert {s.name: s.limits.open_handoffs for s in ProfileBook.from_registry().sections}["open_handoffs"] == 7
    monkeypatch.setenv("OMNIBUS_PROCESSOR_PROFILE__OPEN_HANDOFFS", "0")
    with pytest.raises(ConfigError, match="OMNIBUS_PROCESSOR_PROFILE__OPEN_HANDOFFS"):
        load_profile_limits()
    assert len(SECTIONS) == 6


@given(st.dictionaries(st.text(max_size=3), st.one_of(st.none(), st.integers(), st.booleans(), st.text(max_size=40),
                                                      st.lists(st.text(max_size=3), max_size=2)), max_size=8),
       st.integers(min_value=0, max_value=30))
def test_short_texts_cuts_each_field_as_short_text_does(fields: dict[str, Any], limit: int) -> None:
    cut = short_texts(fields, limit)
    assert cut == {name: short_text(value, limit) for name, value in fields.items()} and list(cut) == list(fields)
