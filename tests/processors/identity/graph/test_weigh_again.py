"""``graph/weigh_again.py``: what a customer keeps of the events it took unweighed (``note``, ``merge``, ``carried``),
and ``CustomerState.unweighed`` / ``Offer.unweighed`` (last fields, default empty): they travel when set, and the
records written before them decode with them empty. The order tests of the kind: ``test_members_decide_order.py``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import msgspec

from processors.identity.graph import weigh_again
from processors.identity.graph.customer_codec import plain_customer
from processors.identity.graph.limits import member, saga_rank
from processors.identity.graph.messages.base import Saga, Unweighed
from processors.identity.graph.messages.steps import Apply, Offer
from processors.identity.graph.saga import apply_message
from processors.identity.graph.state import CustomerState, decode_state, encode_state
from tests.processors.identity.graph.test_came_with import POLICY, E, F, X


def saga(event_id: str, *ids: str, minute: int = 1) -> Saga:
    return Saga(event_id, "WEB", minute * 60_000_000, 0.0, sorted(ids))


def node(state: CustomerState) -> Any:
    """The part of a handler's context ``note``/``merge``/``carried`` read: the state and the policy."""
    return SimpleNamespace(state=state, policy=POLICY, key="cus_1")


def test_an_event_is_kept_with_the_ranks_it_gave_the_identifiers_held_here_the_latest_kept() -> None:
    first = saga("evt-1", X, E)
    state = CustomerState(created=True, members={X: member(1, saga_rank(first)), E: member(1, saga_rank(first))})
    ctx = node(state)
    weigh_again.note(ctx, first, [X, E, F])  # F is not held here: left out
    assert state.unweighed == [Unweighed("evt-1", "WEB", {E: saga_rank(first), X: saga_rank(first)})]
    for index in range(2, weigh_again.MAX_UNWEIGHED + 3):
        weigh_again.note(ctx, saga(f"evt-{index}", X, E, minute=index), [X, E])
    assert len(state.unweighed) == weigh_again.MAX_UNWEIGHED
    assert state.unweighed[-1].event_id == f"evt-{weigh_again.MAX_UNWEIGHED + 2}"
    weigh_again.merge(ctx, [state.unweighed[-1], Unweighed("evt-0", "WEB", {F: 5})], 0, [], [])  # no copy twice
    assert [entry.event_id for entry in state.unweighed].count(f"evt-{weigh_again.MAX_UNWEIGHED + 2}") == 1
    assert state.unweighed[-1].event_id == "evt-0"


def test_members_a_later_ranked_step_brings_are_none_a_kept_event_met() -> None:
    """A join or merge by an event ranked after a kept one brings members that came after it in time order too
    (``Unweighed.after``); one ranked before it brings members it met. At a merge each side's kept events learn the
    other side's members."""
    first = saga("evt-1", X, E, minute=5)
    rank = saga_rank(first)
    state = CustomerState(created=True, members={X: member(1, rank), E: member(1, rank)})
    ctx = node(state)
    weigh_again.note(ctx, first, [X, E])
    weigh_again.joined(ctx, rank - 1, [F])  # an earlier event's step: met
    assert state.unweighed[0].after == []
    weigh_again.joined(ctx, rank + 1, [F, X])  # a later event's step: after it (its own identifiers left out)
    assert state.unweighed[0].after == [F]
    theirs = Unweighed("evt-9", "WEB", {"EMAIL:other@example.org": rank + 5})
    weigh_again.merge(ctx, [theirs], rank + 2, [X, E, F], ["EMAIL:other@example.org"])
    assert [(entry.event_id, entry.after) for entry in state.unweighed] == [
        ("evt-1", [F, "EMAIL:other@example.org"]), ("evt-9", [])]  # evt-9 ranks after the merging event


def test_a_later_event_that_carries_a_kept_events_identifier_with_another_member_settles_it() -> None:
    first = saga("evt-1", X, E)
    state = CustomerState(created=True, members={X: member(1, saga_rank(first)), E: member(1, saga_rank(first)),
                                                 F: member(1, 3)})
    ctx = node(state)
    weigh_again.note(ctx, first, [X, E])
    weigh_again.carried(ctx, "evt-1", [X, E])  # its own apply: kept
    weigh_again.carried(ctx, "evt-2", [X])  # one member alone links nothing: kept
    weigh_again.carried(ctx, "evt-2", [F, "EMAIL:other@example.org"])  # none of its identifiers: kept
    assert [entry.event_id for entry in state.unweighed] == ["evt-1"]
    weigh_again.carried(ctx, "evt-2", [X, F])
    assert state.unweighed == []


def test_states_and_offers_round_trip_and_those_written_before_decode_without_it() -> None:
    entry = Unweighed("evt-1", "WEB", {E: 7 << 10, X: 7 << 10}, {"given_name": ["ann"]})
    state = CustomerState(created=True, members={E: member(1, 7)}, review_owed=[E], unweighed=[entry])
    assert decode_state(encode_state(state)) == state
    fields = msgspec.msgpack.decode(plain_customer(encode_state(state)))  # the plain array, as stored before
    assert decode_state(msgspec.msgpack.encode(fields[:-1])) == msgspec.structs.replace(state, unweighed=[])
    offer = Offer("cus_2", {E: member(1, 7)}, None, [], [], None, "t-1", False, X, saga("evt-2", X, E),
                  review_owed=[E], unweighed=[entry])
    array = msgspec.msgpack.decode(msgspec.msgpack.encode(offer))
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(array), type=Offer) == offer
    before = array[:1 + Offer.__struct_fields__.index("unweighed")]
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(before), type=Offer) == msgspec.structs.replace(
        offer, unweighed=[])


def test_a_decided_again_record_and_a_trait_less_apply_round_trip_and_older_ones_decode_without_them() -> None:
    """``Unweighed.left`` (the customer a kept event's identifiers left for) and ``Apply.linked`` (a trait-less event's
    owned identifiers): trailing fields, default empty; records written before them decode with them empty."""
    entry = Unweighed("evt-1", "WEB", {E: 7 << 10, X: 7 << 10}, None, [F], left="cus_2")
    array = msgspec.msgpack.decode(msgspec.msgpack.encode(entry))
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(array), type=Unweighed) == entry
    before = array[:Unweighed.__struct_fields__.index("left")]
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(before), type=Unweighed) == msgspec.structs.replace(
        entry, left="")
    apply = Apply("evt-2", 0.0, None, None, linked=[E, X])
    array = msgspec.msgpack.decode(msgspec.msgpack.encode(apply))
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(array), type=Apply) == apply
    before = array[:1 + Apply.__struct_fields__.index("claims_record") + 1]
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(before), type=Apply) == msgspec.structs.replace(
        apply, linked=[])


def test_a_trait_less_event_carries_its_owned_identifiers_only_when_two_or_more_had_an_owner() -> None:
    two = msgspec.structs.replace(saga("evt-1", X, E), seen={X: "cus_1", E: "cus_1"}, current="cus_1")
    assert apply_message(two).linked == sorted([E, X])
    one = msgspec.structs.replace(saga("evt-2", X, E), seen={X: "cus_1", E: ""}, current="cus_1")
    assert apply_message(one).linked == []


def test_a_later_event_carrying_the_pair_a_decided_again_record_split_links_it_again_once() -> None:
    sent: list[Any] = []
    state = CustomerState(created=True, members={E: member(1, 5 << 10)},
                          unweighed=[Unweighed("evt-1", "WEB", {E: 7 << 10, X: 7 << 10}, left="cus_2")])
    ctx = SimpleNamespace(state=state, policy=POLICY, key="cus_1", send=lambda *message: sent.append(message))
    weigh_again.carried(ctx, "evt-3", [X, E])
    assert [message[0] for message in sent] == [min(E, X)] and state.unweighed == []
    visit = sent[0][1]
    assert visit.saga.proposal and visit.saga.lookup_only == sorted([E, X])
    assert visit.saga.event_id.startswith(weigh_again.TOKEN_PREFIX) and "example" not in visit.saga.event_id
    weigh_again.carried(ctx, "evt-3", [X, E])  # a copy: nothing more
    assert len(sent) == 1
