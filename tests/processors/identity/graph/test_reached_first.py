"""An event the limit of one refuses at an offer goes to the side that reached its identifiers first (#8 point 5,
``met_first._reached_first``).

Bench draw 413 cut down to four calls: ``{x0, e0}`` t0, ``{x0, u-1, e1}`` t1, ``{u-2}`` t2, ``{x1, u-2, e0}`` t3. In
time order u-1's event joins the t0 customer through x0, and u-2's event, reaching it later through e0, is refused by
the limit of one (two user ids): u-2 keeps x1 only. Arriving 3, 1, 2, 0 the t0 event comes last and meets u-2's
customer (holding e0) and u-1's (holding x0) at once; the offer between them is refused by the limit, and the event
went to the side it reached first by arrival, u-2's, taking x0 from u-1. Now the event goes to the side that holds
one of its identifiers ranked before every one the other side holds (u-1's x0 at t1, before e0 at t3), where that
rank is an applied event's and the first side's user id ranks before what it holds of the event. 2192 is the same
kind; in 2775 u-1's side already existed before the event (``{x0, u-1, e0}`` t0, the event ``{x2, e1}`` t1) and
reached it after u-0's side did. Measured: ``tests/bench/results/identity_email_order.md``.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.processors.identity.graph.test_customer_merge_order import clusters, identify

E, F = "e0@example.org", "e1@example.org"

# Bench draws cut down to four calls (seed: calls at minutes 0-3), each with the time-order customers.
DRAWS: dict[int, tuple[list[dict[str, Any]], set[frozenset[str]]]] = {
    413: ([identify(anonymousId="x0", email=E), identify(anonymousId="x0", userId="u-1", email=F),
           identify(userId="u-2"), identify(anonymousId="x1", userId="u-2", email=E)],
          {frozenset({"ANONYMOUS_ID:x0", f"EMAIL:{E}", f"EMAIL:{F}", "USER_ID:u-1"}),
           frozenset({"ANONYMOUS_ID:x1", "USER_ID:u-2"})}),
    2192: ([identify(anonymousId="x0", email=F), identify(anonymousId="x0", userId="u-2"),
            identify(userId="u-0", email=E), identify(anonymousId="x2", userId="u-0", email=F)],
           {frozenset({"ANONYMOUS_ID:x0", f"EMAIL:{F}", "USER_ID:u-2"}),
            frozenset({"ANONYMOUS_ID:x2", f"EMAIL:{E}", "USER_ID:u-0"})}),
    2775: ([identify(anonymousId="x0", userId="u-1", email=E), identify(anonymousId="x2", email=F),
            identify(anonymousId="x2", userId="u-0"), identify(anonymousId="x1", userId="u-1", email=F)],
           {frozenset({"ANONYMOUS_ID:x0", "ANONYMOUS_ID:x1", f"EMAIL:{E}", "USER_ID:u-1"}),
            frozenset({"ANONYMOUS_ID:x2", f"EMAIL:{F}", "USER_ID:u-0"})}),
}


@pytest.mark.parametrize("seed", sorted(DRAWS))
def test_in_time_order_the_side_that_reached_the_event_first_keeps_it(seed: int) -> None:
    """The time-order customers: the event's identifiers stay with the user whose side reached them first."""
    calls, expected = DRAWS[seed]
    assert clusters(calls, (0, 1, 2, 3)) == expected


@pytest.mark.parametrize("seed", sorted(DRAWS))
def test_every_order_gives_the_time_order_customers(seed: int) -> None:
    """Every order of the four calls, settled one by one (24 orders)."""
    calls, expected = DRAWS[seed]
    for order in itertools.permutations(range(len(calls))):
        assert clusters(calls, order) == expected, order


@pytest.mark.parametrize("seed", [413, 2192])
def test_every_order_interleaved_on_three_partitions_gives_the_time_order_customers(seed: int) -> None:
    """Every order of the four calls on 3 partitions with messages interleaved (two interleavings)."""
    calls, expected = DRAWS[seed]
    for interleave in (3, 11):
        for order in itertools.permutations(range(len(calls))):
            assert clusters(calls, order, partitions=3, seed=interleave) == expected, (interleave, order)
