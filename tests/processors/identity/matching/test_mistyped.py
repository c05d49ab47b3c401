"""Two national IDs, everything else one person: a review, never a merge (``matching/mistyped.py``, tester21 F8)."""

from __future__ import annotations

import pytest

from processors.identity.matching.compare import Level
from processors.identity.matching.mistyped import asked_despite, vetoed_kind
from processors.identity.matching.weights import Decision
from processors.identity.rules import LinkPolicy
from tests.processors.identity.support import matcher_settings

MATCHER = LinkPolicy(matcher_settings()).matcher
ALICE = {"given_name": Level.EXACT, "family_name": Level.EXACT, "birth_date": Level.EXACT,
         "NATIONAL_ID": Level.DIFFERENT}


@pytest.mark.parametrize(("levels", "asked"), [
    ({}, True),  # the same name and birth date, nothing else: -0.9 bits
    ({"postcode": Level.EXACT}, True),  # and the same postcode: above the merge threshold, still only a review
    ({"postcode": Level.DIFFERENT}, False),  # namesakes in two postcodes: -5.5 bits, below refuse_below
    ({"given_name": Level.DIFFERENT}, False),  # twins: the given name's veto stands
    ({"birth_date": Level.DIFFERENT}, False),  # another birth date's veto stands
])
def test_a_second_national_id_is_asked_about_only_where_nothing_else_says_two_people(
        levels: dict[str, Level], asked: bool) -> None:
    score = MATCHER.weigh({**ALICE, **levels}, linked=False)  # met on traits alone (blocking): the population's prior
    assert MATCHER.decide(score) is Decision.REFUSE  # the veto: never merged
    assert vetoed_kind(MATCHER, score) == "NATIONAL_ID"  # the first veto (match_vetoes' order); the others below
    assert asked_despite(MATCHER, score, "NATIONAL_ID") is asked
    if not levels:
        assert round(score.weight, 1) == -0.9


def test_a_second_user_id_is_not_asked_about() -> None:
    """Two logins with the same traits: refused and announced as before (``graph/test_evidence.py``), no review."""
    levels = {**ALICE, "NATIONAL_ID": Level.MISSING, "USER_ID": Level.DIFFERENT}
    assert not asked_despite(MATCHER, MATCHER.weigh(levels, linked=False), "USER_ID")
