"""Issue #8: a housemate's event that carries the household's identifier and a personal one.

The saga plans an event's identifiers by priority (equal priorities in key order). When the household
identifier comes first, the event reaches its owner before its new personal identifier is planned; that
identifier must not join the owner unweighed (``customer_node.on_join``): Bob's personal e-mail never ends on
Ann's customer, whichever identifier is planned first, with or without ``shared_after``, in any order.
"""

from __future__ import annotations

import random

import pytest

from bus.serde import Event
from processors.identity.graph.outputs import Refused, Resolved
from processors.identity.rules import MATCH_WEIGHT
from tests.processors.identity.graph.test_evidence import ANN, BOB
from tests.processors.identity.support import Harness, envelope, ident
from tests.processors.identity.support import matcher_settings as settings

ANN_PHONE = ("PHONE", "+33612345678")
FAMILY_EMAIL = ("EMAIL", "family@example.org")
FAMILY_PHONE = ("PHONE", "+33600000001")
# (household identifier, Bob's personal one): planned household first (higher priority, or the same
# priority and a smaller key) and personal first.
CASES = {
    "e-mail, household planned first": (FAMILY_EMAIL, ("EMAIL", "zbob@example.org")),
    "e-mail, personal planned first": (FAMILY_EMAIL, ("EMAIL", "bob@example.org")),
    "household e-mail, personal phone": (FAMILY_EMAIL, ("PHONE", "+33698765432")),
    "household phone, personal e-mail": (FAMILY_PHONE, ("EMAIL", "bob@example.org")),
}
SHARED_AFTER = {"default": {}, "shared after one": {"shared_after": {"EMAIL": 1, "PHONE": 1}}}


def event(identifiers: list[tuple[str, str]], traits: dict[str, str], minutes: int) -> Event:
    return Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("WEB", minutes=minutes), "identifiers": [ident(k, v) for k, v in identifiers],
        "traits": traits,
    })


def household(h: Harness, household_id: tuple[str, str], personal: tuple[str, str], *,
              bob_first: bool = False, settle: bool = True) -> tuple[Event, Event]:
    """Ann (the earlier event) with the household identifier and her phone; Bob with it and his own
    (``bob_first``: listed first in his event; the plan orders by priority and key, not by listing)."""
    ann = event([household_id, ANN_PHONE], ANN, 0)
    bob = event([household_id, personal] if not bob_first else [personal, household_id], BOB, 1)
    for item in (ann, bob):
        h.feed(item, topic="identity.observed.v1", settle=settle)
    h.local.run()
    return ann, bob


def resolved_to(h: Harness, item: Event) -> set[str]:
    return {r.customer_id for r in h.decisions(Resolved) if r.triggering_event_id == item.value["envelope"]["event_id"]}


@pytest.mark.parametrize("limits", SHARED_AFTER.values(), ids=SHARED_AFTER.keys())
@pytest.mark.parametrize(("household_id", "personal"), CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("bob_first", [False, True], ids=["household listed first", "personal listed first"])
def test_a_housemates_personal_identifier_never_joins_the_owner_of_the_household_one(
        household_id: tuple[str, str], personal: tuple[str, str], limits: dict[str, object], bob_first: bool) -> None:
    h = Harness(settings(**limits))
    _, bob = household(h, household_id, personal, bob_first=bob_first)
    ann, bobs = h.customer(*ANN_PHONE), h.customer(*personal)
    assert ann is not None and bobs is not None and ann != bobs
    assert h.customer(*household_id) != bobs or limits  # the family identifier stays with Ann (or nobody)
    assert resolved_to(h, bob) == {bobs}  # Bob's contact is on Bob's screen pop, not Ann's
    if not limits:
        assert any(r.lineage.rule == MATCH_WEIGHT for r in h.decisions(Refused))
    h.local.check_consistent()


def test_the_same_person_adding_a_personal_e_mail_through_the_household_one_still_joins() -> None:
    """Ann's own second e-mail, arriving with the family e-mail and her traits, joins her (nothing refused)."""
    h = Harness(settings())
    h.feed(event([FAMILY_EMAIL, ANN_PHONE], ANN, 0), topic="identity.observed.v1")
    h.feed(event([FAMILY_EMAIL, ("EMAIL", "zann@example.org")], {**ANN, "given_name": "Anne"}, 1),
           topic="identity.observed.v1")
    assert h.customer(*ANN_PHONE) == h.customer("EMAIL", "zann@example.org")
    assert not h.decisions(Refused)


def test_without_traits_a_new_identifier_still_joins_the_owner() -> None:
    """Nothing to weigh: the event's new identifier joins the customer it reached, as before."""
    h = Harness(settings())
    h.observe(FAMILY_EMAIL, ANN_PHONE)
    h.observe(FAMILY_EMAIL, ("EMAIL", "zbob@example.org"), minutes=1)
    assert h.customer(*ANN_PHONE) == h.customer("EMAIL", "zbob@example.org")


@pytest.mark.parametrize("partitions", [5, 12])
@pytest.mark.parametrize("seed", range(4))
def test_shuffled_across_partitions_bobs_e_mail_never_ends_on_anns_customer(partitions: int, seed: int) -> None:
    rng = random.Random(seed)
    name = rng.choice(sorted(CASES))
    household_id, personal = CASES[name]
    h = Harness(settings(**rng.choice(list(SHARED_AFTER.values()))), partitions=partitions, seed=seed,
                duplicates=0.2)
    household(h, household_id, personal, bob_first=rng.random() < 0.5, settle=False)
    assert h.customer(*ANN_PHONE) != h.customer(*personal), name
    h.local.check_consistent()


def test_one_persons_swapped_misspelt_names_with_the_same_birth_date_still_join() -> None:
    """From the quality bench: the given name is refused (a veto), but the birth date agrees: one person,
    whose new e-mail joins the user id's customer and leaves no identifier reserved."""
    alix = {"given_name": "alix", "family_name": "barthelemy", "birth_date": "1952-09-09",
            "address_line": "ch de carre", "postcode": "67527"}
    h = Harness(settings())
    h.feed(event([("USER_ID", "u-2046"), ("EMAIL", "alixbarthelmy@tele2.fr"), ANN_PHONE], alix, 0),
           topic="identity.observed.v1")
    h.feed(event([("USER_ID", "u-2046"), ("EMAIL", "alixbarthelemy@tele2.fr")],
                 {**alix, "given_name": "bathelemy", "family_name": "alix"}, 1), topic="identity.observed.v1")
    assert h.customer("USER_ID", "u-2046") == h.customer("EMAIL", "alixbarthelemy@tele2.fr")
    h.local.check_consistent()
