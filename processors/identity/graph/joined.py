"""Members that came together after the ranks they hold (issue #8 point 5, bench draw 686's kind).

A member's rank is the earliest event that carried it (``limits.py``), not the event that brought it to this customer:
``{u-0}`` t0, ``{x1, e0}`` t1, ``{u-0, x1}`` t3 give one customer whose ``u-0`` ranks t0, but ``u-0`` has been with
``e0`` only since t3, and only through ``x1``. ``CustomerState.joined`` keeps such pairs: ``"member|other"``
(``member`` planned before ``other``, ``plan_order``) -> the rank (``limits.event_rank``) since which they have been
together where that is later than both their ranks show; a name ending ``DIRECT`` where an event of that rank may have
carried the two itself:

- ``merged``: an ``offer`` of rank r merged the customer holding one with the customer holding the other (direct where
  the event carried both);
- ``fell``: a member's rank fell from ``old`` (the event that brought it here) to an earlier event's (``rank_node``):
  each member ranked before ``old`` has been with it since ``old`` (direct: that event may have carried it);
- ``came``: an event of rank r joined new identifiers through linking ones: each member it did not carry has been with
  them since r (their rank may fall later), and a member with each linking identifier only since a later rank is with
  them only since then, through them.

An event applied here that carried two members (``carried``) links the pairs through them since its rank: a pair kept
with a later rank is kept at the earliest such path's.

Read (``since``) where a join is weighed because of a member planned before the linking identifier
(``customer_join.weighed_the_other_way``, ``weigh_again``): a member with the linking identifier only since a rank
after the event's, through another identifier, was not there when the event came in time order, and the event that
linked them did not meet this one's identifiers through the linking one (draw 686: ``{u-0, x1}`` t3 met ``{x1, e0}``
t1 through ``x1``, an offer, weighed). Not a pair an event carried itself: in time order that event met this one's
customer through the linking identifier, with the member, weighed then (``{u-1, x2, e1}`` t8 after ``{x9, e1}`` t3,
bench draw 35). The latest ``MAX_JOINED``; they move with ``Offer.joined``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from processors.identity.graph.limits import member_rank
from processors.identity.graph.messages.base import Member
from processors.identity.graph.state import CustomerState
from processors.identity.rules import LinkPolicy

MAX_JOINED = 16  # pairs a customer keeps, the latest: an older one reads as together since their ranks
DIRECT = "|direct"  # the end of a pair's name where an event of its rank may have carried the two


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
                direct = after == rank and one in carried and two in carried
                kept = _kept(policy, members, kept, [(one, two)], after, direct)
    state.joined = kept


def fell(policy: LinkPolicy, state: CustomerState, key: str, old: int, new: int) -> None:
    """Member ``key``'s rank falls from ``old`` to ``new`` (``rank_node.on_rekey``): each member ranked before ``old``
    but not at ``new`` (not that event's) has been with ``key`` since ``old`` (or a later rank already kept); the event
    of ``old`` may have carried it (direct)."""
    members = state.members
    pairs = [(key, other) for other, value in members.items()
             if other != key and 0 < member_rank(value) < old and member_rank(value) != new]
    state.joined = _kept(policy, members, dict(state.joined), pairs, old, True)


def came(policy: LinkPolicy, state: CustomerState, added: Iterable[str], linking: Iterable[str], ids: Iterable[str],
         rank: int) -> None:
    """An event of ``rank`` that carried ``ids`` made ``added`` members through ``linking`` (owned identifiers it
    reached the customer by): each member it did not carry, ranked before it, has been with ``added`` since ``rank``
    (kept: the rank of ``added`` may fall since), and a member with every linking identifier only since a later rank
    with ``added`` only since then."""
    linking, added, ids = list(linking), list(added), set(ids)
    members = state.members
    kept = dict(state.joined)
    for other, value in members.items():
        if other in added or other in linking:
            continue
        after = min((together(policy, state, other, key) for key in linking), default=0)
        if after > rank:
            kept = _kept(policy, members, kept, [(other, key) for key in added], after, False)
        elif other not in ids and 0 < member_rank(value) < rank:
            kept = _kept(policy, members, kept, [(other, key) for key in added], rank, False)
    state.joined = kept


def carried(policy: LinkPolicy, state: CustomerState, keys: Iterable[str], rank: int) -> None:
    """An event of ``rank`` applied here (``customer_node.on_apply``) carried the members ``held`` of ``keys``
    (``Apply.ids``, else ``Apply.linked``) together: a kept pair is together since, at the latest, a path through two of
    them (its one member with one, the event, the other with its other member) allows; kept at that rank if earlier,
    dropped where their ranks show it (``{x1, u-1}`` t0 arriving after ``u-1`` and ``e0`` were kept since t7: through
    ``x1`` they have been together since ``x1`` and ``e0`` have)."""
    if not state.joined or not rank:
        return
    members = state.members
    held = [key for key in keys if key in members]
    if len(held) < 2:
        return
    kept = dict(state.joined)
    for name, after in state.joined.items():
        one, two = name.removesuffix(DIRECT).split("|", 1)
        if one not in members or two not in members:
            continue
        path = min(max(together(policy, state, one, first), rank, together(policy, state, second, two))
                   for first in held for second in held)
        if path < after:
            if path > max(member_rank(members[one]), member_rank(members[two])):
                kept[name] = path
            else:
                del kept[name]
    state.joined = kept


def together(policy: LinkPolicy, state: CustomerState, key: str, other: str) -> int:
    """The rank since which members ``key`` and ``other`` have been together: the later of their ranks, or the pair's
    kept rank (direct or not) if later; ``key`` with itself since its rank."""
    members = state.members
    if key == other:
        return member_rank(members[key])
    name = _key(*policy.plan_order([key, other]))
    kept = max(state.joined.get(name, 0), state.joined.get(name + DIRECT, 0)) if state.joined else 0
    return max(member_rank(members[key]), member_rank(members[other]), kept)


def since(policy: LinkPolicy, state: CustomerState, key: str, other: str) -> int:
    """The rank since which members ``key`` and ``other`` have been together through other identifiers, where later
    than their ranks and no event of that rank may have carried the two (not direct), else 0."""
    if not state.joined:
        return 0
    return state.joined.get(_key(*policy.plan_order([key, other])), 0)


def _kept(policy: LinkPolicy, members: Mapping[str, Member], kept: dict[str, int], pairs: Iterable[tuple[str, str]],
          rank: int, direct: bool) -> dict[str, int]:
    """``kept`` with each pair noted at ``rank`` (the later of it and a rank kept), the latest ``MAX_JOINED``; not a
    pair of one rank (one event carried both: ``{u-0, e0}`` t0 whose visits lowered both, its offer on its way)."""
    for one, two in pairs:
        if member_rank(members[one]) == member_rank(members[two]):
            continue
        name = _key(*policy.plan_order([one, two])) + (DIRECT if direct else "")
        kept[name] = max(rank, kept.pop(name, 0))
    return dict(list(kept.items())[-MAX_JOINED:])


def _key(member: str, other: str) -> str:
    return f"{member}|{other}"
