"""A decision taken again does not undo what an alias's late link linked after the event (#8 point 5): bench draw
191's minimal form (``weigh_again.aliased``).

Bench draw 191 cut to three calls: ``{x1, u-1, e0}`` t0, ``{x0, e0}`` t1, ``alias x0 -> u-1`` t2. In time order the
visitor's event t1 meets u-1's customer through e0 and is weighed (3.9 bits: kept apart for a review), then the alias
links x0's customer to u-1's (10.3 bits): one customer. Arriving t2, t1, t0, the alias waits for x0 to have an owner,
links u-1 into the visitor's customer as soon as t1 makes it, and t0 then shows that time order weighed t1
(``weigh_again._decide``): x0 left for a customer of its own, and nothing linked it back (5 of 30 replays differed).
The rule: the late link's merge settles the kept events ranked before the alias whose identifier it names and that
still rank first on it (in time order the alias linked the pair after them, weighed as an offer), as an applied
event carrying the pair settles them (``weigh_again.carried``). Branch order20 tried making the link again when the
identifier left instead (``Unweighed.aliases``) and did not land it.

Measured: ``tests/bench/results/identity_email_order.md`` (branches order20, order40).
"""

from __future__ import annotations

import itertools

import pytest

from tests.processors.identity.graph.test_customer_merge_order import clusters, identify
from tests.processors.identity.graph.test_limits_order import alias

E = "e0@example.org"
CALLS = [identify(anonymousId="x1", userId="u-1", email=E), identify(anonymousId="x0", email=E), alias("x0", "u-1")]
EXPECTED = {frozenset({"ANONYMOUS_ID:x0", "ANONYMOUS_ID:x1", f"EMAIL:{E}", "USER_ID:u-1"})}


@pytest.mark.parametrize(("partitions", "interleave"), [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)])
def test_every_order_gives_the_time_order_customer(partitions: int, interleave: int | None) -> None:
    """Every order (t2, t1, t0 differed on 1 partition and in each interleaving)."""
    assert clusters(CALLS, (0, 1, 2)) == EXPECTED
    for order in itertools.permutations(range(len(CALLS))):
        assert clusters(CALLS, order, partitions=partitions, seed=interleave) == EXPECTED, order


# Bench draw 727's cut form once the alias displaced the later login (``test_displace_alias_order.py``): ``{x0, e1}``
# t0, ``alias x0 -> u-0`` t1, ``{x9, e1}`` t2. In time order ``x9``'s event meets ``{x0, e1, u-0}`` through ``e1``
# and is weighed (a review, ``x9`` apart). Arriving alias first on 3 partitions, ``x9`` joined ``{x0, e1}`` unweighed
# before the alias's late link brought ``u-0``, and ``u-0``'s rank (the alias's) was not one of an event applied at
# the survivor, so nothing weighed it again: the link now counts the alias's rank as applied where the loser applied
# it (``customer_merge._alias_applied``). 3 of 30 replays differed on main.
LATE_MEMBER = [identify(anonymousId="x0", email="e1@example.org"), alias("x0", "u-0"),
               identify(anonymousId="x9", email="e1@example.org")]


@pytest.mark.parametrize(("partitions", "interleave"), [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)])
def test_an_event_the_alias_user_came_before_is_weighed_in_every_order(partitions: int,
                                                                        interleave: int | None) -> None:
    """Every order gives time order's clusters: ``x9`` apart from the alias's user's customer."""
    expected = clusters(LATE_MEMBER, (0, 1, 2))
    assert frozenset({"ANONYMOUS_ID:x9"}) in expected
    for order in itertools.permutations(range(len(LATE_MEMBER))):
        assert clusters(LATE_MEMBER, order, partitions=partitions, seed=interleave) == expected, order
