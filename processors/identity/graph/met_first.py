"""Where the limit of one user id refuses an event's ``offer`` between two users' customers, the side the event goes to:
the one it met first in time order, not by arrival (issue #8 point 5).

``met_first`` is asked by ``merge_refusal.refuse``; it reads the ranks each side holds of the event's identifiers
(``_after_both``, ``_reached_first`` here; ``met_in_time.py`` for the cases where the rank at which each side got them
decides). Moving a resident user id out where an earlier-ranked one reaches its customer: ``displace.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

from processors.identity.graph import met_in_time
from processors.identity.graph.context import recalls
from processors.identity.graph.customer_steps import Node
from processors.identity.graph.limits import member_rank, saga_rank
from processors.identity.graph.messages.base import Member, Saga
from processors.identity.graph.messages.steps import Offer
from processors.identity.graph.met_in_time import USER_ID
from processors.identity.graph.met_in_time import before as _before
from processors.identity.graph.met_in_time import reached as _reached
from processors.identity.rules import kind_of


def met_first(ctx: Node, saga: Saga, message: Offer, current: str, other: str, announced: bool = True) -> str | None:
    """At an offer the limit of one refuses (two user ids) whose event would go to ``current`` (the side it reached
    first): ``other`` (customer id) where, in time order, the event was kept apart from ``current`` and ``other`` grew
    from the event's own customer; else None (the event goes to ``current``, which claims what it ranks first on).

    That is when every member of ``other`` ranks after the event (``other`` did not exist yet), ``current`` holds
    a member ranked before the event and every identifier of the event it holds ranks before it (it did exist, with
    them) or, where all of ``current`` ranks after the event too, ``_after_both``; or, either way, ``other`` reached
    the event's identifiers first (``_reached_first``); and the matcher does not merge the event's identifiers with
    ``current``'s side. A rank the event lowered at its visit counts as before (``_before``). The event's identifiers
    that ``current`` holds are then claimed or noted as at that join (``contest.claims_on``). Measured (bench seeds
    0-3499, the results file): minimal draws 122, 202, 237, 280 and bench draws 237, 280, 540, 720, 775, 1504, 1553,
    1791, 2841 agree, then 413, 735, 2192, 2775, 2848 (``_reached_first``, ``_after_both`` on applied ranks); without
    the conditions on ``current``, 3 draws broke. Where ``other`` held a member before the event, or ``current`` got
    the event's identifiers after it, the ranks at which each side got them decide (``met_in_time.py``); a review
    the matcher asks where ``current`` was weighed in time order is requested unless the limit's refusal was not
    ``announced`` now (a redelivery)."""
    current_members, other_members = ((message.members, ctx.state.members) if message.swapped
                                      else (ctx.state.members, message.members))
    current_traits, other_traits = ((message.traits, ctx.state.traits) if message.swapped
                                    else (ctx.state.traits, message.traits))
    # Each side's ``CustomerState.ranks_applied``.
    current_applied, applied = ((message.ranks_applied, ctx.state.ranks_applied) if message.swapped
                                else (ctx.state.ranks_applied, message.ranks_applied))
    event = saga_rank(saga)
    if saga.proposal or not other_members:
        return None
    if not all(_before(saga, key, member_rank(value)) > event for key, value in other_members.items()):
        sides = ((current_members, current_traits, current_applied), (other_members, other_traits, applied))
        return other if met_in_time.goes_over(ctx, saga, *sides, (current, other), announced) else None
    reached = _reached_first(saga, current_members, other_members, applied)
    before = {key: 0 < _before(saga, key, member_rank(value)) < event for key, value in current_members.items()}
    # Whether ``current`` met the event's customer in time order and was weighed (else the limit refused it there).
    weighed = (all(before[key] for key in saga.ids if key in before)
               or met_in_time.came_later(saga, current_members, other_members, current_applied)
               if any(before.values()) else _after_both(saga, current_members, other_members, applied))
    if not (reached or weighed):
        return None
    side = (current_members, current_traits, current_applied)
    return other if met_in_time.kept_from(ctx, saga, side, (current, other), other_members,
                                          announced and weighed) else None


def _after_both(saga: Saga, current: Mapping[str, Member], other: Mapping[str, Member], applied: bytes) -> bool:
    """Where both sides rank after the event (it came first, its own customer before either): whether ``current``'s
    user id ranks before ``other``'s and every identifier of the event that ``other`` holds ranks, before the event's
    visit, with ``other``'s user id (its user's own earliest event brought it) or as an event applied to ``other``
    (``applied``: its ``ranks_applied``; bench draw 2848): ``other`` joined the event's customer through it, after
    ``current`` was kept apart from it. Not a rank that only lowered the identifier's node (an alias of ``current``'s
    user: bench draws 3144, 3417). Where ``current``'s user id ranks after, its earliest event may still be on its way
    (bench draw 2939)."""
    mine = [member_rank(value) for key, value in current.items() if kind_of(key) == USER_ID]
    users = [member_rank(value) for key, value in other.items() if kind_of(key) == USER_ID]
    if len(mine) != 1 or len(users) != 1 or not 0 < mine[0] < users[0]:
        return False
    return all(rank == users[0] or recalls(applied, str(rank)) for rank in _reached(saga, other))


def _reached_first(saga: Saga, current: Mapping[str, Member], other: Mapping[str, Member], applied: bytes) -> bool:
    """Whether ``other`` reached the event's customer before ``current`` did: it holds an identifier of the event
    ranked (``_before``) before every one ``current`` holds, at the rank of an event applied to ``other``
    (``applied``: its ``ranks_applied``; not an alias of ``current``'s user that only lowered the identifier's node,
    bench draw 3417), and ``current``'s user id ranks before what ``current`` holds of the event (its earliest event
    did not bring them; where it did, an earlier event of that user may still be on its way with them and have
    reached first, bench draw 2939). In time order ``other`` joined the event's customer first, and ``current``,
    coming later, was refused by the limit of one (bench draws 413, 735, 2192, 2775)."""
    theirs, mine = _reached(saga, other), _reached(saga, current)
    if not theirs or not mine or not all(theirs) or not all(mine) or min(theirs) >= min(mine):
        return False
    users = [member_rank(value) for key, value in current.items() if kind_of(key) == USER_ID]
    return recalls(applied, str(min(theirs))) and len(users) == 1 and 0 < users[0] < min(mine)
