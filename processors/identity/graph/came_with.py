"""What an event without a user id brought to a customer, and with which of its identifiers (issue #8 point 5).

``CustomerState.came_with``: 6-byte hashes (``context.remember``) of ``member|rank|other``, for an identifier that an
event carrying no identifier of a type limited to one (no user id, no national ID: an anonymous identify, an anonymous
id's e-mail) ranked first on (``rank``, ``limits.event_rank`` with its channel) when it made it a member here, by
``create`` or ``join``, and each ``other`` of the event's identifiers this customer held then. The latest
``MAX_CAME_WITH`` pairs; they move with ``Offer.came_with`` at a merge. Hashes, not keys: identifier keys are long
(the node changelog's bytes per event, ``tests.bench.identity_hotpath --events 1000 --warm 3000``: 270 -> 335 with
the keys, 270 -> 279 with the hashes).

Read by ``displace.py``: where a user id ranked before the customer's resident one reaches the customer through an
identifier (the linking one), a member such an event brought *with* it came after that identifier in time order,
whoever held it then: in time order it is where the linking identifier went, with the earlier user id. Its rank
(after the resident's) says nothing about the resident. Segment aliases give such customers: ``alias x1 -> u-2``
names an anonymous id nobody owns yet, its link waits for ``identify {x1, e}`` to make x1's customer and then links
u-2 to it (``saga.alias_sagas``), so e (ranked after u-2) is on u-2's customer with x1; an earlier ``alias x1 ->
u-1`` arriving last takes the customer (bench draws 17 and 438, ``tests/bench/results/identity_email_order.md``).
At the loser's side of an ``offer`` (``displace.at_offer_loser``) the linking identifier such a member came with stays
too: a user-less event brought it, not the resident's alone.

Read by ``claim_node.on_give`` too, for an anonymous id only (``following_claim``): a claimed identifier moves alone
(``claim_node.py``, "what it linked while with the old owner stays linked"), except a member that an event without a
user id brought with a claimed anonymous id alone, after the claim's rank. An anonymous id ranks by its earliest
login (``limits.tells``), and the claim takes it to that login's customer; in time order that login came first, so a
later user-less event that reached a customer only through the anonymous id (``{x1, e1}`` after ``{x1, u-1}``) found
it on the claimant's customer and brought its e-mail there. Arriving before the login (3 partitions interleaved:
``{x1, u-0}`` t2 first, then t0 and t1 in flight together), it brought the e-mail to the giver, which kept it. The
member follows with a claim of the same rank and claimant, and the claimant learns the pair (``Adopt.came_with``),
so the member follows again when an earlier login claims the anonymous id on (bench draw 1711). Arriving after a
later login that carried the anonymous id and the e-mail, the user-less event found both on that login's customer and
was applied there: its ``apply`` notes the pair at its rank (``note_applied``), and the e-mail follows the earlier
login's claim all the same (bench draws 618 and 1665). Measured (bench seeds
0-3499, ``tests/bench/results/identity_email_order.md``, branch order14): 250 -> 232 differing draws, none newly.
Moving such members with every claim was tried: 402 differed instead of 270 (branch aliases), 399 instead of 250
(order14); with every kind of claimed identifier where the giver holds a user id, 8 draws that agreed differed.

Read by ``rank_node.on_rekey`` and ``claim_node.on_give`` too (``lowered``, ``met_through``, ``given``): a user-less
event that brought an e-mail to a customer it met through an earlier event's anonymous id (``{x0, e0}`` t0, ``{x1,
u-0, e1}`` t1, ``{x0, e1}`` t2) met, in time order, t1's customer through the e-mail and t0's through ``x0``: an
``offer``, weighed. Arriving before t1, it joined the e-mail to t0's customer, and t1's claim took it away, leaving
two customers. The fall of either identifier's rank notes the pair (``met_through``, a hash of its own kind in the
same bytes), and the claim proposes it again; where the claim came first (t2, t1, t0), the fall of ``x0`` reads that
the claim took the e-mail (``given``). Measured (``tests/bench/results/identity_email_order.md``, branch order27):
157 -> 148 differing draws, none newly; without the guard on a customer holding a user id (``_holds_one``) 141, but
draws 1455 and 1957 newly differed.

The pairs an event without a user id met here together, both ranked before it (``carried``), what a proposal of
such a pair or a browser's ``offer`` merged in through one of its identifiers (``linked_in``, ``merged_in``) and what
reads them: ``carried_pair.py``; what undoes those links when an earlier event claims or joins through them:
``carried_undo.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from processors.identity.graph.context import TOKEN_HASH_BYTES, recalls, remember
from processors.identity.graph.limits import claimable, member_rank
from processors.identity.graph.messages.base import Member, Saga
from processors.identity.graph.state import CustomerState
from processors.identity.rules import UNTOLD_KINDS, LinkPolicy, kind_of

MAX_CAME_WITH = 8  # (member, other) pairs a root keeps, the latest: an older one lets nothing follow
MAX_MERGED_IN = 8  # merged-in members a root keeps, the latest (``carried_pair.merged_in``): part of a side is not read


def note(policy: LinkPolicy, state: CustomerState, saga: Saga, keys: Iterable[str]) -> None:
    """``keys`` (the saga's identifiers just made members of ``state``) came with the saga's other identifiers held
    here, if the event carries no identifier of a type limited to one; at the rank their member holds (the event's, or
    an earlier one its node knew: ``limits.rank_of``; ``followers`` reads it back only while it stands)."""
    if saga.proposal or any(policy.limit(kind_of(key)) == 1 for key in saga.ids):
        return
    members = state.members
    held = [key for key in saga.ids if key in members and key not in saga.lookup_only]
    kept = state.came_with
    for key in keys:
        rank = member_rank(members[key]) if key in members else 0
        for other in held if rank else ():
            if other != key:
                kept = remember(kept, pair(key, rank, other), MAX_CAME_WITH)
    state.came_with = kept


def note_applied(policy: LinkPolicy, state: CustomerState, linked: Iterable[str], rank: int) -> None:
    """A trait-less event of ``rank`` (``Apply.rank``; 0 from an earlier version: nothing noted) carrying no
    identifier of a type limited to one was applied here, where it found ``linked`` (``Apply.linked``: its identifiers
    owned at its visit) together: each claimable member of them (``limits.claimable``: an e-mail, a phone) came with
    each anonymous id of them held here, at the event's rank (``following_claim`` reads it back only while the member
    still ranks there: the event ranked first on it). In time order the event may have found the anonymous id on an
    earlier login's customer and brought the member there: arriving after a later login that carried both, it found
    them on that login's customer, and the earlier login's claim of the anonymous id must take the member along
    (bench draws 618 and 1665: ``{x1, u-1}`` t0, ``{x1, e0}`` t1, ``{x1, u-0, e0}`` t2, the last arriving first)."""
    linked = list(linked)
    if not rank or any(policy.limit(kind_of(key)) == 1 for key in linked):
        return
    members, kept = state.members, state.came_with
    anonymous = [key for key in linked if key in members and kind_of(key) in UNTOLD_KINDS]
    for key in linked:
        if key in members and claimable(policy, key):
            for other in anonymous:
                if other != key:
                    kept = remember(kept, pair(key, rank, other), MAX_CAME_WITH)
    state.came_with = kept


def merge(state: CustomerState, theirs: bytes, theirs_at: Mapping[str, int] | None = None,
          theirs_merged: bytes = b"") -> None:
    """A merged-in customer's pairs (``Offer.came_with``) join the survivor's, the latest ``MAX_CAME_WITH`` kept; its
    carriers' ranks (``Offer.carried_at``), the earlier of two for one pair; and its merged-in members
    (``Offer.merged_in``)."""
    state.came_with = (state.came_with + theirs)[-MAX_CAME_WITH * TOKEN_HASH_BYTES:]
    if theirs_merged:
        state.merged_in = (state.merged_in + theirs_merged)[-MAX_MERGED_IN * TOKEN_HASH_BYTES:]
    if theirs_at:
        at = dict(state.carried_at)
        for name, rank in theirs_at.items():
            at[name] = min(rank, at.pop(name, rank))
        state.carried_at = dict(list(at.items())[-MAX_CAME_WITH:])


def followers(kept: bytes, linking: Iterable[str], members: Mapping[str, Member]) -> set[str]:
    """The ``members`` an event without a user id brought with one of ``linking`` (the identifiers through which a
    step reaches the customer), by the customer's pairs ``kept`` (``CustomerState.came_with``, ``Offer.came_with``),
    still at the rank it gave them (no earlier event carried them since)."""
    if not kept:
        return set()
    through = list(linking)
    return {key for key, value in members.items() if key not in through and any(
        recalls(kept, pair(key, member_rank(value), other)) for other in through)}


def brought_by_user_less(state: CustomerState, key: str) -> bool:
    """Whether an event without a user id brought member ``key`` here with another member whose rank is that event's
    (a pair of ``note`` at that member's rank, the event visited it): the event that made ``key`` a member carried no
    login, so a login here came by another identifier (``customer_join.weighed_the_other_way``)."""
    return brought_by(state.came_with, state.members, key)


def brought_by(kept: bytes, members: Mapping[str, Member], key: str) -> bool:
    """``brought_by_user_less`` read from a customer's pairs (``kept``: ``CustomerState.came_with``) and ``members``,
    as an ``Offer`` carries them (``Offer.came_with``, ``Offer.members``)."""
    return bool(kept) and any(recalls(kept, pair(key, member_rank(value), other))
                              for other, value in members.items() if other != key and member_rank(value))


def made_by_user_less(state: CustomerState, key: str) -> bool:
    """Whether an event without a user id made member ``key`` a member here at the rank it still holds (a pair of
    ``note`` at ``key``'s own rank, with any member the event found here, at whatever rank that one holds)."""
    kept, members = state.came_with, state.members
    rank = member_rank(members[key]) if key in members else 0
    return bool(kept and rank) and any(recalls(kept, pair(key, rank, other)) for other in members if other != key)


def following_claim(policy: LinkPolicy, state: CustomerState, claimed: str, rank: int) -> list[str]:
    """The members of ``state`` (the giver's, ``claimed`` already dropped) that follow ``claimed`` to the customer a
    claim of ``rank`` (``Give.rank``: the claimant's event, ``limits.event_rank``) takes it to, sorted: for an anonymous
    id (``rules.UNTOLD_KINDS``: it ranks by its earliest login), each member of a type claims move
    (``limits.claimable``: an e-mail, a phone) that an event without a user id brought with ``claimed`` and nothing
    else this customer holds (``CustomerState.came_with``, at the rank it gave the member, still its rank here), by an
    event ranked after ``rank``: in time order that event found ``claimed`` on the claimant's customer. Empty
    otherwise (a claimed e-mail or phone moves alone, the claim protocol's rule)."""
    kept = state.came_with
    if not kept or kind_of(claimed) not in UNTOLD_KINDS:
        return []
    members = state.members
    return sorted(key for key, value in members.items() if rank < member_rank(value) and claimable(policy, key)
                  and recalls(kept, pair(key, member_rank(value), claimed))
                  and not any(recalls(kept, pair(key, member_rank(value), other)) for other in members
                              if other != key))


def lowered(policy: LinkPolicy, state: CustomerState, key: str, old: int, new: int) -> list[str]:
    """Member ``key``'s rank falls from ``old`` to ``new`` (``rank_node.on_rekey``: an earlier event carries it). Where
    an event without a user id brought ``key`` and another member here together at ``old`` (a pair of ``note``) and
    an earlier event has carried the other since (its rank below ``old``), the user-less event met, in time order, the
    earlier events' customers through the two: noted (``met_through``) for each of the two at the rank it holds now,
    so that the claim of either by the earlier event that ranks first on it reads it once the rank the user-less event
    gave is gone. Returned: the identifiers such an event brought with ``key`` that a claim took away before
    (``given``): in time order the event met the claimant's customer through them and this one through ``key``, to be
    proposed again. Nothing where this customer holds a user id (``_holds_one``)."""
    kept, members = state.came_with, state.members
    if _holds_one(policy, state):
        return []
    gone = sorted(other for other in state.elsewhere if other not in members and recalls(kept, _given(other))
                  and recalls(kept, pair(key, old, other)))
    for other, value in members.items() if kept else ():
        rank = member_rank(value)
        if other == key or not 0 < rank < old:
            continue
        if recalls(kept, pair(key, old, other)):
            kept = remember(kept, _met(key, new, other), MAX_CAME_WITH)
        if recalls(kept, pair(other, old, key)):
            kept = remember(kept, _met(other, rank, key), MAX_CAME_WITH)
    state.came_with = kept
    return gone


def fell(policy: LinkPolicy, state: CustomerState, key: str, old: int, new: int) -> None:
    """Member ``key``'s rank falls from ``old`` to ``new`` (``rank_node.on_rekey``). Where an event without a user id
    brought ``key`` here at ``old`` (a pair of ``note``), the members planned before ``key`` (``plan_order``) that
    ranked here before ``old`` and that the event did not carry were here when it came: it met them (weighed then, as
    its own join or offer), and an event of rank ``new`` did not meet them through ``key`` in time order
    (``met_before``). Not where the event carried them: a login's ``{u, e}`` met the customer with them."""
    kept, members = state.came_with, state.members
    if not kept or not any(recalls(kept, pair(key, old, other)) for other in members if other != key):
        return
    for other, value in members.items():
        if other != key and 0 < member_rank(value) < old and policy.plan_order([other, key])[0] == other \
                and not recalls(kept, pair(key, old, other)):
            kept = remember(kept, _fell(key, new, other), MAX_CAME_WITH)
    state.came_with = kept


def met_before(state: CustomerState, key: str, other: str, rank: int) -> bool:
    """Whether member ``other`` was here before the event that brought member ``key`` (``fell``), and the event of
    ``rank`` (``limits.event_rank``) lowered ``key``'s rank to its own: it came first on ``key``, before ``key`` met
    ``other`` here. Not where a still earlier event lowered it since: that one may have brought the two together."""
    return member_rank(state.members[key]) == rank and recalls(state.came_with, _fell(key, rank, other))


def given(state: CustomerState, key: str) -> None:
    """A claim took member ``key`` (``claim_node.on_give``): noted, for ``lowered``."""
    state.came_with = remember(state.came_with, _given(key), MAX_CAME_WITH)


def met_through(policy: LinkPolicy, state: CustomerState, key: str, rank: int) -> list[str]:
    """The members through which an event without a user id, ranked after ``rank``, met this customer when it brought
    ``key`` (``lowered``: ``key`` has ranked ``rank`` since), sorted. A claim of ``key`` by the event of ``rank``
    takes it to another customer (``claim_node.on_give``): in time order that event's customer held ``key`` first, and
    the later event met the two in an ``offer`` (bench draws 94, 556, 739: ``{x0, e0}`` t0, ``{x1, u-0, e1}`` t1,
    ``{x0, e1}`` t2 arriving t2, t0, t1; ``tests/processors/identity/graph/test_came_with_met.py``)."""
    if _holds_one(policy, state):
        return []
    return sorted(other for other in state.members if other != key and recalls(state.came_with, _met(key, rank, other)))


def brought_together(state: CustomerState, key: str, rank: int, other: str) -> bool:
    """Whether a trait-less event without a user id, of ``rank``, found ``key`` with the anonymous id ``other`` here
    (a pair of ``note_applied``)."""
    return recalls(state.came_with, pair(key, rank, other))


def _holds_one(policy: LinkPolicy, state: CustomerState) -> bool:
    """Whether ``state`` holds an identifier of a type limited to one (a user id): then the offer time order weighed may
    have met another of that type on the claimant's side, brought by an event that has not arrived yet (bench draws
    1455, 1957): nothing is proposed."""
    return any(policy.limit(kind_of(key)) == 1 for key in state.members)


def pairs(state: CustomerState, claimed: str, keys: Iterable[str]) -> bytes:
    """The pairs (``CustomerState.came_with``'s hashes) of ``keys``, members of ``state`` at their ranks, with
    ``claimed``: what a claimant learns with ``claimed`` (``Adopt.came_with``) of the members that follow it."""
    kept = b""
    for key in keys:
        kept = remember(kept, pair(key, member_rank(state.members[key]), claimed), MAX_CAME_WITH)
    return kept


def pair(key: str, rank: int, other: str) -> str:
    """The name of a pair of ``note`` (hashed into ``CustomerState.came_with``): member ``key``, at ``rank``, came with
    ``other``; read by ``carried_pair.carried_late`` too."""
    return f"{key}|{rank}|{other}"


def _met(key: str, rank: int, other: str) -> str:
    return f"{key}|{rank}|met|{other}"


def _fell(key: str, rank: int, other: str) -> str:
    return f"{key}|{rank}|fell|{other}"


def _given(key: str) -> str:
    return f"{key}|given"
