"""``customer_merge.on_offer`` keeps an e-mail with its earliest event's customer under review, as ``on_join`` does
(#8 point 5, "order independence where rules decide": three-event bridges of ``tests/bench/identity_email_order.py``).

A user's identify A = ``{userId u, email e}`` comes first, a browser's identify B = ``{anonymousId x9, email e}``
later, and a third event C tells more of the user (``{anonymousId x1, userId u}``). In time order B meets the user's
customer through the e-mail: weighed (no trait on either side, no person field agrees: review), B's anonymous id is
kept apart and the e-mail stays with the user. When B and C arrive before A, B's customer holds the e-mail and C's
holds the user id; A then links the two (an ``offer``), the same review keeps them apart, and before, nothing claimed
the e-mail for A's side: it stayed with the browser, so the clusters depended on arrival. Now a review with no traits
on either side lets the earliest event's side claim the identifier in an ``offer`` as in a ``join``
(``contest.claims_on``).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.identity.graph.outputs import ReviewRequested
from tests.processors.identity.graph.test_alias import segment
from tests.processors.identity.graph.test_shared_browser import replay

E, F = "e0@example.org", "e1@example.org"


def identify(**fields: Any) -> dict[str, Any]:
    """A Segment identify; ``email`` goes into its traits."""
    email = fields.pop("email", None)
    return {"type": "identify", **fields, **({"traits": {"email": email}} if email else {})}


# The minimal draws of the bench this fixes (seed: calls at minutes 0, 1, 2): the user's side and the browser's
# share an e-mail; the user's event that carries it is earlier than the browser's.
BRIDGES: dict[int, list[dict[str, Any]]] = {
    23: [identify(anonymousId="x1", userId="u-0"), identify(userId="u-0", email=F), identify(anonymousId="x9", email=F)],
    30: [identify(anonymousId="x0", userId="u-1", email=F), identify(anonymousId="x1", email=F),
         identify(anonymousId="x0", userId="u-1", email=E)],
    65: [identify(userId="u-2", email=E), identify(anonymousId="x2", email=E),
         identify(anonymousId="x0", userId="u-2", email=F)],
    68: [identify(userId="u-0", email=F), identify(anonymousId="x9", email=F),
         {"type": "alias", "previousId": "x0", "userId": "u-0"}],
    94: [identify(anonymousId="x2", userId="u-1", email=F), identify(anonymousId="x0", email=F),
         {"type": "alias", "previousId": "x1", "userId": "u-1"}],
    219: [identify(anonymousId="x2", userId="u-1", email=E), identify(anonymousId="x2", userId="u-1"),
          identify(anonymousId="x0", email=E)],
    229: [identify(userId="u-0", email=F), identify(anonymousId="x2", email=F), identify(userId="u-0", email=E)],
    241: [identify(anonymousId="x0", userId="u-0", email=E), identify(anonymousId="x9", email=E),
          identify(anonymousId="x1", userId="u-0", email=F)],
    285: [identify(anonymousId="x0", userId="u-0", email=E), identify(anonymousId="x9", email=E),
          identify(anonymousId="x1", userId="u-0")],
    328: [identify(anonymousId="x1", userId="u-1", email=E), {"type": "alias", "previousId": "x0", "userId": "u-1"},
          identify(anonymousId="x9", email=E)],
    381: [identify(anonymousId="x2", userId="u-0", email=F), identify(anonymousId="x9", email=F),
          identify(userId="u-0", email=E)],
    389: [identify(anonymousId="x2", userId="u-0", email=F), identify(anonymousId="x0", email=F),
          identify(anonymousId="x2", userId="u-0", email=F)],
}


def clusters(calls: list[dict[str, Any]], order: tuple[int, ...], partitions: int = 1,
             seed: int | None = None) -> set[frozenset[str]]:
    return replay(segment(*calls), order, partitions=partitions, seed=seed).local.clusters()


@pytest.mark.parametrize("seed", sorted(BRIDGES))
def test_the_benchs_three_event_bridges_give_the_same_customers_in_every_order(seed: int) -> None:
    """Every order of the three (settled one by one), and two shuffles interleaved on 3 partitions: the clusters of
    time order, where the browser is kept apart and the e-mail stays with the user (all 12 differed before)."""
    calls = BRIDGES[seed]
    expected = clusters(calls, (0, 1, 2))
    browser = next(call["anonymousId"] for call in calls if set(call) == {"type", "anonymousId", "traits"})
    assert frozenset({f"ANONYMOUS_ID:{browser}"}) in expected  # the browser is the one kept apart
    for order in itertools.permutations(range(len(segment(*calls)))):
        assert clusters(calls, order) == expected, order
    for interleave in (3, 11):
        assert clusters(calls, (2, 1, 0), partitions=3, seed=interleave) == expected


def test_the_pair_is_still_one_review_whichever_path_weighs_it() -> None:
    """A's offer (B and C first) and B's join (time order) weigh the same pair: one review each, nothing merged."""
    calls = BRIDGES[23]
    for order in ((0, 1, 2), (0, 2, 1), (2, 0, 1)):
        h = replay(segment(*calls), order)
        assert len(h.decisions(ReviewRequested)) == 1, order


def test_a_browser_with_traits_under_review_claims_nothing_in_an_offer() -> None:
    """The rule reads only pairs nothing but identifiers tells apart: with traits on a side, a review claims as
    before (``contest.contests``: only when the event tells its person apart)."""
    traits = {"firstName": "Ann", "lastName": "Leroy"}
    calls = [identify(anonymousId="x1", userId="u-0"), identify(userId="u-0", email=F),
             {"type": "identify", "anonymousId": "x9", "traits": {"email": F, **traits}}]
    a, b = clusters(calls, (0, 1, 2)), clusters(calls, (0, 2, 1))
    assert frozenset({"ANONYMOUS_ID:x1", "USER_ID:u-0"}) <= set().union(*a)
    assert set().union(*a) == set().union(*b)


USERS, BROWSERS = ("u-0", "u-1"), ("x0", "x1", "x2")


@st.composite
def bridges(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A user's event with an e-mail, a later browser's event with it, and one more event of the user (its user id or
    its anonymous id, perhaps a second e-mail, or an alias of another anonymous id) at any minute."""
    user, email = draw(st.sampled_from(USERS)), draw(st.sampled_from((E, F)))
    mine, browser, other = draw(st.permutations(BROWSERS))
    first = identify(userId=user, email=email, **({"anonymousId": mine} if draw(st.booleans()) else {}))
    later = identify(anonymousId=browser, email=email)
    more = draw(st.sampled_from([
        identify(userId=user, anonymousId=other),
        identify(userId=user, email=E if email == F else F),
        identify(userId=user, anonymousId=other, email=E if email == F else F),
        {"type": "alias", "previousId": other, "userId": user},
        identify(userId=user, anonymousId=mine, email=email),
    ]))
    at = draw(st.integers(0, 2))  # where the user's third event falls in time
    calls = [first, later]
    calls.insert(at, more)
    return calls


@settings(max_examples=60, deadline=None)
@given(bridges(), st.permutations(range(3)))
def test_by_property_a_users_earlier_event_keeps_the_e_mail_in_any_order(calls: list[dict[str, Any]],
                                                                          order: list[int]) -> None:
    events = segment(*calls)
    assert len(events) == 3
    assert clusters(calls, tuple(order)) == clusters(calls, (0, 1, 2))
