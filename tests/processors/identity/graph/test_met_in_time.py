"""An event the limit of one refuses between two users' customers goes to the side it met in time order (#8 point 5,
``graph/met_in_time.py``).

Bench draws cut to four calls, each a user-less anonymous visitor's event ``{x, e}`` and two users' logins, one through
the anonymous id, one with the e-mail. Arriving after both logins, the event reached the e-mail's customer first (its
highest-priority identifier) and was refused there by the limit towards the other user's customer, then claimed the
anonymous id for the e-mail's side: decided by arrival. By rank:

* the other user's customer held the anonymous id before the event (draws 207, 985, 1330, 1954, 2005): in time order
  the event joined it, and the later login with the e-mail was refused by the limit of one;
* the e-mail's user met the anonymous visitor's customer later than the event, or held the e-mail before it, and the
  matcher weighs the pair at 3.9 bits (draws 878, 1703): in time order they were kept apart for a review, and the
  other user joined the anonymous visitor's customer later.

Measured: ``tests/bench/results/identity_email_order.md`` (branch order19).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from processors.identity.graph.outputs import ReviewRequested
from processors.identity.graph.state import CustomerState
from processors.identity.rules import MATCH_REVIEW
from tests.processors.identity.graph.test_alias import segment
from tests.processors.identity.graph.test_customer_merge_order import clusters, identify
from tests.processors.identity.graph.test_shared_browser import replay

E, F = "e0@example.org", "e1@example.org"


def _customers(*groups: tuple[str, ...]) -> set[frozenset[str]]:
    """Customers as ``TYPE:value`` sets from short names (``x``: anonymous id, ``u-``: user id, else an e-mail)."""
    def key(name: str) -> str:
        return (f"ANONYMOUS_ID:{name}" if name.startswith("x") else f"USER_ID:{name}" if name.startswith("u-")
                else f"EMAIL:{name}")
    return {frozenset(key(name) for name in group) for group in groups}


# Bench draws cut to four calls (seed: calls at minutes 0-3, the time-order customers).
JOINED: dict[int, tuple[list[dict[str, Any]], set[frozenset[str]]]] = {
    207: ([identify(anonymousId="x0", userId="u-0"), identify(anonymousId="x0", email=E), identify(userId="u-1"),
           identify(userId="u-1", email=E)], _customers(("x0", "u-0", E), ("u-1",))),
    985: ([identify(anonymousId="x0", userId="u-1"), identify(anonymousId="x0", email=F), identify(userId="u-2"),
           identify(userId="u-2", email=F)], _customers(("x0", "u-1", F), ("u-2",))),
    1330: ([identify(anonymousId="x0", userId="u-0"), identify(anonymousId="x0", email=E), identify(userId="u-2"),
            identify(userId="u-2", email=E)], _customers(("x0", "u-0", E), ("u-2",))),
    1954: ([identify(userId="u-0"), identify(anonymousId="x1", userId="u-2"), identify(anonymousId="x1", email=E),
            identify(userId="u-0", email=E)], _customers(("x1", "u-2", E), ("u-0",))),
    2005: ([identify(anonymousId="x1", userId="u-2"), identify(userId="u-1"), identify(anonymousId="x1", email=E),
            identify(userId="u-1", email=E)], _customers(("x1", "u-2", E), ("u-1",))),
}
REVIEWED: dict[int, tuple[list[dict[str, Any]], set[frozenset[str]]]] = {
    878: ([identify(userId="u-0"), identify(anonymousId="x1", email=E), identify(userId="u-0", email=E),
           identify(anonymousId="x1", userId="u-1")], _customers(("x1", "u-1", E), ("u-0",))),
    1703: ([identify(userId="u-1"), identify(userId="u-0", email=F), identify(anonymousId="x0", email=F),
            identify(anonymousId="x0", userId="u-1")], _customers(("u-0", F), ("x0", "u-1"))),
}
DRAWS = JOINED | REVIEWED
# Every order settled one by one (6 of the 24 differed before), and on 3 partitions with messages interleaved.
REPLAYS = [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)]


@pytest.mark.parametrize(("partitions", "interleave"), REPLAYS)
@pytest.mark.parametrize("seed", sorted(DRAWS))
def test_every_order_gives_the_time_order_customers(seed: int, partitions: int, interleave: int | None) -> None:
    calls, expected = DRAWS[seed]
    assert clusters(calls, tuple(range(len(calls)))) == expected
    for order in itertools.permutations(range(len(calls))):
        assert clusters(calls, order, partitions=partitions, seed=interleave) == expected, order


def _reviews(calls: list[dict[str, Any]], order: tuple[int, ...]) -> list[set[str]]:
    """The review requests of a replay in ``order`` (1 partition), each as the set of customers' members it names:
    the customer ids differ by order, what they hold at the end does not."""
    local = replay(segment(*calls), order).local
    roots = local.roots()

    def held(customer: str) -> set[str]:
        while customer not in roots:  # merged since: its survivor's
            state = local.store.nodes[customer]
            assert isinstance(state, CustomerState) and state.parent
            customer = state.parent
        return set(roots[customer].members)

    return [held(decision.customer_id) | held(decision.other_customer_id) for decision in local.decisions
            if isinstance(decision, ReviewRequested) and decision.lineage.rule == MATCH_REVIEW]


# The anonymous visitor's event and the two logins (call indexes) of each draw.
VISITOR_AND_LOGINS = {207: (1, 0, 3), 985: (1, 0, 3), 1330: (1, 0, 3), 1954: (2, 1, 3), 2005: (2, 0, 3),
                      878: (1, 2, 3), 1703: (2, 1, 3)}


def _visitor_last(seed: int) -> list[tuple[int, ...]]:
    """The orders of draw ``seed`` in which the anonymous visitor's event arrives after both logins (8 of 24)."""
    visitor, *logins = VISITOR_AND_LOGINS[seed]
    return [order for order in itertools.permutations(range(4))
            if all(order.index(visitor) > order.index(login) for login in logins)]


@pytest.mark.parametrize("seed", sorted(REVIEWED))
def test_the_pair_time_order_reviews_is_reviewed_where_the_visitor_comes_last(seed: int) -> None:
    """One review of the two users' customers in every order where the anonymous visitor's event arrives after both
    logins (before: the limit's refusal only). Not covered: the other user's login joining the visitor's customer
    before the first login arrives (8 of the 24 orders): the clusters agree, the limit refuses without a review."""
    calls, expected = REVIEWED[seed]
    for order in _visitor_last(seed):
        assert _reviews(calls, order) == [set().union(*expected)], order


@pytest.mark.parametrize("seed", sorted(JOINED))
def test_a_limit_refusal_asks_no_review_where_the_visitor_comes_last(seed: int) -> None:
    """Time order refuses the later login by the limit of one: no review where the visitor's event arrives after
    both logins either. Not covered: the anonymous id's holder arriving after the login with the e-mail met the
    visitor's customer alone (a review there, where time order has the limit's refusal)."""
    calls, _ = JOINED[seed]
    for order in _visitor_last(seed):
        assert _reviews(calls, order) == [], order


# Bench draws cut to four calls where the e-mail's user id ranks with the e-mail (its login brought it, after the
# visitor's event) and the other user's customer held the anonymous id before the event (``met_in_time._user_before``:
# the event's visit lowered the e-mail from the login's rank, so no earlier event of that user had brought it).
LOGIN_BROUGHT_IT: dict[int, tuple[list[dict[str, Any]], set[frozenset[str]]]] = {
    1503: ([identify(anonymousId="x0", userId="u-0"), identify(anonymousId="x0", email=E),
            identify(anonymousId="x2", userId="u-2", email=E), identify(userId="u-0", email=F)],
           _customers(("x0", "u-0", E, F), ("x2", "u-2"))),
    2739: ([identify(anonymousId="x0", userId="u-1"), identify(anonymousId="x0", email=E),
            identify(anonymousId="x1", userId="u-0", email=E), identify(anonymousId="x1", userId="u-1", email=F)],
           _customers(("x0", "u-1", E, F), ("x1", "u-0"))),
}
# Still differs: u-1's login {x1, u-1, e1} meets u-0's customer last and claims x1 (another kind: a login's claim).
LOGIN_CLAIMS = (2739, (0, 3, 2, 1), 3, 5)


@pytest.mark.parametrize(("partitions", "interleave"), REPLAYS)
@pytest.mark.parametrize("seed", sorted(LOGIN_BROUGHT_IT))
def test_where_the_login_brought_the_email_the_visitor_still_goes_to_the_side_it_met(
        seed: int, partitions: int, interleave: int | None) -> None:
    """Every order on 1 partition and on 3 interleaved: the time-order customers (18 of the 120 replays of each
    differed before: the visitor's event stayed with the e-mail's user, whose login ranked with the e-mail)."""
    calls, expected = LOGIN_BROUGHT_IT[seed]
    assert clusters(calls, tuple(range(len(calls)))) == expected
    for order in itertools.permutations(range(len(calls))):
        if (seed, order, partitions, interleave) == LOGIN_CLAIMS:
            continue
        assert clusters(calls, order, partitions=partitions, seed=interleave) == expected, order


@pytest.mark.xfail(strict=True, reason="a later login's claim of the anonymous id (not met_in_time's kind)")
def test_a_later_login_meeting_the_visitors_customer_last_keeps_off_the_anonymous_id() -> None:
    seed, order, partitions, interleave = LOGIN_CLAIMS
    calls, expected = LOGIN_BROUGHT_IT[seed]
    assert clusters(calls, order, partitions=partitions, seed=interleave) == expected
