"""A later browser event that repeats the pair its login's join split, in every arrival order (issue #8 point 5,
``graph/came_with.py`` ``carried``, ``weigh_again.unlinked``).

Bench draw 153 cut to three identifies: A ``{x9, e0}`` t0, B ``{x1, u-0, e0}`` t1, C ``{x1, e0}`` t2. In time order
B's join at A's customer is weighed (``u-0`` planned before ``e0``), a review, and C meets ``x1``'s customer and
``e0``'s in an offer, ``x1`` on both sides: one customer. Arriving B, C, A, C was applied to B's customer with nothing
new, and A's claim of ``e0`` left ``{x1, u-0}`` apart. Now C's apply notes the pair it met there and A's claim
proposes it again (at a giver holding a user id). A proposal so made is undone when a still earlier event claims the
giver's member (draw 3421's cut: ``x9`` stayed with ``u-1`` after the earlier login took ``x1`` and ``e0``).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.bench.identity_email_order import differs
from tests.processors.identity.graph.test_alias import segment
from tests.processors.identity.graph.test_customer_merge_order import identify
from tests.processors.identity.graph.test_shared_browser import replay

E0, E1 = "e0@example.org", "e1@example.org"
# The bench's cut forms (draw: calls at minutes 0, 1, 2).
FORMS: dict[str, list[dict[str, Any]]] = {
    "153": [
        identify(anonymousId="x9", email=E0),
        identify(anonymousId="x1", userId="u-0", email=E0),
        identify(anonymousId="x1", email=E0),
    ],
    "1728": [
        identify(anonymousId="x0", email=E0),
        identify(anonymousId="x1", userId="u-1", email=E0),
        identify(anonymousId="x1", email=E0),
    ],
    "1991": [
        identify(anonymousId="x1", userId="u-0", email=E1),
        identify(anonymousId="x9", email=E1),
        identify(anonymousId="x9", email=E1),
    ],
    "47": [
        identify(anonymousId="x2", email=E0),
        identify(anonymousId="x0", userId="u-0", email=E0),
        identify(anonymousId="x0", email=E0),
    ],
    "2434": [
        identify(anonymousId="x2", userId="u-1", email=E0),
        identify(anonymousId="x0", email=E0),
        identify(anonymousId="x0", email=E0),
    ],
    "1299": [
        identify(userId="u-1", email=E1),
        identify(anonymousId="x9", email=E1),
        identify(anonymousId="x9", email=E1),
    ],
}
# Left (strict xfails): the repeat first (2, 1, 0), the earlier event's claim then finds nothing noted; and where the
# giver holds no user id (1991, 2434, 1299: no proposal, ``came_with._holds_one``; bench draw 540 wants the guard).
_LOGIN_FIRST = [
    (1, None, (1, 2, 0)),
    (1, None, (2, 1, 0)),
    (3, 3, (1, 0, 2)),
    (3, 3, (1, 2, 0)),
    (3, 3, (2, 1, 0)),
    (3, 5, (1, 0, 2)),
    (3, 5, (1, 2, 0)),
    (3, 5, (2, 1, 0)),
    (3, 7, (1, 0, 2)),
    (3, 7, (1, 2, 0)),
    (3, 7, (2, 0, 1)),
    (3, 7, (2, 1, 0)),
    (3, 11, (1, 0, 2)),
    (3, 11, (1, 2, 0)),
    (3, 11, (2, 1, 0)),
]
LEFT: dict[str, list[tuple[int, int | None, tuple[int, ...]]]] = {
    "153": [(1, None, (2, 1, 0)), (3, 3, (2, 1, 0)), (3, 11, (2, 1, 0))],
    "1728": [(1, None, (2, 1, 0)), (3, 3, (2, 1, 0)), (3, 7, (2, 1, 0)), (3, 11, (2, 1, 0))],
    "1991": _LOGIN_FIRST,
    "47": [
        (1, None, (2, 1, 0)),
        (3, 3, (2, 1, 0)),
        (3, 5, (2, 1, 0)),
        (3, 7, (2, 0, 1)),
        (3, 7, (2, 1, 0)),
        (3, 11, (2, 1, 0)),
    ],
    "2434": _LOGIN_FIRST,
    "1299": [
        (1, None, (1, 2, 0)),
        (1, None, (2, 1, 0)),
        (3, 3, (1, 0, 2)),
        (3, 3, (1, 2, 0)),
        (3, 5, (1, 0, 2)),
        (3, 5, (1, 2, 0)),
        (3, 5, (2, 1, 0)),
        (3, 7, (1, 0, 2)),
        (3, 7, (1, 2, 0)),
        (3, 11, (1, 2, 0)),
        (3, 11, (2, 1, 0)),
    ],
}
PLACES: list[tuple[int, int | None]] = [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)]
REPLAYS = [
    pytest.param(
        name,
        parts,
        seed,
        order,
        marks=[
            pytest.mark.xfail(
                strict=True,
                reason="the repeat arrives first, or the giver holds no user id (the order bench's results file)",
            )
        ]
        if (parts, seed, order) in LEFT[name]
        else [],
    )
    for name in sorted(FORMS)
    for parts, seed in PLACES
    for order in itertools.permutations(range(3))
]
# Draw 3421's cut without its page view: t4 repeats t3's pair; t2's claim of e0 proposes it; t0, arriving last, claims
# x1 and e0, and the proposal's link of x9 to u-1 is undone (in time order x9 is a customer of its own).
UNDONE = [
    identify(anonymousId="x1", userId="u-2", email=E0),
    identify(userId="u-1", email=E1),
    identify(anonymousId="x9", email=E0),
    identify(anonymousId="x1", userId="u-1", email=E0),
    identify(anonymousId="x1", email=E0),
]


def _clusters(
    calls: list[dict[str, Any]], order: tuple[int, ...], parts: int = 1, seed: int | None = None
) -> set[frozenset[str]]:
    return replay(segment(*calls), order, partitions=parts, seed=seed).local.clusters()


@pytest.mark.parametrize(("name", "parts", "seed", "order"), REPLAYS)
def test_the_repeat_links_the_pair_as_in_time_order(
    name: str, parts: int, seed: int | None, order: tuple[int, ...]
) -> None:
    calls = FORMS[name]
    assert _clusters(calls, order, parts, seed) == _clusters(calls, (0, 1, 2))


@pytest.mark.parametrize("order", [(1, 3, 4, 2, 0), (3, 1, 4, 2, 0), (3, 4, 1, 2, 0), (3, 4, 2, 1, 0)])
def test_a_still_earlier_claim_undoes_the_proposal(order: tuple[int, ...]) -> None:
    expected = _clusters(UNDONE, tuple(range(5)))
    assert _clusters(UNDONE, order) == expected
    assert frozenset({"ANONYMOUS_ID:x9"}) in expected


@pytest.mark.parametrize("seed", [47, 153, 3421])
def test_bench_draws_agree(seed: int) -> None:
    assert not differs(seed)
