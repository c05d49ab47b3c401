"""The pairs an event without a user id met together on a customer, and what a proposal of such a pair or a browser's
``offer`` merged in through one of its identifiers (issue #8 point 5).

Kept in the customer's ``came_with`` bytes beside the pairs of ``came_with.py`` (what such an event brought, and with
which identifiers: read there for the bytes' shape and why they are hashes), at most ``came_with.MAX_CAME_WITH`` of
them; the carrying event's rank per pair in ``CustomerState.carried_at``, the merged-in sides in
``CustomerState.merged_in`` (``came_with.MAX_MERGED_IN``); all three move along a merge (``came_with.merge``). What
undoes those links when an earlier event claims or joins through them: ``carried_undo.py``.

Read by ``claim_node.on_give`` (``carried``, ``carried_with``, ``linked_in``, ``came_in``): a user-less event
applied where two of its identifiers were members ranked before it met them together (``{x9, e0}`` t0, ``{x1, u-0,
e0}`` t1, ``{x1, e0}`` t2 arriving t1, t2, t0); a claim of one of them proposes the pair again (order39's rule, bench
draw 153); arriving first, an event that brought both is noted so as an earlier one lowers their ranks below its own
(``carried_late``, bench draw 2434's core; read for any pair with a member ranked before, it announced 17 more
refusals on the quality bench). Its merge notes the claimant's side, which leaves again when a still earlier event
claims the giver's member (``carried_undo.unlinked``, bench draw 3421: without it that draw newly differed). At a
giver holding no user id, a login ranked before the user-less event may still come on the giver's side (bench draw
540): the event's rank is kept per pair (``CustomerState.carried_at``, ``carried_since``), and that login's join
decides the pair again (``carried_undo.joined_before``). Without that undo the proposal was made only at a giver
holding a user id (order45): bench draws 1991 and 1299 (the giver's ``{x9, e1}``) differed.

Written at an ``offer`` a browser's event (an anonymous id, no user id: not a call's, whose numbers households share
and recycling moves) made and merged (``merged_in``, ``merged_through``; in ``CustomerState.merged_in``, not in
``came_with``: its notes pushed out pairs ``displace.at_offer_loser`` reads, and bench draw 1464 newly differed): each
side came in through the other side's identifiers the event carried. An earlier event's claim of such an identifier
sends the side merged in through it alone away, and proposes the pair again where ``carried`` noted it
(``carried_undo.merged_away``, bench draw 2434's cut), as does a join through it by a login ranked before the
merging event (``carried_undo.joined_before``, draw 540's cut). A proposal's merge is ``linked_in``'s, and a claim of
its pair's member on the claimant's side undoes it too (``came_through``, ``carried_undo.partner_claimed``).
"""

from __future__ import annotations

from collections.abc import Iterable

from processors.identity.graph.came_with import MAX_CAME_WITH, MAX_MERGED_IN, pair
from processors.identity.graph.context import recalls, remember, short_hash
from processors.identity.graph.limits import member_rank
from processors.identity.graph.state import CustomerState
from processors.identity.rules import UNTOLD_KINDS, LinkPolicy, kind_of

# The id prefix of a proposal of a pair ``carried_with`` gave (``weigh_again.propose``; then a hash, no identifier
# value): ``customer_merge.on_offer`` calls ``linked_in`` where such a proposal merges.
CARRIED_PREFIX = "again~carried~"


def carried(policy: LinkPolicy, state: CustomerState, ids: Iterable[str], rank: int) -> None:
    """An event of ``rank`` (``Apply.rank``) carrying no identifier of a type limited to one was applied here, where it
    found members ``ids`` (``Apply.ids``, else ``Apply.linked``) that ranked before it: it brought none of them, it met
    them together. Each pair is noted (a hash of its own kind, at the rank the first of the two holds), read by
    ``carried_with`` when a claim takes one of them."""
    ids = list(dict.fromkeys(ids))
    if any(policy.limit(kind_of(key)) == 1 for key in ids):
        return
    members = state.members
    held = [key for key in ids if key in members and 0 < member_rank(members[key]) < rank]
    kept, at = state.came_with, dict(state.carried_at)
    for key in held:
        for other in held:
            if other != key:
                kept = remember(kept, _carried(key, member_rank(members[key]), other), MAX_CAME_WITH)
                name = _carried_pair(key, other)
                at[name] = min(rank, at.pop(name, rank))
    state.came_with, state.carried_at = kept, dict(list(at.items())[-MAX_CAME_WITH:])


def carried_fell(state: CustomerState, key: str, old: int, new: int) -> None:
    """Member ``key``'s rank falls from ``old`` to ``new`` (``rank_node.on_rekey``: an earlier event carries it, often
    the one whose claim takes it next): the pairs ``carried`` noted at ``old`` hold at ``new`` too."""
    kept = state.came_with
    if not kept:
        return
    for other in state.members:
        if other != key and recalls(kept, _carried(key, old, other)):
            kept = remember(kept, _carried(key, new, other), MAX_CAME_WITH)
    state.came_with = kept


def carried_late(state: CustomerState, key: str, old: int) -> None:
    """Member ``key``'s rank falls from ``old`` (``rank_node.on_rekey``): where a user-less event of rank ``old``
    brought it together with a member that ranks before ``old`` now, both new to this customer then (``note``, a pair
    each way at ``old``), that event met the two together, both ranked before it, as ``carried`` notes at its apply:
    it arrived first (``{x0, e0}`` t2 before ``{x0, e0}`` t1 and ``{x2, u-1, e0}`` t0, bench draw 2434's core). Not a
    pair whose other member was here before the event: the event brought ``key`` to it, it did not meet the two."""
    kept = state.came_with
    if not kept:
        return
    members, at = state.members, dict(state.carried_at)
    for other, value in members.items():
        if other != key and 0 < member_rank(value) < old and recalls(kept, pair(key, old, other)) \
                and recalls(kept, pair(other, old, key)):
            kept = remember(kept, _carried(key, member_rank(members[key]), other), MAX_CAME_WITH)
            kept = remember(kept, _carried(other, member_rank(value), key), MAX_CAME_WITH)
            name = _carried_pair(key, other)
            at[name] = min(old, at.pop(name, old))
    state.came_with, state.carried_at = kept, dict(list(at.items())[-MAX_CAME_WITH:])


def carried_with(state: CustomerState, key: str, rank: int) -> list[str]:
    """The members a user-less event applied here carried together with member ``key`` while ``key`` ranked ``rank``
    here, both ranked before that event (``carried``), sorted. A claim of ``key`` by an earlier event takes it to
    another customer (``claim_node.on_give``): in time order that event's customer held ``key`` first, the other
    member was elsewhere (a weighing kept the event that brought it apart: why they are two customers), and the later
    event met the two in an ``offer``, weighed (bench draw 153: ``{x9, e0}`` t0, ``{x1, u-0, e0}`` t1, ``{x1, e0}`` t2
    arriving t1, t2, t0: t1's join at ``{x9, e0}`` a review in time order, t2's offer merged at 10.3 bits; arriving
    last, t0's claim of ``e0`` left ``{x1, u-0}`` apart). Also where this customer holds no user id: an event ranked
    before the later one may still bring one, and in time order that login made the later event's offer meet two user
    ids (bench draw 540: ``{u-2, e0}`` t0, ``{x2, e0}`` t1, ``{x2, u-0}`` t3, ``{x2, e0}`` t4 arriving t1, t4, ...,
    t0, t3); its join decides the proposal again (``carried_since``, ``carried_undo.joined_before``)."""
    kept = state.came_with
    if not kept:
        return []
    return sorted(other for other in state.members if other != key and recalls(kept, _carried(key, rank, other)))


def carried_since(state: CustomerState, key: str, others: Iterable[str]) -> int:
    """The rank of the earliest user-less event applied here that met member ``key`` together with one of ``others``
    (``carried``; ``CustomerState.carried_at``), 0 if none is known."""
    at = state.carried_at
    return min((at[name] for other in others if (name := _carried_pair(key, other)) in at), default=0)


def proposed(state: CustomerState, key: str) -> None:
    """A pair ``carried_with`` gave was proposed again from this customer, ``key`` the member it keeps (``claim_node.
    on_give``): read by ``linked_in`` where the proposal merges, to tell this side from the claimant's."""
    state.came_with = remember(state.came_with, _proposed(key), MAX_CAME_WITH)


def linked_in(state: CustomerState, pair: Iterable[str], own: Iterable[str], theirs: Iterable[str],
              their_kept: bytes) -> None:
    """A proposal of a pair ``carried_with`` gave merged here (``customer_merge.on_offer``): ``own`` this root's
    members before it, ``theirs`` the loser's, ``their_kept`` the loser's ``came_with``. The side that does not hold
    the giver's member (``proposed``) is the claimant's: each of its members is noted as linked in through the giver's
    member (read by ``came_in`` when a claim takes that member)."""
    own, theirs = list(own), list(theirs)
    for key in pair:
        if key in theirs and recalls(their_kept, _proposed(key)):
            side = own
        elif key in own and recalls(state.came_with, _proposed(key)):
            side = theirs
        else:
            continue
        kept = state.came_with
        for other in side:
            kept = remember(kept, _came_in(other, key), MAX_CAME_WITH)
        for other in pair:
            if other != key:
                kept = remember(kept, _partner(other, key), MAX_CAME_WITH)
        state.came_with = kept
        return


def came_in(state: CustomerState, key: str) -> list[str]:
    """The members a pair proposal through member ``key`` linked in (``linked_in``), sorted: ``key`` claimed away by
    an earlier event, in time order the later event that carried the pair met ``key`` on the claimant's customer,
    and never linked them to this one (``claim_node.on_give``)."""
    kept = state.came_with
    if not kept:
        return []
    return sorted(other for other in state.members if recalls(kept, _came_in(other, key)))


def came_through(state: CustomerState, key: str) -> list[str]:
    """The members through which a pair proposal of member ``key`` linked the claimant's side in (``linked_in``:
    ``key`` the pair's member on that side), sorted."""
    kept = state.came_with
    if not kept:
        return []
    return sorted(other for other in state.members if other != key and recalls(kept, _partner(key, other)))


def merged_in(policy: LinkPolicy, state: CustomerState, ids: Iterable[str], own: Iterable[str],
              theirs: Iterable[str]) -> None:
    """An event without a user id that carried ``ids`` merged two customers here (``customer_merge.on_offer``, not a
    proposal): ``own`` this root's members before it, ``theirs`` the loser's. Each side's members are noted as merged
    in through each member of the other side the event carried, and the side's size (``merged_through`` reads it when
    a claim takes one, only while every member is still recalled)."""
    ids = list(ids)
    if any(policy.limit(kind_of(key)) == 1 for key in ids) or not any(kind_of(key) in UNTOLD_KINDS for key in ids):
        return  # (a browser's: not a call's or a record's, whose identifiers are recycled and shared by households)
    members, own, theirs = state.members, list(own), list(theirs)
    kept = state.merged_in
    for side, other_side in ((own, theirs), (theirs, own)):
        for key in [key for key in ids if key in other_side and key in members]:
            for other in side:
                kept = remember(kept, _merged_in(other, key), MAX_MERGED_IN)
            kept = remember(kept, _merged_side(key, len(side)), MAX_MERGED_IN)
    state.merged_in = kept


def merged_through(state: CustomerState, key: str) -> list[str]:
    """The members an event without a user id merged in through member ``key`` alone (``merged_in``: not also through
    another member still here), sorted; none where the side is not whole here (one left since, or a pair forgotten:
    the latest ``MAX_MERGED_IN`` are kept)."""
    kept, members = state.merged_in, state.members
    if not kept:
        return []
    side = [other for other in members if recalls(kept, _merged_in(other, key))]
    if not side or not recalls(kept, _merged_side(key, len(side))) or any(
            recalls(kept, _merged_in(other, through)) for other in side for through in members
            if through not in (key, other)):
        return []
    return sorted(side)


def _carried(key: str, rank: int, other: str) -> str:
    return f"{key}|{rank}|carried|{other}"


def _carried_pair(key: str, other: str) -> str:
    """The name of a pair in ``CustomerState.carried_at``: a short hash of the two keys, either way round (keys are
    long: the node changelog's bytes, ``came_with.py``'s docstring)."""
    return short_hash("|".join(sorted((key, other))))


def _proposed(key: str) -> str:
    return f"{key}|carried-proposed"


def _came_in(member_key: str, key: str) -> str:
    return f"{member_key}|came-in|{key}"


def _partner(member_key: str, key: str) -> str:
    return f"{member_key}|proposed-with|{key}"


def _merged_in(member_key: str, key: str) -> str:
    return f"{member_key}|merged-in|{key}"


def _merged_side(key: str, size: int) -> str:
    return f"{key}|merged-side|{size}"
