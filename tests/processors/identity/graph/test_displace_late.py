"""A user id the limit of one refused while a rank was in flight is decided again once that event is applied
(#8 point 5, ``graph/displace_late.py``).

Bench draw 538 cut to three calls: ``{x1, e1}`` t0, ``{x1, u-1}`` t1, ``{x1, u-2}`` t2. In time order u-1 joins the
anonymous e-mail's customer and u-2 is refused: ``{x1, e1, u-1}``, ``{u-2}``. Arriving t2 first and then t1 and t0
in flight together (3 partitions interleaved), u-1's join reached u-2's customer before t0's: x1 ranked at t0, an
event not applied there yet (or still at u-2's own rank, t0's visit not told yet), so u-1 was refused, and nothing
decided it again when t0's join brought e1 to u-2: ``{x1, e1, u-2}``, ``{u-1}``. Draws 883, 1011, 1092 and 2868 are
the same shape with other users and anonymous ids (the user ids in either order of rank), 3018 with an e-mail of the
later user's own. Measured:
``tests/bench/results/identity_email_order.md`` (branch order17).
"""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
import pytest

from processors.identity.graph import displace_late
from processors.identity.graph.context import remember
from processors.identity.graph.customer_codec import plain_customer
from processors.identity.graph.limits import member
from processors.identity.graph.state import Awaited, CustomerState, decode_state, encode_state
from processors.identity.rules import CO_OBSERVED
from tests.processors.identity.graph.test_customer_merge_order import clusters, identify

E, F = "e0@example.org", "e1@example.org"


def _shape(anonymous: str, email: str, earlier: str, later: str) -> tuple[list[dict[str, Any]], set[frozenset[str]]]:
    """An anonymous e-mail on ``anonymous`` at t0, then user ``earlier`` at t1 and ``later`` at t2 on it, with the
    time-order customers."""
    calls = [identify(anonymousId=anonymous, email=email), identify(anonymousId=anonymous, userId=earlier),
             identify(anonymousId=anonymous, userId=later)]
    return calls, {frozenset({f"ANONYMOUS_ID:{anonymous}", f"EMAIL:{email}", f"USER_ID:{earlier}"}),
                   frozenset({f"USER_ID:{later}"})}


# Bench draws cut down to three calls (seed: calls at minutes 0-2, time-order customers).
DRAWS = {538: _shape("x1", F, "u-1", "u-2"), 883: _shape("x0", F, "u-0", "u-1"), 1011: _shape("x1", F, "u-0", "u-2"),
         1092: _shape("x1", F, "u-2", "u-1"), 2868: _shape("x0", F, "u-2", "u-1"),
         # The later user's event brings an e-mail of its own, which stays with it.
         3018: ([identify(anonymousId="x1", email=F), identify(anonymousId="x1", userId="u-2"),
                 identify(anonymousId="x1", userId="u-1", email=E)],
                {frozenset({"ANONYMOUS_ID:x1", f"EMAIL:{F}", "USER_ID:u-2"}),
                 frozenset({f"EMAIL:{E}", "USER_ID:u-1"})})}
# Every order settled one by one (1 partition; these agreed before the rule too), and on 3 partitions with messages
# interleaved (four interleavings; 2 to 4 of the 24 replays of each draw differed before).
REPLAYS = [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)]


@pytest.mark.parametrize(("partitions", "interleave"), REPLAYS)
@pytest.mark.parametrize("seed", sorted(DRAWS))
def test_every_order_gives_the_time_order_customers(seed: int, partitions: int, interleave: int | None) -> None:
    calls, expected = DRAWS[seed]
    for order in itertools.permutations(range(len(calls))):
        assert clusters(calls, order, partitions=partitions, seed=interleave) == expected, order


def _entry(event_id: str = "ev-1", ranks: list[int] | None = None) -> Awaited:
    return Awaited([7] if ranks is None else ranks, "USER_ID:u-2", 9, "USER_ID:u-1", 8, ["ANONYMOUS_ID:x1"],
                   event_id, "WEB")


def test_an_entry_is_due_once_every_rank_it_awaits_was_applied() -> None:
    state = CustomerState(created=True)
    displace_late.note(state, _entry(ranks=[7, 5]))
    state.ranks_applied = remember(b"", "7", 8)
    assert displace_late.due(state, 7) == []
    state.ranks_applied = remember(state.ranks_applied, "5", 8)
    assert displace_late.due(state, 5) == [_entry(ranks=[7, 5])]
    displace_late.drop(state, _entry(ranks=[7, 5]))
    assert state.awaited == []


def test_an_entry_that_awaits_no_rank_is_tried_at_every_apply_and_kept_until_decided() -> None:
    state = CustomerState(created=True)
    displace_late.note(state, _entry(ranks=[]))
    assert displace_late.due(state, 3) == [_entry(ranks=[])]
    assert state.awaited == [_entry(ranks=[])]


def test_one_entry_per_event_and_the_latest_kept() -> None:
    state = CustomerState(created=True)
    for index in range(displace_late.MAX_AWAITED + 2):
        displace_late.note(state, _entry(f"ev-{index}"))
    displace_late.note(state, _entry(f"ev-{displace_late.MAX_AWAITED + 1}", ranks=[4]))
    assert [entry.event_id for entry in state.awaited] == [f"ev-{index}" for index in range(
        2, displace_late.MAX_AWAITED + 2)]
    assert state.awaited[-1].ranks == [4]


def test_the_late_link_looks_both_up_skips_the_weight_and_names_no_identifier() -> None:
    saga = displace_late.late_saga(_entry())
    assert saga.lookup_only == saga.ids == ["ANONYMOUS_ID:x1", "USER_ID:u-1"]
    assert saga.proposal and saga.force and saga.rule == CO_OBSERVED and not saga.reject
    assert saga.event_id.startswith(displace_late.TOKEN_PREFIX)
    assert "u-1" not in saga.event_id and "u-2" not in saga.event_id and "x1" not in saga.event_id
    assert displace_late.late_saga(_entry()).event_id == saga.event_id  # the same on a redelivery


def test_the_awaited_steps_round_trip_and_states_written_before_decode_without_them() -> None:
    """``CustomerState.awaited`` is a last field with a default."""
    state = CustomerState(created=True, members={"EMAIL:" + E: member(1, 7)}, review_owed=["EMAIL:" + E],
                          awaited=[_entry()])
    assert decode_state(encode_state(state)) == state
    fields = msgspec.msgpack.decode(plain_customer(encode_state(state)))  # the plain array, as stored before
    assert decode_state(msgspec.msgpack.encode(fields[:-1])) == msgspec.structs.replace(state, awaited=[])
