"""tester29 F3 as the screen pop shows it: Luis' card reported stolen, a new card issued in its place.

The pop lists the card's status (``cards``), and a lookup by the stolen card still finds Luis (the fraud team needs to
know whose card is being quoted, and Luis himself may call quoting it) but is never a silent match: the answer's
``identifier_status`` says the card is blocked and no longer proves who the caller is. A lookup by the new card, or
by his phone, carries no such status."""

from __future__ import annotations

from bus.serde import Event
from tests.processors.identity.support import Harness, envelope, ident, observed
from tests.processors.identity.support import matcher_settings as settings
from tests.processors.identity.test_openapi import validate
from tests.processors.identity.test_web_household import lookup

BUSINESS = "business.events.v1"
PHONE = ("PHONE", "+8613912345678")


def card(number: str, h: Harness) -> str:
    return h.normalizer.token("CARD", number)


def changed(card_token: str, status: str, *, minutes: int, replaced_by: str | None = None) -> Event:
    new = ident("CARD", replaced_by) if replaced_by else None
    return Event("omnibus.business.CardStatusChanged", {
        "envelope": envelope("BUSINESS_SYSTEM", minutes=minutes), "card": ident("CARD", card_token),
        "status": status, "reason": "stolen" if status == "BLOCKED" else None, "replaced_by": new,
        "account_number": None, "customer_identifiers": [ident("CARD", card_token), *([new] if new else [])],
        "source_status": status.lower(), "traits_event_id": None, "undated": False})


def luis(h: Harness) -> tuple[str, str]:
    stolen, new = card("4111111111111111", h), card("5555555555554444", h)
    h.feed(observed([PHONE, ("CARD", stolen)], channel="BRANCH"), topic="identity.observed.v1")
    h.feed(changed(stolen, "BLOCKED", minutes=10), topic=BUSINESS)
    h.feed(changed(stolen, "REPLACED", minutes=60, replaced_by=new), topic=BUSINESS)
    return stolen, new


def test_a_lookup_by_the_stolen_card_finds_luis_but_says_the_card_is_dead() -> None:
    h = Harness(settings())
    stolen, new = luis(h)
    pop = lookup(h, "CARD", stolen)
    assert pop["customer_id"] == h.customer(*PHONE)
    status = pop["identifier_status"]
    assert (status["type"], status["status"]) == ("CARD", "REPLACED") and status["value"].startswith("card1:")
    assert "no longer proves who the caller is" in status["note"] and stolen not in status["note"]
    validate(pop)  # the published schema describes identifier_status and cards
    cards = pop["cards"]
    assert [c["status"] for c in cards] == ["REPLACED", "ACTIVE"]  # the dead card first
    assert cards[0]["replaced_by"] == cards[1]["card"] and cards[1]["replaces"] == cards[0]["card"]


def test_a_lookup_by_the_new_card_or_the_phone_carries_no_status() -> None:
    h = Harness(settings())
    _, new = luis(h)
    assert lookup(h, "CARD", new)["identifier_status"] is None
    assert lookup(h, *PHONE)["identifier_status"] is None


def test_a_blocked_card_not_yet_replaced_is_flagged_blocked_with_its_reason() -> None:
    h = Harness(settings())
    stolen = card("4111111111111111", h)
    h.feed(observed([PHONE, ("CARD", stolen)], channel="BRANCH"), topic="identity.observed.v1")
    h.feed(changed(stolen, "BLOCKED", minutes=10), topic=BUSINESS)
    status = lookup(h, "CARD", stolen)["identifier_status"]
    assert (status["status"], status["reason"]) == ("BLOCKED", "stolen") and "(stolen)" in status["note"]


def test_a_late_replay_of_the_block_does_not_undo_the_replacement() -> None:
    h = Harness(settings())
    stolen, _ = luis(h)
    h.feed(changed(stolen, "BLOCKED", minutes=10), topic=BUSINESS)  # re-delivered after the replacement
    assert lookup(h, "CARD", stolen)["identifier_status"]["status"] == "REPLACED"
