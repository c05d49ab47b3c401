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

Not a claim's rule: a claimed identifier moves alone (``claim_node.py``, "what it linked while with the old owner stays
linked"). Moving these members with it was tried: 402 of the bench's 3500 draws differed instead of 270.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from processors.identity.graph.context import TOKEN_HASH_BYTES, recalls, remember
from processors.identity.graph.limits import member_rank
from processors.identity.graph.messages.base import Member, Saga
from processors.identity.graph.state import CustomerState
from processors.identity.rules import LinkPolicy, kind_of

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


def _pair(key: str, rank: int, other: str) -> str:
    return f"{key}|{rank}|{other}"
