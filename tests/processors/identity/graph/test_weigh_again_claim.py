"""``weigh_again.claimed_away``: an event that joined a customer through an e-mail alone, unweighed, is weighed again
when a claim takes the e-mail to an earlier event's customer (issue #8 point 5, the order bench's "one user id, three
calls" kind; branch order24).

Bench draw 2949 cut to three calls: A ``{x0, u-0, e}`` t0, B ``{x1, e}`` t1, C ``{x2, e}`` t2. In time order B and C
each meet A's customer through ``e``; ``u-0`` is planned before the e-mail, so each is weighed (no traits: the e-mail
alone, a review) and kept apart. Arriving B, C, A, C joined B's customer unweighed (no login there), and A's claim of
``e`` left ``x1`` and ``x2`` on one customer. Draw 1728 cut is the same with A a login alone (``{u-0, e}``; the full
draw 1728 still differs, by another of its events).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from processors.identity.graph.outputs import ReviewRequested
from tests.bench.identity_email_order import differs
from tests.processors.identity.graph.test_alias import segment
from tests.processors.identity.graph.test_shared_browser import replay

E = "e@example.org"


def identify(**fields: Any) -> dict[str, Any]:
    return {"type": "identify", **fields, "traits": {"email": E}}


CLAIMED_AWAY: dict[int, list[dict[str, Any]]] = {
    2949: [identify(anonymousId="x0", userId="u-0"), identify(anonymousId="x1"), identify(anonymousId="x2")],
    1728: [identify(userId="u-0"), identify(anonymousId="x0"), identify(anonymousId="x1")],
}


@pytest.mark.parametrize("seed", sorted(CLAIMED_AWAY))
@pytest.mark.parametrize(("partitions", "interleave"), [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)])
def test_a_join_through_an_e_mail_a_login_claims_is_kept_apart_as_in_time_order(seed: int, partitions: int,
                                                                                interleave: int | None) -> None:
    """Every order on 1 partition and on 3 interleaved: the customers of time order (each browser apart)."""
    calls = CLAIMED_AWAY[seed]
    events = segment(*calls)
    expected = replay(events, range(len(events))).local.clusters()
    assert len(expected) == 3
    for order in itertools.permutations(range(len(calls))):
        h = replay(events, order, partitions=partitions, seed=interleave)
        assert h.local.clusters() == expected, order


@pytest.mark.parametrize("order", [(1, 2, 0), (2, 1, 0)])
def test_the_browser_that_joined_through_the_claimed_e_mail_is_announced_for_review(order: tuple[int, ...]) -> None:
    """Kept apart by weight, as in time order: a review of the browser with the login's customer is requested."""
    h = replay(segment(*CLAIMED_AWAY[2949]), order)
    reviewed = {frozenset(review.identifiers) for review in h.decisions(ReviewRequested)}
    assert any("ANONYMOUS_ID:x2" in pair or "ANONYMOUS_ID:x1" in pair for pair in reviewed), reviewed


# Bench draws (seeds 0-3499, ``tests/bench/results/identity_email_order.md``, branch order24) that differed before
# and agree with the rule.
CLAIMED_AWAY_DRAWS = [517, 1365, 1515, 2046, 2269, 2949]


@pytest.mark.parametrize("seed", CLAIMED_AWAY_DRAWS)
def test_bench_draws_where_a_claim_took_the_joining_e_mail_agree(seed: int) -> None:
    """The bench's three replays of draw ``seed`` give the same customers."""
    assert not differs(seed)
