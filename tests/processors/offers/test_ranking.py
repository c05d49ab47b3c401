from datetime import timedelta

import pytest

from bus.serde import Event
from processors.offers.caps import ContactPolicy, Suppression
from processors.offers.definition import CUSTOMER_PRESENT, OUTBOUND, Cap, Channel
from processors.offers.machine import respond
from processors.offers.ranking import choose, facts_of, fits, zone_of
from processors.offers.state import merge
from tests.processors.offers.factories import T0, customer, offer, us
from tests.processors.offers.test_answers import apply, offer_event

OPEN = ContactPolicy(caps=(), quiet_hours=None)


def test_ranked_by_priority_then_least_recently_presented() -> None:
    offers = [offer("low", priority=1), offer("high", priority=9), offer("also-high", priority=9)]
    person = customer()
    chosen = choose(person, offers, "WEB", T0, "UTC", OPEN)
    assert [o.offer_id for o in chosen.available] == ["also-high", "high", "low"]


def test_only_valid_offers_on_the_channel_that_fit_and_are_unanswered() -> None:
    offers = [
        offer("web-only", channels=["WEB"]),
        offer("future", valid_from="2027-01-01T00:00:00Z"),
        offer("ended", valid_until="2026-02-01T00:00:00Z"),
        offer("dsl-owners", eligibility='"DSL" in products'),
        offer("accepted"),
        offer("ok"),
    ]
    person = customer(offers={"accepted": respond(None, 1, "ACCEPTED", "WEB", us(T0), (), 0)})
    assert [o.offer_id for o in choose(person, offers, "CALL_CENTER", T0, "UTC", OPEN).available] == ["ok"]
    person.products["DSL"] = ["ACCOUNT:1"]
    assert "dsl-owners" in [o.offer_id for o in choose(person, offers, "CALL_CENTER", T0, "UTC", OPEN).available]


def test_suppressed_offers_carry_their_reason() -> None:
    policy = ContactPolicy(caps=(Cap(max=1, per="1d"),), quiet_hours=None)
    person = customer(ledger=[[us(T0 - timedelta(hours=1)), "WEB", "x", "e1", []]])
    chosen = choose(person, [offer("a")], "BRANCH", T0, "UTC", policy)
    assert chosen.available == [] and [(o.offer_id, r) for o, r in chosen.suppressed] == [("a", Suppression.CONTACT_CAP)]
    assert fits(person, offer("a"), T0)  # caps do not change what fits


def test_a_snoozed_offer_is_listed_as_suppressed_not_now_and_an_answered_one_not_at_all() -> None:
    """tester19 F21: a "not now" offer just disappeared from the pull query (``"suppressed": []``); the README
    promised the suppressed ones with their reason. Declined and accepted ones are answered for good."""
    snooze = 14 * 86400 * 10**6
    person = customer(offers={
        "later": respond(None, 1, "NOT_NOW", "CALL_CENTER", us(T0), (), snooze),
        "no": respond(None, 1, "DECLINED", "BRANCH", us(T0), (), snooze),
        "yes": respond(None, 1, "ACCEPTED", "WEB", us(T0), (), snooze),
    })
    offers = [offer("later"), offer("no"), offer("yes"), offer("ok")]
    chosen = choose(person, offers, "WEB", T0 + timedelta(days=1), "UTC", OPEN)
    assert [o.offer_id for o in chosen.available] == ["ok"]
    assert [(o.offer_id, r) for o, r in chosen.suppressed] == [("later", Suppression.SNOOZED)]
    assert Suppression.SNOOZED.value == "not_now"
    after = choose(person, offers, "WEB", T0 + timedelta(days=15), "UTC", OPEN)  # the snooze is over
    assert [o.offer_id for o in after.available] == ["later", "ok"] and after.suppressed == []


def test_facts_from_state() -> None:
    person = customer(products={"DSL": ["ACCOUNT:1"]}, profile={"service_tier": "GOLD", "region": "FR"},
                      contacts=[[us(T0 - timedelta(days=1)), "WEB", "bill", "e1", []],
                                [us(T0 - timedelta(days=9)), "BRANCH", "bill", "e2", []]],
                      overdue={"b1": 12})
    facts = facts_of(person, us(T0))
    assert (facts.products, facts.service_tier, facts.contacts_7d, facts.contact_channels_7d, facts.days_overdue) == (
        ("DSL",), "GOLD", 1, ("WEB",), 12)


def test_zone_from_region_with_one_zone_else_default() -> None:
    assert zone_of(customer(profile={"region": "FR"}), "UTC") == "Europe/Paris"
    assert zone_of(customer(profile={"region": "US"}), "America/Chicago") == "America/Chicago"
    assert zone_of(customer(), "Asia/Shanghai") == "Asia/Shanghai"


# tester28 F8: quiet hours hid the offers from a customer on the portal and at the desk (08:13 in Paris, in quiet
# hours in UTC). They hold back outbound pushes only; on a channel where the customer is present they never apply.
QUIET = ContactPolicy(caps=(), quiet_hours={"start": "21:00", "end": "08:00"})


@pytest.mark.parametrize("channel", ["WEB", "BRANCH", "CALL_CENTER"])
@pytest.mark.parametrize(("hour", "zone"), [(7, "UTC"), (22, "Europe/Paris"), (3, "UTC")])
def test_quiet_hours_never_hide_an_offer_from_a_customer_who_is_present(channel: str, hour: int, zone: str) -> None:
    now = T0.replace(hour=hour, minute=13)
    own_span = offer("a", quiet_hours={"start": "00:00", "end": "23:59"})  # an offer's own quiet hours: the same
    chosen = choose(customer(), [offer("fibre"), own_span], channel, now, zone, QUIET)
    assert [o.offer_id for o in chosen.available] == ["a", "fibre"] and chosen.suppressed == []


def test_every_channel_an_offer_has_is_customer_present_or_an_outbound_push() -> None:
    assert set(Channel) == CUSTOMER_PRESENT | set(OUTBOUND) and not CUSTOMER_PRESENT & set(OUTBOUND)


@pytest.mark.parametrize("channel", sorted(OUTBOUND))
def test_quiet_hours_hold_back_an_outbound_push(channel: str) -> None:
    """tester30 F4: an SMS or an e-mail reaches a customer who is not there: quiet hours apply to it."""
    now = T0.replace(hour=22, minute=30)
    chosen = choose(customer(), [offer("fibre", channels=[channel])], channel, now, "UTC", QUIET)
    assert chosen.available == [] and [r for _, r in chosen.suppressed] == [Suppression.QUIET_HOURS]


# --- a snooze and a full cap at once: ``not_now`` is the reason, in any arrival order and across a merge ---


def _snooze_and_cap_events() -> list[Event]:
    hour = timedelta(hours=1)
    return [offer_event("nn", "CALL_CENTER", "NOT_NOW", T0 - 3 * hour, offer_id="later"),
            offer_event("seen", "WEB", None, T0 - 2 * hour, offer_id="later"),
            offer_event("other", "BRANCH", None, T0 - hour, offer_id="fibre"),
            offer_event("nn2", "CALL_CENTER", "NOT_NOW", T0 - 4 * hour, offer_id="later")]


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (1, 2, 3, 0), (3, 2, 1, 0), (1, 0, 3, 2)], ids=str)
@pytest.mark.parametrize("cut", [0, 1, 2, 3, 4])
def test_a_snooze_is_named_before_a_full_cap_whatever_the_order_or_the_merge(order: tuple[int, ...], cut: int) -> None:
    """tester50 F2: the not-now of a call and the contact cap both hold. The customer's own answer is the reason
    (``not_now``, as the push channels' WITHDRAW says), not the cap: also when the events came to two customers
    identity merged later (before, the merge kept the later update, a presentation, and lost the snooze)."""
    events = [_snooze_and_cap_events()[index] for index in order]
    left, right = customer("cus_1"), customer("cus_2")
    apply(left, *events[:cut])
    apply(right, *events[cut:])
    policy = ContactPolicy(quiet_hours=None, caps=(Cap(max=3, per=7 * 86400),))
    for person in (merge(left, right), merge(right, left)):
        state = person.offers["later"]
        assert state.status.value == "NOT_NOW" and state.snoozed_until_us == us(T0 - 3 * timedelta(hours=1)) + int(
            14 * 86400 * 1e6)
        for channel in ("WEB", "CALL_CENTER", "BRANCH"):
            chosen = choose(person, [offer("later"), offer("fibre")], channel, T0, "UTC", policy)
            assert dict((o.offer_id, r) for o, r in chosen.suppressed)["later"] is Suppression.SNOOZED
            assert not fits(person, offer("later"), T0)  # the push channels withdraw it NOT_NOW
