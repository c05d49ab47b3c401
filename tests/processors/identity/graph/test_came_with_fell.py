"""``came_with.fell`` / ``met_before``: a join is not weighed on a member the linking identifier met after the event
in time order (issue #8 point 5, ``customer_join.weighed_the_other_way``).

Sample (order bench draw 2594's cut form): A ``{userId u-2, anonymousId x2, email e0}`` t0, B ``{anonymousId x0, email
e1}`` t1, C ``{anonymousId x2, email e1}`` t2. In time order C links A's customer (through ``x2``) and B's (through
``e1``) in an offer: ``x2`` on both sides, +6.99 bits, one customer; arriving B, C, A, A's join of its pending
identifiers at ``{x0, x2, e1}`` weighs the same and merges. Arriving A, C, B (or C, A, B), C joined ``e1`` to A's
customer (weighed, merged), and B, reaching it through ``e1`` with ``x0`` new, was weighed because ``u-2`` is planned
before ``e1``: ``{x0, e1}`` against ``{u-2, x2, e0, e1}``, +3.85 bits, a review, two customers. But ``u-2`` was on
that customer before C brought ``e1`` there (C's weighing decided them); at B's time (t1) nobody had brought ``e1``
there. The fall of ``e1``'s rank (B's visit lowers it from C's t2 to t1) notes the members planned before it that
ranked here before t2 and that C did not carry (``fell``), and B's join does not count them (``met_before``): taken
unweighed as in time order, where B made the customer C then linked. Not where the event that brought the linking
identifier carried the member (a login's ``{u, e}``, bench draw 837) or carried a user id (no pair is noted).
Measured: ``tests/bench/results/identity_email_order.md``.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from processors.identity.graph import came_with
from processors.identity.graph.limits import member
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.state import CustomerState
from processors.identity.rules import LinkPolicy
from tests.processors.identity.graph.test_alias import segment
from tests.processors.identity.graph.test_customer_merge_order import identify
from tests.processors.identity.graph.test_shared_browser import replay
from tests.processors.identity.support import settings as identity_settings

POLICY = LinkPolicy(identity_settings())
U2, X2, E0, E1 = "USER_ID:u-2", "ANONYMOUS_ID:x2", "EMAIL:e0@example.org", "EMAIL:e1@example.org"
A_RANK, B_RANK, C_RANK = 5 << 10, 7 << 10, 9 << 10
INTERLEAVINGS = [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)]  # (partitions, seed of the interleaving)
F0, F1 = "e0@example.org", "e1@example.org"

FORMS: dict[str, list[dict[str, Any]]] = {
    # Draw 2594 (the module docstring; ``test_came_with_met.py``'s "a-login" form is the same with other names).
    "linked-after-the-login": [identify(userId="u-2", anonymousId="x2", email=F0), identify(anonymousId="x0", email=F1),
                               identify(anonymousId="x2", email=F1)],
    # Draw 268 (``test_weigh_offer_order.py``'s "loser holds the earlier member" until this rule): in time order C's
    # offer merges through ``x0``; arriving A, C, B, B's join at ``{u-1, x0, e0}`` was weighed through ``e0`` (``u-1``
    # planned before it), though C brought ``e0`` there after B's time.
    "loser-holds-the-earlier-member": [identify(anonymousId="x0", userId="u-1"), identify(anonymousId="x1", email=F0),
                                       identify(anonymousId="x0", email=F0)],
    # Draw 3370's cut form (newly differing under order30's either4; differed in 7 of 30 replays on main).
    "login-then-browser-links": [identify(anonymousId="x9", email=F0), identify(anonymousId="x0", userId="u-0"),
                                 identify(anonymousId="x0", email=F0)],
    # Guard: the module docstring of ``customer_join``: B's login came to A's customer, weighed in every order.
    "login-after-browser": [identify(anonymousId="x1", email=F0), identify(userId="u-0", email=F0)],
}


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize(("partitions", "interleave"), INTERLEAVINGS)
def test_every_order_gives_time_orders_customers(form: str, partitions: int, interleave: int | None) -> None:
    events = segment(*FORMS[form])
    expected = replay(events, range(len(events))).local.clusters()
    for order in itertools.permutations(range(len(events))):
        h = replay(events, order, partitions=partitions, seed=interleave)
        assert h.local.clusters() == expected, order


def test_in_time_order_the_sample_is_one_customer() -> None:
    h = replay(segment(*FORMS["linked-after-the-login"]), range(3))
    assert h.local.clusters() == {frozenset({U2, X2, "ANONYMOUS_ID:x0", E0, E1})}


def _state() -> CustomerState:
    """A's customer after C joined ``e1`` there through ``x2``: C's pair noted at C's rank."""
    state = CustomerState(created=True, members={U2: member(1, A_RANK), X2: member(1, A_RANK), E0: member(1, A_RANK),
                                                 E1: member(1, C_RANK)})
    came_with.note(POLICY, state, Saga("evt-c", "WEB", 60_000_000, 0.0, sorted([X2, E1])), [E1])
    return state


def test_a_fall_notes_the_members_planned_first_that_were_here_before() -> None:
    state = _state()
    came_with.fell(POLICY, state, E1, C_RANK, B_RANK)
    state.members[E1] = member(1, B_RANK)
    assert came_with.met_before(state, E1, U2, B_RANK)
    assert not came_with.met_before(state, E1, X2, B_RANK)  # planned after the e-mail, and C carried it
    assert came_with.met_before(state, E1, E0, B_RANK)  # another e-mail, planned first by its key (``plan_order``)


def test_a_member_the_event_carried_is_not_noted() -> None:
    """C carried ``e0`` too (planned before ``e1``): it met the customer with it, not after; ``u-2`` it did not carry."""
    state = _state()
    came_with.note(POLICY, state, Saga("evt-c", "WEB", 60_000_000, 0.0, sorted([E0, E1, X2])), [E1])
    came_with.fell(POLICY, state, E1, C_RANK, B_RANK)
    state.members[E1] = member(1, B_RANK)
    assert not came_with.met_before(state, E1, E0, B_RANK)
    assert came_with.met_before(state, E1, U2, B_RANK)


def test_nothing_is_noted_where_no_user_less_event_brought_it() -> None:
    """A login's ``{u, e}`` brought ``e1`` (no pair): it met the customer with its user id (bench draw 837)."""
    state = CustomerState(created=True, members={U2: member(1, A_RANK), E1: member(1, C_RANK)})
    came_with.fell(POLICY, state, E1, C_RANK, B_RANK)
    state.members[E1] = member(1, B_RANK)
    assert not came_with.met_before(state, E1, U2, B_RANK)
    assert state.came_with == b""
