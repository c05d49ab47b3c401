"""``graph/carried_pair.py``: the pairs an event without a user id met together on a customer (``carried``, from its
earliest carrier; ``carried_late`` where it came first with both) and the sides a browser's ``offer`` merged in
(``merged_in``); they move with a merge, and states and offers written before them decode without them."""

from __future__ import annotations

import msgspec

from processors.identity.graph import came_with, carried_pair
from processors.identity.graph.limits import member
from processors.identity.graph.messages.steps import Offer
from processors.identity.graph.state import CustomerState, decode_state, encode_state
from tests.processors.identity.graph.test_came_with import POLICY, E, F, U, X, joined, saga


def test_the_earliest_carrier_of_a_pair_is_kept_and_a_merge_keeps_the_earlier() -> None:
    """``{x1, e0}`` applied at 9, then at 8, where both ranked before (``carried``): the pair's carrier ranks 8, read
    either way round (``carried_since``); not a pair of a member ranked after the event; a merged-in customer's pair
    carried at 6 is kept at 6 (``merge``). States and offers written before the field decode without it."""
    state = joined(E)
    carried_pair.carried(POLICY, state, [X, E], 9 << 10)
    carried_pair.carried(POLICY, state, [X, E], 8 << 10)
    carried_pair.carried(POLICY, state, [X, F], 8 << 10)  # (F no member)
    assert carried_pair.carried_since(state, X, [E]) == carried_pair.carried_since(state, E, [X]) == 8 << 10
    assert carried_pair.carried_since(state, X, [F, U]) == 0
    assert carried_pair.carried_with(state, E, 7 << 10) == [X]
    late = joined(E, rank=9 << 10)
    carried_pair.carried(POLICY, late, [X, E], 9 << 10)
    assert late.carried_at == {}
    loser = joined(E, rank=4 << 10)
    carried_pair.carried(POLICY, loser, [X, E], 6 << 10)
    came_with.merge(state, loser.came_with, loser.carried_at)
    assert carried_pair.carried_since(state, X, [E]) == 6 << 10
    assert decode_state(encode_state(state)) == state
    offer = Offer("cus_2", state.members, None, [], [], None, "t-1", False, X, saga(X, E), carried_at=state.carried_at)
    array = msgspec.msgpack.decode(msgspec.msgpack.encode(offer))
    before = array[:1 + Offer.__struct_fields__.index("carried_at")]
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(before), type=Offer) == msgspec.structs.replace(
        offer, carried_at={})


def test_an_event_that_came_first_with_both_is_noted_as_an_earlier_one_lowers_them() -> None:
    """``{x1, e0}`` of rank 9 made the customer (both new: a note each way at 9); an event of rank 6 lowers x1, then
    e0 (``carried_late`` at each rekey): the pair is carried at 9 (``carried_with`` reads it at e0's new rank). Not
    where x1 was here before the event (it brought e0 alone: only e0's note)."""
    state = CustomerState(created=True, members={X: member(1, 9 << 10), E: member(1, 9 << 10)})
    came_with.note(POLICY, state, saga(X, E), [X, E])
    state.members[X] = member(1, 6 << 10)
    carried_pair.carried_late(state, X, 9 << 10)
    assert carried_pair.carried_with(state, E, 9 << 10) == []  # e0 still ranks 9: not before the event yet
    state.members[E] = member(1, 6 << 10)
    carried_pair.carried_late(state, E, 9 << 10)
    assert carried_pair.carried_with(state, E, 6 << 10) == [X]
    assert carried_pair.carried_since(state, X, [E]) == 9 << 10
    brought = joined(E, rank=9 << 10)
    came_with.note(POLICY, brought, saga(X, E), [E])
    brought.members[E] = member(1, 6 << 10)
    carried_pair.carried_late(brought, E, 9 << 10)
    assert brought.carried_at == {} and carried_pair.carried_with(brought, E, 6 << 10) == []


def test_a_user_less_offer_notes_each_side_as_merged_in_through_the_others_identifier() -> None:
    """``{x0, e0}`` merged ``{x0}`` into ``{x2, u-1, e0}`` (``merged_in``): ``x0`` came in through ``e0``, the other
    side through ``x0`` (``merged_through``); not a side that also came in through another member here, nor one no
    longer whole (a member left since); an event with a user id notes nothing. The field moves with a
    merge (``Offer.merged_in``), and states and offers written before it decode without it. (A proposal is not noted:
    ``customer_merge.on_offer`` calls it for an event's offer only.)"""
    x0, x2 = "ANONYMOUS_ID:x0", "ANONYMOUS_ID:x2"
    state = CustomerState(created=True, members={x0: member(1, 8 << 10), x2: member(1, 7 << 10),
                                                 U: member(1, 7 << 10), E: member(1, 7 << 10)})
    carried_pair.merged_in(POLICY, state, [x0, E], [x2, U, E], [x0])
    assert carried_pair.merged_through(state, E) == [x0]
    assert carried_pair.merged_through(state, x0) == sorted([x2, U, E])
    assert carried_pair.merged_through(state, x2) == []
    gone = msgspec.structs.replace(state, members={key: value for key, value in state.members.items() if key != U})
    assert carried_pair.merged_through(gone, x0) == []  # the side is not whole here
    login = CustomerState(created=True, members=dict(state.members))
    carried_pair.merged_in(POLICY, login, [x0, U, E], [x2, U, E], [x0])  # an event with a user id
    assert login.merged_in == b""
    survivor = CustomerState(created=True, members=dict(state.members))
    came_with.merge(survivor, b"", None, state.merged_in)
    assert carried_pair.merged_through(survivor, E) == [x0]
    assert decode_state(encode_state(state)) == state
    offer = Offer("cus_2", state.members, None, [], [], None, "t-1", False, E, saga(x0, E), merged_in=state.merged_in)
    array = msgspec.msgpack.decode(msgspec.msgpack.encode(offer))
    before = array[:1 + Offer.__struct_fields__.index("merged_in")]
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(before), type=Offer) == msgspec.structs.replace(
        offer, merged_in=b"")
