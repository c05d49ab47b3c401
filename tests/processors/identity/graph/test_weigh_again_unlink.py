"""The members a pair proposal linked in leave for a customer no customer of the giver's tree already is
(``carried_undo._unlink``).

Order bench draw 1455 cut to four identifies: A ``{x9, e0}`` t0, B ``{x2, u-2, e1}`` t1, C ``{x2, u-0, e0}`` t2, D
``{x2, e0}`` t3. Arriving C, D, A, B on one partition, B's join unlinked ``{x9, e0}`` from the proposal's giver
(``joined_before``), the pair proposed again merged that giver into the split-off customer, and B's claim of ``x2``
then unlinked the same members again at the give (``unlinked``), for the same event: the id derived for the new
customer was the giver's own. The split moved ``x9`` and ``e0`` to a customer that already existed (``SplitInit`` to
a created customer does nothing): they left every member list while their nodes still named the giver
(``LocalGraph.check_consistent``: "owner and members disagree"). Now a second derivation names a fresh customer.
"""

from __future__ import annotations

import itertools

import pytest

from tests.processors.identity.graph.test_alias import segment
from tests.processors.identity.graph.test_customer_merge_order import identify
from tests.processors.identity.graph.test_shared_browser import replay

E0, E1 = "e0@example.org", "e1@example.org"
CALLS = [
    identify(anonymousId="x9", email=E0),
    identify(anonymousId="x2", userId="u-2", email=E1),
    identify(anonymousId="x2", userId="u-0", email=E0),
    identify(anonymousId="x2", email=E0),
]
KEYS = {
    "ANONYMOUS_ID:x9",
    "ANONYMOUS_ID:x2",
    "EMAIL:e0@example.org",
    "EMAIL:e1@example.org",
    "USER_ID:u-0",
    "USER_ID:u-2",
}


def test_the_same_members_unlinked_twice_reach_a_customer_of_their_own() -> None:
    h = replay(segment(*CALLS), (2, 3, 0, 1))  # checked consistent (``replay``)
    assert set().union(*h.local.clusters()) == KEYS


@pytest.mark.parametrize(("parts", "seed"), [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)])
def test_every_order_settles_consistent_with_every_identifier_on_a_customer(parts: int, seed: int | None) -> None:
    for order in itertools.permutations(range(4)):
        h = replay(segment(*CALLS), order, partitions=parts, seed=seed)
        assert set().union(*h.local.clusters()) == KEYS, order
