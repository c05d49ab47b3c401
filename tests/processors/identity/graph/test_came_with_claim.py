"""What an event without a user id brought with a claimed anonymous id alone, after the claim's event, follows the claim
(#8 point 5, ``came_with.following_claim``, ``claim_node.on_give``); also when its join reached the giver after the
claim (``moved_off.join_follows``) or it was applied where a later login held both (``came_with.note_applied``): below.

Bench draw 182 cut down to three calls: ``{x1, u-1}`` t0, ``{x1, e1}`` t1, ``{x1, u-0}`` t2. In time order u-1's login
makes x1's customer, the anonymous e-mail joins it through x1, and u-0 is refused by the limit of one: ``{x1, e1,
u-1}``, ``{u-0}``. Arriving t2 first and then t0 and t1 together (3 partitions interleaved), u-0 holds x1, the e-mail's
event joins u-0's customer through it, and u-1's event, refused by the limit, claims x1 (its earliest login): x1 moved
alone and e1 stayed with u-0. Now e1 follows x1 (a claim of the same rank for the same customer), since the event that
brought it carried no user id, reached the customer through x1 alone and ranks after the claim's event. The other
draws are the kind with an alias as the earliest login (96, 1204) and with the later user's event before the e-mail's
(1175, 1204, 1509). Measured: ``tests/bench/results/identity_email_order.md`` (branch order14).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.bench.identity_email_order import differs
from tests.processors.identity.graph.test_customer_merge_order import clusters, identify
from tests.processors.identity.graph.test_limits_order import alias

E, F = "e0@example.org", "e1@example.org"

# Bench draws cut down to three calls (seed: calls at minutes 0-2), each with the time-order customers.
DRAWS: dict[int, tuple[list[dict[str, Any]], set[frozenset[str]]]] = {
    182: ([identify(anonymousId="x1", userId="u-1"), identify(anonymousId="x1", email=F),
           identify(anonymousId="x1", userId="u-0")],
          {frozenset({"ANONYMOUS_ID:x1", f"EMAIL:{F}", "USER_ID:u-1"}), frozenset({"USER_ID:u-0"})}),
    96: ([alias("x1", "u-2"), identify(anonymousId="x1", email=E), identify(anonymousId="x1", userId="u-1")],
         {frozenset({"ANONYMOUS_ID:x1", f"EMAIL:{E}", "USER_ID:u-2"}), frozenset({"USER_ID:u-1"})}),
    1175: ([identify(anonymousId="x1", userId="u-0"), identify(anonymousId="x1", userId="u-1"),
            identify(anonymousId="x1", email=E)],
           {frozenset({"ANONYMOUS_ID:x1", f"EMAIL:{E}", "USER_ID:u-0"}), frozenset({"USER_ID:u-1"})}),
    1204: ([alias("x0", "u-0"), identify(anonymousId="x0", userId="u-1"), identify(anonymousId="x0", email=F)],
           {frozenset({"ANONYMOUS_ID:x0", f"EMAIL:{F}", "USER_ID:u-0"}), frozenset({"USER_ID:u-1"})}),
    1509: ([identify(anonymousId="x1", userId="u-2"), alias("x1", "u-1"), identify(anonymousId="x1", email=F)],
           {frozenset({"ANONYMOUS_ID:x1", f"EMAIL:{F}", "USER_ID:u-2"}), frozenset({"USER_ID:u-1"})}),
    1805: ([identify(anonymousId="x0", userId="u-0"), identify(anonymousId="x0", email=E),
            identify(anonymousId="x0", userId="u-1")],
           {frozenset({"ANONYMOUS_ID:x0", f"EMAIL:{E}", "USER_ID:u-0"}), frozenset({"USER_ID:u-1"})}),
}
INTERLEAVINGS = (3, 5, 7, 11)


@pytest.mark.parametrize("seed", sorted(DRAWS))
def test_in_time_order_the_e_mail_is_on_the_earliest_logins_customer(seed: int) -> None:
    """The time-order customers, and every order settled one by one (they agreed before the rule too)."""
    calls, expected = DRAWS[seed]
    for order in itertools.permutations(range(len(calls))):
        assert clusters(calls, order) == expected, order


@pytest.mark.parametrize("seed", sorted(DRAWS))
def test_every_order_interleaved_on_three_partitions_gives_the_time_order_customers(seed: int) -> None:
    """Every order of the three calls on 3 partitions with messages interleaved (four interleavings; 2 to 8 of the 24
    replays of each draw differed before)."""
    calls, expected = DRAWS[seed]
    for interleave in INTERLEAVINGS:
        for order in itertools.permutations(range(len(calls))):
            assert clusters(calls, order, partitions=3, seed=interleave) == expected, (interleave, order)


# Bench draw 693 cut down: the e-mail's event visits x2 while u-1's customer holds it, and its join arrives there after
# u-0's alias claimed x2 away. The join now follows the claim (``moved_off.join_follows``): in time order the e-mail's
# event met x2 on u-0's customer. Arriving 1, 0, 2 interleaved (seed 11), the join made a customer of e1, which went
# back to u-1's: 1 of the 30 replays below differed before (branch order22).
LATE_JOIN = [alias("x2", "u-0"), identify(anonymousId="x2", userId="u-1"), identify(anonymousId="x2", email=F)]
LATE_JOIN_CUSTOMERS = {frozenset({"ANONYMOUS_ID:x2", f"EMAIL:{F}", "USER_ID:u-0"}), frozenset({"USER_ID:u-1"})}


@pytest.mark.parametrize(("partitions", "interleave"), [(1, None), *((3, seed) for seed in INTERLEAVINGS)])
def test_a_join_that_arrives_after_the_claim_follows_the_anonymous_id(partitions: int, interleave: int | None) -> None:
    """Every order on 1 partition and on 3 interleaved: the time-order customers, e1 with u-0."""
    for order in itertools.permutations(range(len(LATE_JOIN))):
        assert clusters(LATE_JOIN, order, partitions=partitions, seed=interleave) == LATE_JOIN_CUSTOMERS, order


# Bench draws 1665 and 618 cut down to three calls: ``{x, u-1[, e1]}`` t0, ``{x, e}`` t1, ``{x, u-0, e}`` t2. Arriving
# t2 first and then t0 and t1 in flight together (3 partitions interleaved), u-0's login makes the customer with x and
# e, the e-mail's event finds both there and is applied (ranking first on e), and u-1's login claims x (its earliest
# login): x moved alone and e stayed with u-0. The apply now notes that e came with x at the event's rank
# (``came_with.note_applied``, ``Apply.rank``), so e follows the claim as when the e-mail's event joined it through x.
# 5 and 4 of the 30 replays below differed before (branch order22).
APPLIED: dict[int, tuple[list[dict[str, Any]], set[frozenset[str]]]] = {
    1665: ([identify(anonymousId="x1", userId="u-1", email=F), identify(anonymousId="x1", email=E),
            identify(anonymousId="x1", userId="u-0", email=E)],
           {frozenset({"ANONYMOUS_ID:x1", f"EMAIL:{E}", f"EMAIL:{F}", "USER_ID:u-1"}), frozenset({"USER_ID:u-0"})}),
    618: ([identify(anonymousId="x0", userId="u-1"), identify(anonymousId="x0", email=F),
           identify(anonymousId="x0", userId="u-0", email=F)],
          {frozenset({"ANONYMOUS_ID:x0", f"EMAIL:{F}", "USER_ID:u-1"}), frozenset({"USER_ID:u-0"})}),
}


@pytest.mark.parametrize("seed", sorted(APPLIED))
@pytest.mark.parametrize(("partitions", "interleave"), [(1, None), *((3, seed) for seed in INTERLEAVINGS)])
def test_what_an_applied_event_found_with_the_anonymous_id_follows_its_claim(seed: int, partitions: int,
                                                                              interleave: int | None) -> None:
    """Every order on 1 partition and on 3 interleaved: the time-order customers, the e-mail with the earliest login."""
    calls, expected = APPLIED[seed]
    for order in itertools.permutations(range(len(calls))):
        assert clusters(calls, order, partitions=partitions, seed=interleave) == expected, order


# Bench draws that differed before the applied event's pairs (``came_with.note_applied``) and agree with them (seeds
# 0-3499, ``tests/bench/results/identity_email_order.md``, branch order22: 187 -> 179 differing, none newly).
APPLIED_DRAWS = [553, 618, 1041, 1665, 2372, 2448, 2980, 3102]


@pytest.mark.parametrize("seed", APPLIED_DRAWS)
def test_bench_draws_where_what_an_applied_event_found_follows_the_claim_agree(seed: int) -> None:
    """The bench's three replays of draw ``seed`` give the same customers."""
    assert not differs(seed)
