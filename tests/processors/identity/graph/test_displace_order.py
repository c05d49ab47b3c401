"""A later login's later event on a shared browser (issue #8 point 5, ``displace.py``).

Two user ids log in on one anonymous id (a shared browser; Segment user ids are limited to one per customer). In time
order the earlier login (u-0, t1) takes the browser's customer and the later one (u-1, t2) is refused through the
anonymous id; what u-1's own later event brings (t3) goes with u-1. Arriving u-1 first, u-1 takes the customer and its
t3 event adds to it; the earlier login arriving last moves u-1 out only with u-1's rank-mates (``displace._leaving``:
the members its earliest event brought) and only where every member left ranks before u-1. The t3 member ranks after
u-1, so nothing moved: the earlier login was refused, and the customer went to whichever login arrived first.

Sample, cut from the order bench's draw 1011 (``tests/bench/identity_email_order.py``): A ``{anonymousId x0, email
e0}`` t0, B ``{x0, userId u-0}`` t1, C ``{x0, u-1}`` t2, D ``{u-1, e1}`` t3. Time order: ``{x0, e0, u-0}`` and ``{u-1,
e1}``; arriving A, C, D, B: ``{x0, e0, u-1, e1}`` and ``{u-0}``. The other forms below are the four-identify cuts of
draws 1092/2528, 1220, 1666, 1871 and 2558 (the later login's later event brought an e-mail, an anonymous id of its
own, or merged a customer u-1 already had); draws 538/3018's form (the later login had a customer of its own first) is
``test_came_with_own.py``'s.

A member ranked after the resident that no user-less event brought (``came_with.brought_by_user_less``) and that the
step's event does not carry came, in time order, with the resident's later events: at a join it now leaves with the
resident (``displace._came_after``), unless a linking identifier ranked (before the event's visit) with the resident,
that is came with it (the guard form, cut from draw 1456 while this was being written). Every order on one partition
gives the time-order clusters.

Interleaved on three partitions, a rank is still in flight when the earlier login arrives. Three ways it differed, now
decided from the ranks the customer will hold: (1) the linking anonymous id ranks with the resident only because the
earliest event's visit has not lowered it yet, so the guard holds for now: the join is refused and decided again at
each later apply (``displace._await_later``, ``_again``), which moves the resident and its later members once what
stays ranks before it at applied ranks; (2) a member the refused event carried ranks at that event's own rank, never
applied here (its apply goes to the refused login's customer): ``_again`` counts it as there by then where the event
met the customer through a linking identifier settled before it; (3) the resident's later event, visited before the
resident moved out and joining after, followed the user id to its new customer (``moved_off.join_follows``) instead of
leaving its e-mail behind. Since order36 also: (4) where the earlier login's step is an offer whose loser holds the
resident (a user-less event met both customers), the loser's later members leave with it (``at_offer_loser``), and a
fall of the moved resident's rank follows it (``displace.rank_follows``: bench draw 2939, below); (5) a join whose
linking identifier ranked after the resident is awaited too, and decided again at the resident's rank as it has
fallen since. What still differs is listed in ``STILL_DIFFERING`` (strict xfails).
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

FORMS: dict[str, list[dict[str, Any]]] = {
    # The sample (draw 1011): the later login's later event brings an e-mail.
    "later-event-brings-an-email": [identify(anonymousId="x0", email=E0), identify(anonymousId="x0", userId="u-0"),
                                    identify(anonymousId="x0", userId="u-1"), identify(userId="u-1", email=E1)],
    # ... an anonymous id of its own (a second browser).
    "later-event-brings-a-browser": [identify(anonymousId="x0", email=E0), identify(anonymousId="x0", userId="u-0"),
                                     identify(anonymousId="x0", userId="u-1"),
                                     identify(anonymousId="x1", userId="u-1")],
    # Draws 1092, 2528: both logins carried the e-mail; the later one's next event a second browser.
    "both-carry-the-email": [identify(anonymousId="x0", email=E0), identify(anonymousId="x0", userId="u-0", email=E1),
                             identify(anonymousId="x0", userId="u-1", email=E1),
                             identify(anonymousId="x1", userId="u-1", email=E1)],
    # Draw 1220.
    "later-login-carries-the-first-email": [identify(anonymousId="x0", email=E0),
                                            identify(anonymousId="x0", userId="u-0", email=E1),
                                            identify(anonymousId="x0", userId="u-1", email=E0),
                                            identify(anonymousId="x1", userId="u-1")],
    # Draw 1666.
    "later-event-brings-the-first-email": [identify(anonymousId="x0", email=E0),
                                           identify(anonymousId="x0", userId="u-0", email=E1),
                                           identify(anonymousId="x0", userId="u-1", email=E1),
                                           identify(anonymousId="x1", userId="u-1", email=E0)],
    # Draw 1871.
    "own-customer-through-the-email": [identify(anonymousId="x0", email=E0),
                                       identify(anonymousId="x0", userId="u-0", email=E0),
                                       identify(anonymousId="x1", userId="u-1", email=E0),
                                       identify(anonymousId="x0", userId="u-1", email=E1)],
    # Draw 2558.
    "own-customer-with-the-email": [identify(anonymousId="x0", email=E0), identify(anonymousId="x0", userId="u-0"),
                                    identify(anonymousId="x1", userId="u-1", email=E0),
                                    identify(anonymousId="x0", userId="u-1", email=E1)],
}

# The linking identifier came with the resident (its rank, before the event's visit, is the resident's): the earlier
# login reaches the customer only through what the later one brought, and claims it; the customer stays the later
# login's in time order too (draw 1456's cut; every order agreed before the rule above and must still).
GUARD = [identify(anonymousId="x0", email=E1), identify(anonymousId="x1", userId="u-0"),
         identify(anonymousId="x1", userId="u-1", email=E1), identify(anonymousId="x0", userId="u-1", email=E0)]

IN_FLIGHT = ("interleaved on three partitions, a member's rank can still be in flight when the earlier login arrives "
             "(module docstring): not fixed")
# The interleavings that still differ (form, seed): 1 of the 24 orders each (not traced to the end).
STILL_DIFFERING = {("later-event-brings-the-first-email", 5), ("later-event-brings-the-first-email", 11)}

# Bench draw 2939's cut: the later login u-0's earliest event (t1) still on its way when a user-less event (t0) offers
# its customer to u-2's, u-0 ranking at its later event's rank (t3) there; u-0 moves out, and its rank falls where it
# went (``displace.rank_follows``), so its earliest event takes the browser back.
RANK_IN_FLIGHT = [identify(anonymousId="x2", email=E1), identify(anonymousId="x2", userId="u-0", email=E0),
                  identify(anonymousId="x2", userId="u-2"), identify(userId="u-0", email=E1)]


def _differing(calls: list[dict[str, Any]], partitions: int, interleave: int | None) -> list[tuple[int, ...]]:
    """The arrival orders whose clusters differ from time order's."""
    events = segment(*calls)
    expected = replay(events, range(len(events))).local.clusters()
    return [order for order in itertools.permutations(range(len(events)))
            if replay(events, order, partitions=partitions, seed=interleave).local.clusters() != expected]


@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_earlier_login_keeps_the_shared_browser_in_every_order(form: str) -> None:
    """Every order on one partition gives time order's clusters (main: 6 of 24 orders differed in each form)."""
    assert _differing(FORMS[form], 1, None) == []


@pytest.mark.parametrize(("form", "interleave"), [
    pytest.param(form, seed, marks=[pytest.mark.xfail(strict=True, reason=IN_FLIGHT)]
                 if (form, seed) in STILL_DIFFERING else [])
    for form in sorted(FORMS) for seed in (3, 5, 7, 11)])
def test_the_earlier_login_keeps_the_shared_browser_interleaved(form: str, interleave: int) -> None:
    """Every order interleaved on three partitions gives time order's clusters (121 of the forms' 672 such replays
    differed, in 26 of these 28 cases, before order33; 42, in 13, before order36; now 2, in 2)."""
    assert _differing(FORMS[form], 3, interleave) == []


@pytest.mark.parametrize(("partitions", "interleave"), [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)])
def test_a_linking_identifier_the_later_login_brought_keeps_it_its_customer(
        partitions: int, interleave: int | None) -> None:
    """The guard form gives time order's clusters in every order."""
    assert _differing(GUARD, partitions, interleave) == []


@pytest.mark.parametrize(("partitions", "interleave"), [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)])
def test_the_residents_rank_falls_where_it_moved(partitions: int, interleave: int | None) -> None:
    """Bench draw 2939's cut gives time order's clusters in every order (5 of its 120 replays differed before)."""
    assert _differing(RANK_IN_FLIGHT, partitions, interleave) == []


def test_the_bench_draw_whose_resident_moved_with_its_rank_in_flight_agrees() -> None:
    """Bench draw 2939 itself, which moving the loser's later members out made differ before ``rank_follows``."""
    assert not differs(2939)
