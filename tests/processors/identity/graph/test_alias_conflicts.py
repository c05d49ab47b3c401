"""Segment aliases that name one anonymous id for different users (#8 point 5; the new user's finding 4 of tester8):
the earliest login (an alias or an identify carrying it, by event time, ties by a hash of the event id) keeps it,
in every arrival order, also when the alias came before anything carried the anonymous id (its late link claims
with the alias's rank: ``saga.alias_claims``). The other users stay customers of their own: one user id each.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from processors.identity.graph.outputs import Linked, Merged, Refused, Resolved
from processors.identity.graph.state import IdentifierState
from processors.identity.rules import EARLIEST_CLAIM, MAX_PER_CUSTOMER, SHARED_IDENTIFIER
from tests.processors.identity.graph.test_alias import clusters, run, segment
from tests.processors.identity.graph.test_shared_browser import screen_pops
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings


def _track(anonymous: str) -> dict[str, Any]:
    return {"type": "track", "anonymousId": anonymous, "event": "Viewed Loans"}


def _identify(user: str, email: str, name: str) -> dict[str, Any]:
    return {"type": "identify", "userId": user, "traits": {"email": email, "firstName": name}}


def _alias(previous: str, user: str) -> dict[str, Any]:
    return {"type": "alias", "previousId": previous, "userId": user}


# The tester's commands, one a minute: Dan's and Eve's browsing, logins and aliases, then an alias that names Eve's
# anonymous id for Dan. Eve's own alias is the earlier: she keeps it (the running processor refused the last one,
# verify's recomputation, reading topic by topic, moved it to Dan).
TESTER8 = [_track("t8-anonD"), _identify("t8-userD", "d.t8@example.org", "Dan"), _alias("t8-anonD", "t8-userD"),
           _track("t8-anonE"), _identify("t8-userE", "e.t8@example.org", "Eve"), _alias("t8-anonE", "t8-userE"),
           _alias("t8-anonE", "t8-userD")]
DAN = frozenset({"ANONYMOUS_ID:t8-anonD", "EMAIL:d.t8@example.org", "USER_ID:t8-userD"})
EVE = frozenset({"ANONYMOUS_ID:t8-anonE", "EMAIL:e.t8@example.org", "USER_ID:t8-userE"})


def _orders() -> list[tuple[tuple[int, ...], int, int | None]]:
    """Dan's three calls first, then every order of Eve's four and the conflicting alias; settled and interleaved."""
    return [((0, 1, 2, *tail), partitions, seed) for tail in itertools.permutations(range(3, 7))
            for partitions, seed in ((1, None), (3, 5))]


@pytest.mark.parametrize(("order", "partitions", "seed"), _orders())
def test_the_testers_conflicting_alias_leaves_the_anonymous_id_with_the_earlier_alias_in_every_order(
        order: tuple[int, ...], partitions: int, seed: int | None) -> None:
    h = run(segment(*TESTER8), order, partitions=partitions, seed=seed)
    assert clusters(h) == {DAN, EVE}
    assert any(r.lineage.rule == MAX_PER_CUSTOMER for r in h.decisions(Refused))  # two user ids: two people
    assert not [r for r in h.decisions(Refused) if r.lineage.rule == SHARED_IDENTIFIER]
    node = h.local.store.nodes["ANONYMOUS_ID:t8-anonE"]
    assert isinstance(node, IdentifierState) and not node.shared
    # Each page view on its browser's user's screen pop: Eve's (m3) also when the conflicting alias took her
    # anonymous id to Dan before her own alias claimed it back (the page view follows the claim).
    assert screen_pops(h) == {DAN: {"m0"}, EVE: {"m3"}}


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_when_the_conflicting_alias_is_the_earlier_one_it_takes_the_anonymous_id_in_every_order(order) -> None:  # type: ignore[no-untyped-def]
    """The same conflict with the times the other way round: Dan's alias (minute 1) before Eve's identify with the
    anonymous id (minute 2), whichever arrives first: Dan keeps it."""
    events = segment(_track("t8-anonE"), _alias("t8-anonE", "t8-userD"),
                     {"type": "identify", "userId": "t8-userE", "anonymousId": "t8-anonE"})
    h = run(events, order)
    assert clusters(h) == {frozenset({"ANONYMOUS_ID:t8-anonE", "USER_ID:t8-userD"}), frozenset({"USER_ID:t8-userE"})}


# Three users name one anonymous id: B's identify (minute 1), A's and C's aliases (minutes 2, 3); a page view (0).
THREE = [_track("x-shared"), {"type": "identify", "userId": "u-b", "anonymousId": "x-shared"},
         _alias("x-shared", "u-a"), _alias("x-shared", "u-c")]
# The same, the alias of A earliest and before anything carried the anonymous id (its late link claims it).
THREE_ALIAS_FIRST = [_alias("x-shared", "u-a"), {"type": "identify", "userId": "u-b", "anonymousId": "x-shared"},
                     _alias("x-shared", "u-c"), _track("x-shared")]


@pytest.mark.parametrize(("calls", "keeper"), [(THREE, "u-b"), (THREE_ALIAS_FIRST, "u-a")], ids=["identify", "alias"])
@pytest.mark.parametrize(("partitions", "seed"), [(1, None), (3, 13)])
def test_of_three_users_naming_one_anonymous_id_the_earliest_keeps_it_in_every_order(
        calls: list[dict[str, Any]], keeper: str, partitions: int, seed: int | None) -> None:
    events = segment(*calls)
    users = {"USER_ID:u-a", "USER_ID:u-b", "USER_ID:u-c"}
    for order in itertools.permutations(range(len(events))):
        h = run(events, order, partitions=partitions, seed=seed)
        want = {frozenset({user} | ({"ANONYMOUS_ID:x-shared"} if user == f"USER_ID:{keeper}" else set()))
                for user in users}
        assert clusters(h) == want, order


@pytest.mark.parametrize("late", [False, True], ids=["alias-redelivered-at-the-end", "alias-first-and-duplicated"])
def test_a_redelivered_alias_moves_nothing_again(late: bool) -> None:
    """At-least-once: graph messages duplicated (30 %), and the earlier alias delivered again after everything;
    the same customers, and the anonymous id moved by a claim at most once."""
    events = segment(*TESTER8)
    order = [0, 1, 2, 3, 4, 6, 5] if not late else [5, 5, 0, 1, 2, 3, 4, 6]
    h = Harness(settings(), partitions=3, seed=21, duplicates=0.3)
    for index in order:
        h.feed(*events[index])
    once = clusters(h)
    moves = [d for d in h.decisions(Linked) if d.lineage.rule == EARLIEST_CLAIM]
    merges = len(h.decisions(Merged))
    followed = [d for d in h.decisions(Resolved) if d.moved_by]
    h.feed(*events[5])
    h.feed(*events[6])
    h.local.check_consistent()
    assert clusters(h) == once == {DAN, EVE}
    assert [d for d in h.decisions(Linked) if d.lineage.rule == EARLIEST_CLAIM] == moves and len(moves) <= 1
    assert len(h.decisions(Merged)) == merges
    # A contact that followed a claim is re-published once (its id derives from the claim): none again.
    assert [d for d in h.decisions(Resolved) if d.moved_by] == followed
    assert screen_pops(h) == {DAN: {"m0"}, EVE: {"m3"}}


def test_shuffled_with_duplicates_on_five_partitions_the_testers_sequence_agrees() -> None:
    events = segment(*TESTER8)
    for seed in range(6):
        order = list(range(len(events)))
        random.Random(seed).shuffle(order)
        h = Harness(settings(), partitions=5, seed=seed, duplicates=0.2)
        for index in order:
            h.feed(*events[index], settle=False)
        h.local.run()
        h.local.check_consistent()
        assert clusters(h) == {DAN, EVE}, seed
        assert screen_pops(h) == {DAN: {"m0"}, EVE: {"m3"}}, seed
