"""What the screen pop says about an identifier two customers under review share (tester8's findings 8 and 10).

Finding 8: Nina (web, the family phone) and a counter visit with another account, the same phone and only her surname
went to review; the operator rejected it ("mother and son"), and the phone's lookup said nothing: the two customers
kept apart share it, and the agent must ask who is calling, as after a refusal. The customer of the visit claims
nothing (``contest.contests``), but both screen pops name the two (``customer_steps.noted``).
Finding 10: ``"people": 1`` beside two customer ids and ``"people": 3`` beside two read as contradictions: the
hint's counts come from the list it gives (``pop_hints.shared_hint``).
"""

from __future__ import annotations

import pytest

from bus.serde import Event
from processors.identity.review import decision, open_reviews
from processors.identity.web import shared_hint
from tests.processors.identity.support import Harness, observed
from tests.processors.identity.support import matcher_settings as settings
from tests.processors.identity.test_review import queued
from tests.processors.identity.test_web_household import lookup

PHONE, NINA, SON = ("PHONE", "+33633333333"), ("USER_ID", "t8-nina"), ("ACCOUNT", "ACC-T8-888")


def with_traits(identifiers: list[tuple[str, str]], traits: dict[str, str], channel: str, minutes: int) -> Event:
    event = observed(identifiers, channel=channel, minutes=minutes)
    return Event(event.schema, {**event.value, "traits": traits})


@pytest.mark.parametrize("nina_first", [True, False], ids=["Nina first", "the visit first"])
def test_after_a_rejected_review_the_phone_names_both_customers_on_both_screen_pops(nina_first: bool) -> None:
    h = Harness(settings(default_region="FR"))
    nina = with_traits([NINA, PHONE], {"given_name": "Nina", "family_name": "Petit"}, "WEB", 0)
    visit = with_traits([SON, PHONE], {"family_name": "Petit"}, "BRANCH", 1)
    for event in (nina, visit) if nina_first else (visit, nina):
        h.feed(event)
    ninas, sons = h.customer(*NINA), h.customer(*SON)
    assert ninas != sons
    (review,) = open_reviews(queued(h))
    pending = lookup(h, *PHONE)["shared_identifier"]
    assert pending is not None and set(pending["customer_ids"]) == {ninas, sons}  # kept apart while under review

    send, record = decision(review, accept=False, operator="ops-7", reason="different people: mother and son",
                            command_id="c-1")
    h.local.submit([send])
    h.local.decisions.append(record)
    h.local.run()
    assert (h.customer(*NINA), h.customer(*SON)) == (ninas, sons)
    found = lookup(h, *PHONE)
    hint = found["shared_identifier"]
    assert hint is not None and set(hint["customer_ids"]) == {ninas, sons} and hint["people"] == 2
    assert "ask who is calling" in hint["note"] or "kept by customer" in hint["note"]
    keeper, other = (ninas, sons) if found["customer_id"] == ninas else (sons, ninas)
    assert hint["kept_by"] == keeper
    (others_hint,) = [item for item in lookup(h, *(SON if other == sons else NINA))["shared_identifiers"]
                      if item["type"] == "PHONE"]
    assert set(others_hint["customer_ids"]) == {ninas, sons}
    h.local.check_consistent()


@pytest.mark.parametrize(("people", "customers", "total", "without", "says"), [
    # an alias between two users' customers, refused by the one-user-id limit: two customers, evidence of one
    (1, ["cus_a", "cus_b"], 2, 0, "on the records of 2 customers kept apart (customers cus_a, cus_b)"),
    # the Durand phone after an unknown caller "Zoe": three people, two of them with a customer
    (3, ["cus_a", "cus_b"], 3, 1, "used by 3 people (customers cus_a, cus_b and 1 without a customer of their own"),
    (2, ["cus_a", "cus_b"], 2, 0, "used by 2 people (customers cus_a, cus_b)"),
    # a customer made by a call with nothing else, under review: more customers than the evidence tells apart
    (2, ["cus_a", "cus_b", "cus_c"], 3, 0, "their events show 2 people: some of these customers may be one person"),
])
def test_the_hints_people_are_the_customers_it_lists_plus_those_without_one(
        people: int, customers: list[str], total: int, without: int, says: str) -> None:
    hint = shared_hint("PHONE", "+33*****5678", shared=False, people=people, customer_ids=customers,
                       kept_by="cus_a", this_customer="cus_a")
    assert hint is not None
    assert (hint["people"], hint["without_customer"]) == (total, without)
    assert hint["people"] == len(hint["customer_ids"]) + hint["without_customer"]
    assert says in hint["note"]
