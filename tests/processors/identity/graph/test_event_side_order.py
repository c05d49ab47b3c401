"""``event_side.py``: an offer one side of which holds nothing its event does not carry is weighed and kept apart as
the event's join at the other side (issue #8 point 5).

Sample (order bench draw 905's cut form): A ``{userId u-2, email e0}`` t0, B ``track x0`` t1 (a page view), C
``{anonymousId x0, email e0}`` t2, D ``{anonymousId x9, email e0}`` t3. In time order C met the page view's customer
``{x0}`` and A's ``{u-2, e0}`` in an offer weighed with ``x0`` on both sides (+10.28 bits, merged); arriving before
the page view, C joined A's customer with ``x0`` new, weighed (``u-2`` is planned before the linking ``e0``): ``{x0,
e0}`` against ``{u-2, e0}``, +3.85, a review. The page view told nothing C does not carry, so the offer is decided as
that join: a review, C stays on ``{x0}``. 87 of 120 replays differed on main 62149eb4, 25 on round5 78d3e72d, 12
on a60f871a, 2 now (``carried_undo.merged_away``), all interleaved on three partitions: A arriving last (after C and D
joined through ``e0`` unweighed) is decided again at A's claim (``Unweighed.met``, test_kept_side_order.py).
Measured: ``tests/bench/results/identity_email_order.md``.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.processors.identity.graph.test_alias import segment
from tests.processors.identity.graph.test_customer_merge_order import identify
from tests.processors.identity.graph.test_shared_browser import replay

INTERLEAVINGS = [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)]  # (partitions, seed of the interleaving)
E0, E1 = "e0@example.org", "e1@example.org"


def track(anonymous_id: str) -> dict[str, Any]:
    """A Segment page view (``track``) of an anonymous id, nothing else."""
    return {"type": "track", "event": "Viewed", "anonymousId": anonymous_id}


# The page-view forms of the order bench's cut draws on main 62149eb4 (every order on 1 partition and on 3 with seeds
# 3/5/7/11): each differed in 9-20 of 30 replays (2308's in 40 of 120) and in none now.
FORMS: dict[str, list[dict[str, Any]]] = {
    "63": [identify(anonymousId="x1", email=E0), track("x1"), identify(userId="u-1", email=E0)],
    "749": [identify(anonymousId="x2", userId="u-0", email=E1), identify(anonymousId="x1", email=E1), track("x1")],
    "848": [track("x2"), identify(userId="u-1", email=E1), identify(anonymousId="x2", email=E1)],
    "1066": [identify(anonymousId="x0", email=E1), track("x0"), identify(anonymousId="x1", userId="u-0", email=E1)],
    "1792": [identify(anonymousId="x2", userId="u-1", email=E1), track("x1"), identify(anonymousId="x1", email=E1)],
    "2017": [identify(anonymousId="x0", email=E1), identify(userId="u-0", email=E1), track("x0")],
    "2308": [identify(anonymousId="x1", userId="u-0", email=E0), identify(anonymousId="x2", userId="u-1", email=E1),
             identify(anonymousId="x0", email=E1), track("x0")],
    "3184": [track("x1"), identify(anonymousId="x1", email=E1), identify(userId="u-0", email=E1)],
}

# Draw 905's cut form (the module docstring).
PAGE_VIEW_BETWEEN = [identify(userId="u-2", email=E0), track("x0"), identify(anonymousId="x0", email=E0),
                     identify(anonymousId="x9", email=E0)]
# A arriving after B, C and D (C and D joined ``{x0}`` through ``e0`` unweighed, then A's login is weighed against
# ``{x0, x9, e0}``: a review, ``e0`` to A) differed on round5 78d3e72d: D is decided again at A's claim now.

# Guards: an event whose side told more than it carries is an offer's side as before. The customer ``{x0}`` made by
# ``{x0, e1}`` kept apart from ``e1``'s (its ``elsewhere``), met again by the same event: merged in every order.
# ``{x9}`` made by ``{x9, e1}``, kept apart, or split off by ``weigh_again``.
GUARDS: dict[str, list[dict[str, Any]]] = {
    "repeat-of-a-kept-pair": [identify(anonymousId="x9", email=E0), identify(anonymousId="x9", email=E1),
                              identify(anonymousId="x0", email=E1), identify(anonymousId="x0", email=E1)],
    "told-more": [identify(anonymousId="x2", email=E0), identify(anonymousId="x2", userId="u-2", email=E1),
                  identify(anonymousId="x9", email=E1), identify(anonymousId="x9", email=E0)],
    # Draw 517's cut: where a still earlier login claims ``e1`` from the repeat's ``{x1, e1}``, ``{x1}`` is a customer
    # a split left (no ``made_for``): an offer's side (the whole draw differed with it read as the event's).
    "claimed-off": [identify(anonymousId="x2", userId="u-0", email=E1), identify(anonymousId="x1", email=E1),
                    identify(anonymousId="x1", email=E1)],
}
# Replays differing on main 62149eb4, and now; "claimed-off" is order39's kind 1 where the giver holds no user id, 12
# until the carried pair was proposed at every giver (``carried_pair.carried_with``, ``carried_late``; branch order49).
GUARD_DIFFERING = {"repeat-of-a-kept-pair": 0, "told-more": 11, "claimed-off": 0}


def _differing(calls: list[dict[str, Any]]) -> int:
    events = segment(*calls)
    expected = replay(events, range(len(events))).local.clusters()
    return sum(replay(events, order, partitions=partitions, seed=seed).local.clusters() != expected
               for partitions, seed in INTERLEAVINGS for order in itertools.permutations(range(len(events))))


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_page_view_read_first_or_last_gives_one_outcome(form: str) -> None:
    """Every order of each page-view form, on one partition and interleaved on three, gives time order's clusters."""
    assert _differing(FORMS[form]) == 0


def test_the_event_meeting_a_page_views_customer_and_a_login_is_weighed_as_its_join() -> None:
    """Draw 905's form in time order: C is weighed against A's customer as a join and kept apart on the page view's
    customer (a review); D likewise. Every order on one partition gives that."""
    events = segment(*PAGE_VIEW_BETWEEN)
    expected = replay(events, range(len(events))).local.clusters()
    assert sorted(sorted(cluster) for cluster in expected) == [
        ["ANONYMOUS_ID:x0"], ["ANONYMOUS_ID:x9"], ["EMAIL:e0@example.org", "USER_ID:u-2"]]
    for order in itertools.permutations(range(len(events))):
        assert replay(events, order).local.clusters() == expected, order


def test_page_view_between_counted() -> None:
    """2 of the 120 replays of draw 905's form differ (87 on main 62149eb4, 25 on round5 78d3e72d, 12 on a60f871a):
    the count the results page reports."""
    assert _differing(PAGE_VIEW_BETWEEN) == 2


@pytest.mark.parametrize("form", sorted(GUARDS))
def test_a_side_that_told_more_stays_an_offers_side(form: str) -> None:
    """The guards differ no more often than on main."""
    assert _differing(GUARDS[form]) == GUARD_DIFFERING[form]
