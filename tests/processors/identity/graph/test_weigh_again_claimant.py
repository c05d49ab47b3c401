"""``weigh_again_claimant``: an event that made a customer of its own, whose e-mail a claim then took, is passed on
with the e-mail; the earliest event's customer, which in time order it met, takes it again (issue #8 point 5, the
order bench's ``{x0, e}`` ``{x1, u-0, e}`` ``{x2, e}`` kind).

A ``{x0, e}`` t0, B ``{x1, u-0, e}`` t1, C ``{x2, e}`` t2. In time order B meets A's customer through ``e`` and is
weighed (``u-0`` planned before ``e``: a review, ``x1`` and ``u-0`` apart); C meets A's customer (``x0`` planned after
``e``) and joins unweighed: ``{x0, x2, e}``, ``{x1, u-0}``. Arriving C first, C made ``{x2, e}``; B's claim took ``e``
from it and A's claim took it from B, and ``x2`` stayed a customer of its own (bench draw 2547): fixed, C's event goes
along with ``e`` as a mark. Arriving B first (B, C, A or B, A, C), C was weighed against B's customer at its join and
kept apart; the holders' pair of C's and A's customers merges it (``holders.browsers``), and where that pair was
weighed before A's claim of the e-mail arrived, the e-mail's new owner is proposed again (``seek.propose_owner``).
"""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
import pytest

from processors.identity.graph.messages.base import Unweighed
from processors.identity.graph.messages.claims import Adopt
from tests.bench.identity_email_order import differs
from tests.processors.identity.graph.test_alias import segment
from tests.processors.identity.graph.test_shared_browser import replay

E = "e@example.org"
E_KEY, X2 = f"EMAIL:{E}", "ANONYMOUS_ID:x2"
INTERLEAVINGS = [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)]  # (partitions, seed of the interleaving)


def identify(**fields: Any) -> dict[str, Any]:
    return {"type": "identify", **fields, "traits": {"email": E}}


CALLS = [identify(anonymousId="x0"), identify(anonymousId="x1", userId="u-0"), identify(anonymousId="x2")]
# The kind with B a login alone: the same in every order.
LOGIN_ALONE = [identify(anonymousId="x0"), identify(userId="u-0"), identify(anonymousId="x2")]


def _orders(calls: list[dict[str, Any]], first: int) -> list[tuple[int, ...]]:
    return [order for order in itertools.permutations(range(len(calls))) if order[0] == first]


def _agree(calls: list[dict[str, Any]], orders: list[tuple[int, ...]], partitions: int, seed: int | None) -> None:
    events = segment(*calls)
    expected = replay(events, range(len(events))).local.clusters()
    for order in orders:
        h = replay(events, order, partitions=partitions, seed=seed)
        assert h.local.clusters() == expected, order


def test_in_time_order_the_browser_joins_the_claimants_customer_and_the_login_stays_apart() -> None:
    """The customers time order gives: C's browser with A's, B's login apart (weighed through ``e``)."""
    h = replay(segment(*CALLS), range(len(CALLS)))
    assert h.local.clusters() == {frozenset({"ANONYMOUS_ID:x0", "ANONYMOUS_ID:x2", f"EMAIL:{E}"}),
                                  frozenset({"ANONYMOUS_ID:x1", "USER_ID:u-0"})}


@pytest.mark.parametrize("calls", [CALLS, LOGIN_ALONE], ids=["kind", "login alone"])
@pytest.mark.parametrize(("partitions", "interleave"), INTERLEAVINGS)
def test_a_browser_that_came_first_joins_the_claimant_when_claims_take_its_e_mail(
        calls: list[dict[str, Any]], partitions: int, interleave: int | None) -> None:
    """Every order in which C arrives first (C, A, B and C, B, A), on 1 partition and on 3 interleaved, gives the
    customers of time order: C's event follows ``e`` from claim to claim to A's customer. On main C, B, A left ``x2``
    apart on 1 partition and at seed 11."""
    _agree(calls, _orders(calls, 2), partitions, interleave)


@pytest.mark.parametrize(("partitions", "interleave"), INTERLEAVINGS)
def test_a_browser_whose_login_is_planned_before_the_e_mail_stays_apart_from_every_claimant(
        partitions: int, interleave: int | None) -> None:
    """The mark is not a link where time order weighed the event: C ``{x2, e1}`` t0, B ``{x1, u-1, e1}`` t1,
    A ``{x0, u-0, e1}`` t2 (bench draw 1665 cut): arriving A, B, C, A's event brought ``e1`` and B's claim took it, but
    A's ``u-0`` is planned before ``e1``, so in time order A's pending identifiers met the e-mail's customer weighed
    (a review) and stay apart. A first form of the rule, reading only the claimant's members, merged all three."""
    calls = [identify(anonymousId="x2"), identify(anonymousId="x1", userId="u-1"),
             identify(anonymousId="x0", userId="u-0")]
    _agree(calls, list(itertools.permutations(range(3))), partitions, interleave)


@pytest.mark.parametrize(("partitions", "interleave"), INTERLEAVINGS)
def test_a_browser_linked_again_by_a_claimant_leaves_when_a_still_earlier_event_claims_the_e_mail(
        partitions: int, interleave: int | None) -> None:
    """The link a mark proposes is undone where a still earlier event shows time order weighed the event: A ``{x2, u-0,
    e1}`` t0, B ``{x9, e1}`` t1, C ``{u-0, e1}`` t2, D ``{x1, e1}`` t3 (bench draw 517 cut). Arriving D, C, B, A, D's
    mark reaches B's customer, which holds nothing planned before ``e1`` and links ``x1`` again; A's claim of ``e1``
    then splits ``x1`` off as in time order (``weigh_again.claimed_away``) because B's record names ``e1`` since its
    claim took it (``weigh_again_claimant.took``). Without that, ``x1`` stayed with ``x9`` (the draw newly differed)."""
    calls = [identify(anonymousId="x2", userId="u-0"), identify(anonymousId="x9"), identify(userId="u-0"),
             identify(anonymousId="x1")]
    _agree(calls, list(itertools.permutations(range(4))), partitions, interleave)


def test_bench_draws_2547_and_517_do_not_differ_by_order() -> None:
    assert not differs(2547)
    assert not differs(517)


@pytest.mark.parametrize(("partitions", "interleave"), INTERLEAVINGS)
def test_a_browser_kept_apart_where_a_claim_takes_its_e_mail_joins_the_claimant_in_every_order(
        partitions: int, interleave: int | None) -> None:
    """Every order in which B arrives first, on 1 partition and on 3 interleaved, gives the customers of time order
    (``graph/holders.py`` ``browsers``: C's customer and A's, proposed by the e-mail, merge as time order joined
    them; where that pair was weighed before A's claim of the e-mail arrived, A's customer, the e-mail's new owner, is
    proposed with C's again: ``seek.propose_owner``)."""
    _agree(CALLS, _orders(CALLS, 1), partitions, interleave)



def test_a_mark_and_an_adopt_carrying_marks_round_trip_and_older_ones_decode_without_them() -> None:
    """``Unweighed.through`` (then ``Unweighed.prior``, then ``Unweighed.met``) and ``Adopt.left`` (then
    ``Adopt.since``, a recycled claim's instant) are the last fields, default empty: a record or an ``adopt`` written
    before them decodes with them empty."""
    mark = Unweighed("evt-1", "WEB", {E_KEY: 7 << 10, X2: 7 << 10}, None, [], left="cus_2", through=E_KEY,
                     prior={E_KEY: 9 << 10}, met={E_KEY: 6 << 10})
    array = msgspec.msgpack.decode(msgspec.msgpack.encode(mark))
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(array), type=Unweighed) == mark
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(array[:-1]), type=Unweighed) == msgspec.structs.replace(
        mark, met={})
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(array[:-2]), type=Unweighed) == msgspec.structs.replace(
        mark, prior={}, met={})
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(array[:-3]), type=Unweighed) == msgspec.structs.replace(
        mark, through="", prior={}, met={})
    adopt = Adopt(E_KEY, 2, 5 << 10, False, "evt-2", "WEB", "claim~t", left=[mark])
    array = msgspec.msgpack.decode(msgspec.msgpack.encode(adopt))
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(array), type=Adopt) == adopt
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(array[:-1]), type=Adopt) == adopt  # without ``since``
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(array[:-2]), type=Adopt) == msgspec.structs.replace(
        adopt, left=[])
