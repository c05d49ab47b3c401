"""Two browsers of one e-mail, a login between them, in every arrival order (issue #8 point 5, ``graph/holders.py``
``browsers``).

Bench draw 1859 cut to three identifies: A ``{x0, e0}`` t0, B ``{x2, u-0, e0}`` t1, C ``{x1, e0}`` t2. In time order
B's join at A's customer is weighed (``u-0`` planned before ``e0``), a review, and C joins A's customer unweighed (no
member planned before ``e0``): ``{x0, x1, e0}``, ``{x2, u-0}``. Arriving B, A, C or B, C, A, C's join was weighed
against B's login, a review, and once A's claim took ``e0`` the holders' pair of A's customer and C's (proposed by
``e0``) was weighed as two people's, a review again: C stayed apart. Now a holders' pair holding nothing planned before
the identifier both carried, one of them keeping it, merges (time order's unweighed join). Arriving B, C, A, the pair
was weighed while A's claim of ``e0`` was on its way; now the e-mail's new owner is proposed with each customer kept
apart through it (``seek.propose_owner``, decided by the same rule alone). Two customers each kept apart from the
keeper stay apart (bench draw 2949: each met the keeper, never the other).
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
# The bench's cut forms (draw: calls at minutes 0, 1, 2), and the order on one partition still left.
FORMS: dict[str, list[dict[str, Any]]] = {
    "1859": [identify(anonymousId="x0", email=E0), identify(anonymousId="x2", userId="u-0", email=E0),
             identify(anonymousId="x1", email=E0)],
    "2321": [identify(anonymousId="x1", email=E1), identify(userId="u-0", email=E1),
             identify(anonymousId="x0", email=E1)],
    "975": [identify(anonymousId="x9", email=E0), identify(userId="u-1", email=E0),
            identify(anonymousId="x1", email=E0)],
}
GUARD = [identify(anonymousId="x0", userId="u-0", email=E0), identify(anonymousId="x1", email=E0),
         identify(anonymousId="x2", email=E0)]
LEFT = (1, 2, 0)  # C's review and A's claim of e0 cross: the holders' pair was weighed before A kept e0
ORDERS = [order for order in itertools.permutations(range(3)) if order != LEFT]


def _clusters(calls: list[dict[str, Any]], order: tuple[int, ...]) -> set[frozenset[str]]:
    return replay(segment(*calls), order).local.clusters()


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", sorted(FORMS))
def test_the_later_browser_joins_the_first_one_as_in_time_order(name: str, order: tuple[int, ...]) -> None:
    calls = FORMS[name]
    assert _clusters(calls, order) == _clusters(calls, (0, 1, 2))


@pytest.mark.parametrize(("partitions", "seed"), [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)])
@pytest.mark.parametrize("name", sorted(FORMS))
def test_the_login_first_and_the_earliest_browser_last(name: str, partitions: int, seed: int | None) -> None:
    """The holders' pair of the two browsers was weighed while A's claim of the e-mail was on its way; the e-mail's
    new owner is now proposed with each customer kept apart through it (``seek.propose_owner``)."""
    calls = FORMS[name]
    got = replay(segment(*calls), LEFT, partitions=partitions, seed=seed).local.clusters()
    assert got == _clusters(calls, (0, 1, 2))


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_two_browsers_kept_apart_from_a_login_stay_apart(order: tuple[int, ...]) -> None:
    assert _clusters(GUARD, order) == _clusters(GUARD, (0, 1, 2))
    assert len(_clusters(GUARD, order)) == 3


@pytest.mark.parametrize("seed", [827, 1859, 2321, 2949])
def test_bench_draws_agree(seed: int) -> None:
    assert not differs(seed)
