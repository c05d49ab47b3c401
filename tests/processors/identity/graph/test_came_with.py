"""``graph/came_with.py``: what an event without a user id brought to a customer, and with which identifiers; the
entries survive a round trip of the state and of an ``offer``, and states and offers written before decode."""

from __future__ import annotations

import msgspec

from processors.identity.graph import came_with
from processors.identity.graph.limits import member
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Offer
from processors.identity.graph.state import CustomerState, decode_state, encode_state
from processors.identity.rules import LinkPolicy
from tests.processors.identity.support import settings

POLICY = LinkPolicy(settings())
X, E, F, U = "ANONYMOUS_ID:x1", "EMAIL:e0@example.org", "EMAIL:e1@example.org", "USER_ID:u-1"


def saga(*ids: str, proposal: bool = False) -> Saga:
    return Saga("evt-1", "WEB", 60_000_000, 0.0, sorted(ids), proposal=proposal)


def test_a_user_less_events_new_identifier_came_with_the_ones_held_here() -> None:
    """``{x1, e0}`` joining through x1: e0 came with x1, at the rank its member holds."""
    state = CustomerState(created=True, members={X: member(1, 5 << 10), E: member(1, 7 << 10)})
    came_with.note(POLICY, state, saga(X, E), [E])
    assert state.came_with == {E: (7 << 10, [X])}
    assert came_with.followers(state.came_with, [X], state.members) == {E}
    assert came_with.followers(state.came_with, [F], state.members) == set()  # not through the linking identifier


def test_an_event_with_a_user_id_or_a_proposal_notes_nothing() -> None:
    """What a user's own event brought is that user's (it leaves with it: ``displace.py``); a proposal brings
    nothing (no event)."""
    state = CustomerState(created=True, members={X: member(1, 5 << 10), E: member(1, 7 << 10), U: member(1, 7 << 10)})
    came_with.note(POLICY, state, saga(X, E, U), [E, U])
    came_with.note(POLICY, state, saga(X, E, proposal=True), [E])
    assert state.came_with == {}


def test_a_member_an_earlier_event_ranked_since_no_longer_follows() -> None:
    """Its member rank is no longer the user-less event's: an earlier event (maybe a user's) carried it."""
    state = CustomerState(created=True, members={X: member(1, 5 << 10), E: member(1, 7 << 10)})
    came_with.note(POLICY, state, saga(X, E), [E])
    state.members[E] = member(1, 3 << 10)
    assert came_with.followers(state.came_with, [X], state.members) == set()


def test_a_merge_takes_the_entries_of_the_members_that_moved_and_the_latest_are_kept() -> None:
    state = CustomerState(created=True, came_with={E: (7, [X])})
    came_with.merge(state, {F: (9, [X]), "EMAIL:gone@example.org": (9, [X])}, [F])
    assert state.came_with == {E: (7, [X]), F: (9, [X])}
    many = {f"EMAIL:{n}@example.org": (n + 1, [X]) for n in range(came_with.MAX_CAME_WITH + 3)}
    came_with.merge(state, many, list(many))
    assert len(state.came_with) == came_with.MAX_CAME_WITH
    assert list(state.came_with) == list(many)[-came_with.MAX_CAME_WITH:]


def test_states_and_offers_round_trip_and_those_written_before_decode_without_it() -> None:
    """``CustomerState.came_with`` and ``Offer.came_with`` are the last fields, default ``{}``: the arrays written
    before (ending at ``households``) decode, and the field travels when set."""
    state = CustomerState(created=True, members={E: member(1, 7)}, households=[E], came_with={E: (7, [X])})
    assert decode_state(encode_state(state)) == state
    fields = msgspec.msgpack.decode(encode_state(state))
    older = msgspec.msgpack.encode(fields[:-1])
    assert decode_state(older) == msgspec.structs.replace(state, came_with={})
    offer = Offer("cus_2", {E: member(1, 7)}, None, [], [], None, "t-1", False, X, saga(X, E), households=[E],
                  came_with={E: (7, [X])})
    encoded = msgspec.msgpack.encode(offer)
    assert msgspec.msgpack.decode(encoded, type=Offer) == offer
    array = msgspec.msgpack.decode(encoded)
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(array[:-1]), type=Offer) == msgspec.structs.replace(
        offer, came_with={})
