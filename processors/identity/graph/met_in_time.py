"""Which side an event refused between two user ids' customers met first in time order (issue #8 point 5).

The limit of one user id refuses an event's ``offer`` between two users' customers; the event then goes to the side
it reached first by arrival (its highest-priority owned identifier), unless ``displace.met_first`` finds that time
order put it elsewhere. Here the cases where the side each customer got the event's identifiers at tells it: the
ranks (``before`` the event's visit) of the event's identifiers each side holds say when that side got them, so
whether it held one when the event came (ranked before the event) or met the event's customer later.

* ``goes_over``: the other side held an identifier of the event before the event, at the rank of an event applied to
  it, and the side reached first held none (it met the event's customer later, and its user id ranks before what it
  holds of the event: its own earliest event did not bring them); the matcher merges the event's identifiers with the
  other side: in time order the event joined the other side and the first side, coming later, was refused by the
  limit (bench draws 207, 985, 1330 cut to four calls: a login with the e-mail of an anonymous visitor that the other
  user's anonymous id had already placed on the other user's customer). Or the other way round: the first side held
  every identifier of the event it holds before the event (applied), the other side got its share after the event
  and the matcher merges the event with the other side and not with the first: in time order the event was kept apart
  from the first side and the other side joined it later (bench draw 1703: ``{u-0, e1}``, then ``{x0, e1}`` reviewed
  beside it, then ``{x0, u-1}``). The event's identifiers that the first side holds are claimed (the first case: as
  after the limit's refusal of the first side's later event) or claimed or noted as at a join kept apart by weight.
* ``came_later``: with every member of the other side ranked after the event (``displace.met_first``'s first
  branch), the first side held none of the event's identifiers before the event either, and got them before the other
  side got its own, at the rank of an event applied to it: in time order the event made its own customer, the first
  side met it first and was weighed (bench draw 878: ``{x1, e0}``, then ``{u-0, e0}`` reviewed beside it, then
  ``{x1, u-1}`` joined it).

Not covered: the first side's user id ranking with what it holds of the event (its earliest event brought them; an
earlier event of that user may still be on its way with them, bench draw 2939), so the state does not tell the two
apart (bench draws 490, 1503, 2739, 3351 cut to four calls stay as they were).
"""

from __future__ import annotations

from collections.abc import Mapping

from processors.identity.graph.contest import claims_on
from processors.identity.graph.context import recalls
from processors.identity.graph.customer_steps import Node, contested, noted
from processors.identity.graph.evidence import judge
from processors.identity.graph.limits import member_rank, saga_key_rank, saga_rank
from processors.identity.graph.messages.base import Member, Saga
from processors.identity.matching.traits import Summary
from processors.identity.matching.weights import Decision
from processors.identity.rules import kind_of

USER_ID = "USER_ID"
Side = tuple[Mapping[str, Member], Summary | None, bytes]  # a customer's members, trait summary, ``ranks_applied``


def before(saga: Saga, key: str, rank: int) -> int:
    """A member's ``rank`` before the event of ``saga``: the one its node knew (``Saga.prior_ranks``) if the event
    lowered it to its own at its visit; else ``rank``."""
    return saga.prior_ranks.get(key, rank) if rank == saga_key_rank(saga, key) else rank


def reached(saga: Saga, side: Mapping[str, Member]) -> list[int]:
    """The ranks (``before`` the event's visit: when ``side`` got them) of the event's identifiers ``side`` holds."""
    return [before(saga, key, member_rank(side[key])) for key in saga.ids if key in side]


def goes_over(ctx: Node, saga: Saga, current: Side, other: Side) -> bool:
    """Whether the event of ``saga``, refused by the limit of one between ``current`` (the side it reached first) and
    ``other`` (which holds a member ranked before the event), goes to ``other`` as in time order (module docstring);
    the event's identifiers ``current`` holds are then marked claimed (``contested``) or ``noted``."""
    (mine_members, mine_traits, mine_applied), (their_members, their_traits, their_applied) = current, other
    event, mine, theirs = saga_rank(saga), reached(saga, mine_members), reached(saga, their_members)
    if not mine or not theirs or not all(mine) or not all(theirs):
        return False
    if min(theirs) < event < min(mine):  # the event joined ``other``; ``current`` came later
        if not (recalls(their_applied, str(min(theirs))) and _user_before(mine_members, min(mine))
                and _merges(ctx, saga, their_traits, their_members)):
            return False
        claims = True
    elif max(mine) < event < min(theirs):  # kept apart from ``current``; ``other`` met it later
        if not (all(recalls(mine_applied, str(rank)) for rank in mine) and _merges(ctx, saga, their_traits,
                                                                                  their_members)):
            return False
        decision = judge(ctx, saga.traits, mine_traits, saga.ids, mine_members, saga)[0]
        if decision is Decision.MERGE:
            return False
        claims = claims_on(ctx, decision, saga, mine_traits)
    else:
        return False
    for key in saga.ids:
        if key in mine_members:
            (contested if claims else noted)(saga, key)
    return True


def came_later(saga: Saga, current: Mapping[str, Member], other: Mapping[str, Member], applied: bytes) -> bool:
    """Whether ``current`` (the side the event reached first; ``applied``: its ``ranks_applied``) got every
    identifier of the event it holds after the event and before ``other`` got its own, the first at the rank of an
    event applied to it: it met the event's own customer first (module docstring; the caller weighs it)."""
    mine, theirs = reached(saga, current), reached(saga, other)
    return bool(mine and theirs and all(mine) and saga_rank(saga) < min(mine) < min(theirs)
                and recalls(applied, str(min(mine))))


def _user_before(side: Mapping[str, Member], rank: int) -> bool:
    """Whether ``side``'s one user id ranks before ``rank`` (its earliest event did not bring what ranks so)."""
    users = [member_rank(value) for key, value in side.items() if kind_of(key) == USER_ID]
    return len(users) == 1 and 0 < users[0] < rank


def _merges(ctx: Node, saga: Saga, traits: Summary | None, members: Mapping[str, Member]) -> bool:
    """Whether the matcher merges the event's identifiers (and traits) with a side of ``traits`` and ``members``."""
    return judge(ctx, saga.traits, traits, saga.ids, members, saga)[0] is Decision.MERGE
