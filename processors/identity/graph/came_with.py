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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from processors.identity.graph.context import TOKEN_HASH_BYTES, recalls, remember
from processors.identity.graph.limits import claimable, member_rank
from processors.identity.graph.messages.base import Member, Saga
from processors.identity.graph.state import CustomerState
from processors.identity.rules import UNTOLD_KINDS, LinkPolicy, kind_of

MAX_CAME_WITH = 8  # (member, other) pairs a root keeps, the latest: an older one lets nothing follow


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
                kept = remember(kept, _pair(key, rank, other), MAX_CAME_WITH)
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
                    kept = remember(kept, _pair(key, rank, other), MAX_CAME_WITH)
    state.came_with = kept


def merge(state: CustomerState, theirs: bytes) -> None:
    """A merged-in customer's pairs (``Offer.came_with``) join the survivor's, the latest ``MAX_CAME_WITH`` kept."""
    state.came_with = (state.came_with + theirs)[-MAX_CAME_WITH * TOKEN_HASH_BYTES:]


def followers(kept: bytes, linking: Iterable[str], members: Mapping[str, Member]) -> set[str]:
    """The ``members`` an event without a user id brought with one of ``linking`` (the identifiers through which a
    step reaches the customer), by the customer's pairs ``kept`` (``CustomerState.came_with``, ``Offer.came_with``),
    still at the rank it gave them (no earlier event carried them since)."""
    if not kept:
        return set()
    through = list(linking)
    return {key for key, value in members.items() if key not in through and any(
        recalls(kept, _pair(key, member_rank(value), other)) for other in through)}


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
                  and recalls(kept, _pair(key, member_rank(value), claimed))
                  and not any(recalls(kept, _pair(key, member_rank(value), other)) for other in members
                              if other != key))


def pairs(state: CustomerState, claimed: str, keys: Iterable[str]) -> bytes:
    """The pairs (``CustomerState.came_with``'s hashes) of ``keys``, members of ``state`` at their ranks, with
    ``claimed``: what a claimant learns with ``claimed`` (``Adopt.came_with``) of the members that follow it."""
    kept = b""
    for key in keys:
        kept = remember(kept, _pair(key, member_rank(state.members[key]), claimed), MAX_CAME_WITH)
    return kept


def _pair(key: str, rank: int, other: str) -> str:
    return f"{key}|{rank}|{other}"
