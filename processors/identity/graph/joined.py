"""Members that came together after the ranks they hold (issue #8 point 5, bench draw 686's kind).

A member's rank is the earliest event that carried it (``limits.py``), not the event that brought it to this customer:
``{u-0}`` t0, ``{x1, e0}`` t1, ``{u-0, x1}`` t3 give one customer whose ``u-0`` ranks t0, but ``u-0`` has been with
``e0`` only since t3. ``CustomerState.joined`` keeps such pairs: ``"member|other"`` (``member`` planned before
``other``, ``plan_order``) -> the rank (``limits.event_rank``) of the event since which no evidence has held them apart,
where that is later than both their ranks show:

- ``merged``: an ``offer`` of rank r merged the customer holding one with the customer holding the other, both ranked
  before r;
- ``fell``: a member's rank fell from ``old`` (the event that brought it here) to an earlier event's (``rank_node``):
  each member ranked before ``old`` has been with it since ``old``;
- ``came``: an event of rank r joined new identifiers through linking ones: a member with each linking identifier
  only since a later rank is with the new ones only since then too.

An event applied here that carried two members (``carried``) has held them together since its rank at the latest.

Read (``since``) where a join is weighed because of a member planned before the linking identifier
(``customer_join._weighed_the_other_way``, ``weigh_again``): a member with the linking identifier only since a rank
after the event's was not there when the event came in time order. The latest ``MAX_JOINED``; they move with
``Offer.joined``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

from processors.identity.graph.limits import member_rank
from processors.identity.graph.messages.base import Member
from processors.identity.graph.state import CustomerState
from processors.identity.rules import LinkPolicy

MAX_JOINED = 16  # pairs a customer keeps, the latest: an older one reads as together since their ranks


def merged(policy: LinkPolicy, state: CustomerState, own: Iterable[str], theirs: Iterable[str], carried: Iterable[str],
           rank: int, theirs_joined: Mapping[str, int]) -> None:
    """An offer by an event of ``rank`` that ``carried`` identifiers of both sides merged the members ``theirs`` into
    this customer, which held ``own`` (the loser's pairs ``theirs_joined`` join): a member of one side and one of the
    other have been together since the latest of ``rank`` and, on each side, the earliest rank since which the member
    has been with an identifier of the event there (``together``), where that is later than both their ranks."""
    members = state.members
    state.joined = kept = {**state.joined, **theirs_joined}
    carried = [key for key in carried if key in members]
    own, theirs = [key for key in own if key in members], [key for key in theirs if key in members]

    def via(key: str, side: list[str]) -> int:
        return min((together(policy, state, key, other) for other in carried if other in side), default=0)

    for one in own:
        for two in theirs:
            after = max(rank, via(one, own), via(two, theirs))
            if one != two and after > max(member_rank(members[one]), member_rank(members[two])):
                kept = _kept(policy, members, kept, [(one, two)], after)
    state.joined = kept


def fell(policy: LinkPolicy, state: CustomerState, key: str, old: int, new: int) -> None:
    """Member ``key``'s rank falls from ``old`` to ``new`` (``rank_node.on_rekey``): each member ranked before ``old``
    but not at ``new`` (not that event's) has been with ``key`` since ``old`` (or a later rank already kept)."""
    members = state.members
    pairs = [(key, other) for other, value in members.items()
             if other != key and 0 < member_rank(value) < old and member_rank(value) != new]
    state.joined = _kept(policy, members, dict(state.joined), pairs, old)


def came(policy: LinkPolicy, state: CustomerState, added: Iterable[str], linking: Iterable[str], rank: int) -> None:
    """An event of ``rank`` made ``added`` members through ``linking`` (owned identifiers it reached the customer by):
    a member with every linking identifier only since a rank after ``rank`` is with ``added`` only since then."""
    if not state.joined:
        return
    linking, added = list(linking), list(added)
    kept = dict(state.joined)
    for other in state.members:
        if other in added or other in linking or not linking:
            continue
        after = min(since(policy, state, other, key) for key in linking)
        if after > rank:
            kept = _kept(policy, state.members, kept, [(other, key) for key in added], after)
    state.joined = kept


def together(policy: LinkPolicy, state: CustomerState, key: str, other: str) -> int:
    """The rank since which members ``key`` and ``other`` have been together: the later of their ranks, or the pair's
    kept rank (``since``) if later; ``key`` with itself since its rank."""
    members = state.members
    return max(member_rank(members[key]), member_rank(members[other]), since(policy, state, key, other) if key != other
               else 0)


def carried(policy: LinkPolicy, state: CustomerState, keys: Iterable[str], rank: int) -> None:
    """An event of ``rank`` applied here (``customer_node.on_apply``) carried ``keys`` (``Apply.ids``, else
    ``Apply.linked``): the members among them have been together since ``rank`` at the latest; a pair kept with a later
    rank is kept at ``rank``, or dropped where their ranks show it (``{u-0, e0}`` t0 arriving after t3's merge)."""
    if not state.joined or not rank:
        return
    members = state.members
    held = [key for key in keys if key in members]
    kept = dict(state.joined)
    for one, two in itertools.combinations(held, 2):
        name = _key(*policy.plan_order([one, two]))
        if kept.get(name, 0) > rank:
            if rank > max(member_rank(members[one]), member_rank(members[two])):
                kept[name] = rank
            else:
                del kept[name]
    state.joined = kept


def since(policy: LinkPolicy, state: CustomerState, key: str, other: str) -> int:
    """The rank since which members ``key`` and ``other`` have been together where later than their ranks show, else 0
    (together since their ranks, or a pair no longer kept)."""
    if not state.joined:
        return 0
    return state.joined.get(_key(*policy.plan_order([key, other])), 0)


def _kept(policy: LinkPolicy, members: Mapping[str, Member], kept: dict[str, int], pairs: Iterable[tuple[str, str]],
          rank: int) -> dict[str, int]:
    """``kept`` with each pair noted at ``rank`` (the later of it and a rank kept), the latest ``MAX_JOINED``; not a
    pair of one rank (one event carried both: ``{u-0, e0}`` t0 whose visits lowered both, its offer on its way)."""
    for one, two in pairs:
        if member_rank(members[one]) == member_rank(members[two]):
            continue
        name = _key(*policy.plan_order([one, two]))
        noted = max(rank, kept.pop(name, 0))
        kept[name] = noted
    return dict(list(kept.items())[-MAX_JOINED:])


def _key(member: str, other: str) -> str:
    return f"{member}|{other}"
