"""``graph/came_with.py``: what an event without a user id brought to a customer, and with which identifiers; the
pairs survive a round trip of the state, of an ``offer`` and of an ``adopt``, and those written before decode; what
follows a claimed anonymous id (``following_claim``)."""

from __future__ import annotations

import msgspec

from processors.identity.graph import came_with
from processors.identity.graph.context import TOKEN_HASH_BYTES
from processors.identity.graph.customer_codec import plain_customer
from processors.identity.graph.limits import member
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.claims import Adopt
from processors.identity.graph.messages.steps import Offer
from processors.identity.graph.state import CustomerState, decode_state, encode_state
from processors.identity.rules import LinkPolicy
from tests.processors.identity.support import settings

POLICY = LinkPolicy(settings())
X, E, F, U = "ANONYMOUS_ID:x1", "EMAIL:e0@example.org", "EMAIL:e1@example.org", "USER_ID:u-1"


def saga(*ids: str, proposal: bool = False) -> Saga:
    return Saga("evt-1", "WEB", 60_000_000, 0.0, sorted(ids), proposal=proposal)


def joined(*ids: str, rank: int = 7 << 10) -> CustomerState:
    """x1's customer (rank 5) after ``ids`` other than x1 joined it at ``rank``."""
    return CustomerState(created=True, members={X: member(1, 5 << 10), **{key: member(1, rank) for key in ids}})


def test_a_user_less_events_new_identifier_came_with_the_ones_held_here() -> None:
    """``{x1, e0}`` joining through x1: e0 came with x1, at the rank its member holds; not with another identifier."""
    state = joined(E)
    came_with.note(POLICY, state, saga(X, E), [E])
    assert came_with.followers(state.came_with, [X], state.members) == {E}
    assert came_with.followers(state.came_with, [F], state.members) == set()
    assert came_with.followers(b"", [X], state.members) == set()


def test_an_event_with_a_user_id_or_a_proposal_notes_nothing() -> None:
    """What a user's own event brought is that user's (it leaves with it: ``displace.py``); a proposal brings
    nothing (no event)."""
    state = joined(E, U)
    came_with.note(POLICY, state, saga(X, E, U), [E, U])
    came_with.note(POLICY, state, saga(X, E, proposal=True), [E])
    assert state.came_with == b""


def test_a_member_an_earlier_event_ranked_since_no_longer_follows() -> None:
    """Its member rank is no longer the user-less event's: an earlier event (maybe a user's) carried it."""
    state = joined(E)
    came_with.note(POLICY, state, saga(X, E), [E])
    state.members[E] = member(1, 3 << 10)
    assert came_with.followers(state.came_with, [X], state.members) == set()


def test_a_merge_joins_the_losers_pairs_and_the_latest_are_kept() -> None:
    """The loser's pairs follow its members to the survivor; beyond ``MAX_CAME_WITH`` pairs the oldest go."""
    loser = joined(F)
    came_with.note(POLICY, loser, saga(X, F), [F])
    survivor = joined(E)
    came_with.note(POLICY, survivor, saga(X, E), [E])
    came_with.merge(survivor, loser.came_with)
    survivor.members[F] = loser.members[F]
    assert came_with.followers(survivor.came_with, [X], survivor.members) == {E, F}
    many = joined(*(f"EMAIL:{n}@example.org" for n in range(came_with.MAX_CAME_WITH + 1)))
    for n in range(came_with.MAX_CAME_WITH + 1):
        came_with.note(POLICY, many, saga(X, f"EMAIL:{n}@example.org"), [f"EMAIL:{n}@example.org"])
    assert len(many.came_with) == came_with.MAX_CAME_WITH * TOKEN_HASH_BYTES
    assert came_with.followers(many.came_with, [X], many.members) == {
        f"EMAIL:{n}@example.org" for n in range(1, came_with.MAX_CAME_WITH + 1)}


def test_states_and_offers_round_trip_and_those_written_before_decode_without_it() -> None:
    """``CustomerState.came_with`` and ``Offer.came_with`` are the last fields, default empty: the arrays written
    before (ending at ``households``) decode, and the field travels when set."""
    state = CustomerState(created=True, members={E: member(1, 7)}, households=[E], came_with=b"\x01" * 6)
    assert decode_state(encode_state(state)) == state
    fields = msgspec.msgpack.decode(plain_customer(encode_state(state)))  # the plain array, as stored before
    assert decode_state(msgspec.msgpack.encode(fields[:-1])) == msgspec.structs.replace(state, came_with=b"")
    offer = Offer("cus_2", {E: member(1, 7)}, None, [], [], None, "t-1", False, X, saga(X, E), households=[E],
                  came_with=b"\x01" * 6)
    encoded = msgspec.msgpack.encode(offer)
    assert msgspec.msgpack.decode(encoded, type=Offer) == offer
    array = msgspec.msgpack.decode(encoded)
    before = array[:1 + Offer.__struct_fields__.index("came_with")]  # the tag, then the fields up to households
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(before), type=Offer) == msgspec.structs.replace(
        offer, came_with=b"")


def given_up(*ids: str, rank: int = 7 << 10) -> CustomerState:
    """x1's customer after ``{x1, ...ids}`` (no user id) joined it at ``rank`` and a claim took x1 (dropped)."""
    state = joined(*ids, rank=rank)
    came_with.note(POLICY, state, saga(X, *ids), list(ids))
    del state.members[X]
    return state


def test_what_came_with_a_claimed_anonymous_id_alone_after_the_claim_follows_it() -> None:
    """A claim of rank 6 (before e0's 7) takes x1: e0 follows; a claim of rank 7 or later does not (in time order the
    e-mail's event came first, and the claimant's event found it on this customer)."""
    assert came_with.following_claim(POLICY, given_up(E), X, 6 << 10) == [E]
    assert came_with.following_claim(POLICY, given_up(E), X, 7 << 10) == []
    assert came_with.following_claim(POLICY, given_up(E), X, 8 << 10) == []


def test_only_a_claimed_anonymous_ids_followers_of_a_claimable_type_follow() -> None:
    """A claimed e-mail moves alone (the claim protocol's rule); a follower that claims do not move (a user id: a
    limit of one) stays; one an earlier event ranked since stays; nothing noted, nothing follows."""
    state = given_up(E)
    assert came_with.following_claim(POLICY, state, E, 6 << 10) == []  # not an anonymous id
    email = CustomerState(created=True, members={F: member(1, 5 << 10), E: member(1, 7 << 10)})
    came_with.note(POLICY, email, saga(F, E), [E])
    del email.members[F]
    assert came_with.following_claim(POLICY, email, F, 6 << 10) == []
    state.members[E] = member(1, 3 << 10)
    assert came_with.following_claim(POLICY, state, X, 2 << 10) == []
    bare = joined(E)
    del bare.members[X]
    assert came_with.following_claim(POLICY, bare, X, 6 << 10) == []


def test_a_member_that_came_with_the_anonymous_id_and_another_member_stays() -> None:
    """``{x1, e1, e0}`` met a customer holding x1 and e1: e0 came with both; once x1 is claimed, e1 is still here,
    and e0 (which in time order linked the two) stays with it."""
    state = joined(F, rank=5 << 10)
    state.members[E] = member(1, 7 << 10)
    came_with.note(POLICY, state, saga(X, F, E), [E])
    del state.members[X]
    assert came_with.following_claim(POLICY, state, X, 6 << 10) == []


def test_the_claimant_learns_the_pairs_of_what_follows() -> None:
    """``pairs``: the followers' pairs with the claimed anonymous id, as the claimant's ``came_with`` holds them."""
    state = given_up(E)
    learned = CustomerState(created=True, members={X: member(2, 5 << 10), E: member(2, 7 << 10)})
    came_with.merge(learned, came_with.pairs(state, X, [E]))
    assert came_with.followers(learned.came_with, [X], learned.members) == {E}
    assert came_with.pairs(state, X, []) == b""


def test_adopts_round_trip_and_those_written_before_decode_without_the_pairs() -> None:
    """``Adopt.came_with`` is a trailing field, default empty: an adopt written before it decodes (the array after the
    tag, cut before the field)."""
    adopt = Adopt(X, 2, 5 << 10, False, "evt-1", "WEB", "claim~t", came_with=b"\x01" * 6)
    encoded = msgspec.msgpack.encode(adopt)
    assert msgspec.msgpack.decode(encoded, type=Adopt) == adopt
    array = msgspec.msgpack.decode(encoded)
    before = array[:1 + Adopt.__struct_fields__.index("came_with")]
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(before), type=Adopt) == msgspec.structs.replace(
        adopt, came_with=b"")


def test_an_applied_trait_less_event_notes_what_it_found_with_the_anonymous_id() -> None:
    """``{x1, e0}`` of rank 7 applied where x1 and e0 were both held (``Apply.linked``, ``Apply.rank``): e0 came with
    x1 at 7, so it follows a claim of x1 ranked before (bench draws 618 and 1665); not a claim ranked after."""
    state = CustomerState(created=True, members={X: member(1, 7 << 10), E: member(1, 7 << 10), U: member(1, 9 << 10)})
    came_with.note_applied(POLICY, state, [E, X], 7 << 10)
    assert came_with.followers(state.came_with, [X], state.members) == {E}
    del state.members[X]
    assert came_with.following_claim(POLICY, state, X, 6 << 10) == [E]
    assert came_with.following_claim(POLICY, state, X, 8 << 10) == []


def test_an_apply_of_an_earlier_version_or_with_a_user_id_notes_nothing() -> None:
    """Rank 0 (an ``apply`` an earlier version wrote for a trait-less event) or a user id among ``linked`` (what a
    user's own event found is that user's) notes nothing; nor does ``linked`` without an anonymous id."""
    state = joined(E, U)
    came_with.note_applied(POLICY, state, [E, X], 0)
    came_with.note_applied(POLICY, state, [E, U, X], 7 << 10)
    came_with.note_applied(POLICY, state, [E, F], 7 << 10)
    assert state.came_with == b""


def test_an_identifier_a_user_less_event_brought_with_a_member_it_visited() -> None:
    """``brought_by_user_less``: ``{x1, e0}`` joined e0 through x1 (x1 ranked at the event's rank since its visit);
    still so when an earlier event lowers e0's rank; not for an event with a user id, nor for a member whose rank is
    not the event's (nothing shows the event visited it)."""
    state = CustomerState(created=True, members={X: member(1, 7 << 10), E: member(1, 7 << 10)})
    came_with.note(POLICY, state, saga(X, E), [E])
    assert came_with.brought_by_user_less(state, E)
    state.members[E] = member(1, 3 << 10)
    assert came_with.brought_by_user_less(state, E)
    assert not came_with.brought_by_user_less(state, X)
    login = CustomerState(created=True, members={X: member(1, 7 << 10), E: member(1, 7 << 10), U: member(1, 7 << 10)})
    came_with.note(POLICY, login, saga(X, E, U), [E, U])
    assert not came_with.brought_by_user_less(login, E)
    earlier = joined(E)
    came_with.note(POLICY, earlier, saga(X, E), [E])
    assert not came_with.brought_by_user_less(earlier, E)
