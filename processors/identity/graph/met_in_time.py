"""Which side an event refused between two user ids' customers met first in time order (issue #8 point 5).

The limit of one user id refuses an event's ``offer`` between two users' customers; the event then goes to the side
it reached first by arrival (its highest-priority owned identifier), unless ``met_first.py`` finds that time
order put it elsewhere. Here the cases where the side each customer got the event's identifiers at tells it: the
ranks (``before`` the event's visit) of the event's identifiers each side holds say when that side got them, so
whether it held one when the event came (ranked before the event) or met the event's customer later.

* ``goes_over``: the other side held an identifier of the event before the event, at the rank of an event applied
  to it, the side reached first held none (it got them later; its user id ranks before them, so its own earliest event
  did not bring them) and the matcher merges the event's identifiers with the other side: in time order the event
  joined the other side, and the first side's later login with the e-mail was refused there by the limit (bench draws
  207, 985, 1330, 1954, 2005 cut to four calls). Also where the first side's user id ranks with what it holds of the
  event (its login brought the e-mail) and the event's visit lowered each of those from that rank: no earlier event
  had brought them to their nodes (bench draws 1503, 2739). The event's identifiers the first side holds are claimed
  (``contested``), as after that refusal. Or the other way round: the first side held every identifier of the event it
  holds before the event (at applied ranks), the other side got its share after the event, and the matcher merges the
  event with the other side and not with the first: in time order the event was kept apart from the first side and the
  other side joined it later (bench draw 1703: ``{u-0, e1}``, then ``{x0, e1}`` reviewed beside it, then
  ``{x0, u-1}``).
* ``came_later``: every member of the other side ranks after the event (``met_first``'s first branch) and
  the first side held none of the event's identifiers before the event either, but got them before the other side got
  its own, at the rank of an event applied to it: in time order the event made its own customer and the first side
  met it first, weighed (bench draw 878: ``{x1, e0}``, then ``{u-0, e0}`` reviewed beside it, then ``{x1, u-1}``).

Only for an anonymous visitor's event (``visitor``: an anonymous id, no user id): a login goes to its own user's
customer (bench draw 2666 differed where it did not), another channel's event has ranks in channel bands (a family
plan's call: ``test_family_plan.py`` failed where it did not). Where the first side is kept apart by weight
(``kept_from``), its holdings of the event's identifiers are claimed or noted as at a join kept apart, and the review
the matcher asks is requested between the two customers, as time order requests it (not where the other side reached
the event first: the limit refused the first side there).

Not covered: the first side's user id ranking with what it holds of the event where the event did not lower them
from that rank (an earlier event may have brought them: the state does not tell it from one of that user still on its
way), nor ``met_first._reached_first``'s like case (bench draw 2939); bench draws 490 and 3351 cut to four calls stay
as they were (not traced).
"""

from __future__ import annotations

from collections.abc import Mapping

from processors.identity.graph.contest import claims_on
from processors.identity.graph.context import recalls
from processors.identity.graph.customer_steps import Node, contested, face, noted
from processors.identity.graph.evidence import judge, kept_apart
from processors.identity.graph.limits import member_rank, saga_key_rank, saga_rank
from processors.identity.graph.messages.base import Member, Saga
from processors.identity.graph.saga import lineage
from processors.identity.matching.traits import Summary
from processors.identity.matching.weights import Decision
from processors.identity.rules import kind_of

USER_ID, ANONYMOUS_ID = "USER_ID", "ANONYMOUS_ID"
Side = tuple[Mapping[str, Member], Summary | None, bytes]  # a customer's members, trait summary, ``ranks_applied``


def before(saga: Saga, key: str, rank: int) -> int:
    """A member's ``rank`` before the event of ``saga``: the one its node knew (``Saga.prior_ranks``) if the event
    lowered it to its own at its visit; else ``rank``."""
    return saga.prior_ranks.get(key, rank) if rank == saga_key_rank(saga, key) else rank


def reached(saga: Saga, side: Mapping[str, Member]) -> list[int]:
    """The ranks (``before`` the event's visit: when ``side`` got them) of the event's identifiers ``side`` holds."""
    return [before(saga, key, member_rank(side[key])) for key in saga.ids if key in side]


def goes_over(ctx: Node, saga: Saga, current: Side, other: Side, ids: tuple[str, str], announced: bool) -> bool:
    """Whether the event of ``saga``, refused by the limit of one between ``current`` (the side it reached first) and
    ``other`` (which holds a member ranked before the event), goes to ``other`` as in time order (module docstring);
    the event's identifiers ``current`` holds are then marked claimed (``contested``) or ``noted``, and a review the
    matcher asks is requested (``kept_from``). ``ids``: the two customer ids, ``current``'s first."""
    (mine_members, _, mine_applied), (their_members, their_traits, their_applied) = current, other
    event, mine, theirs = saga_rank(saga), reached(saga, mine_members), reached(saga, their_members)
    if not (mine and theirs and all(mine) and all(theirs) and visitor(saga)):
        return False
    if min(theirs) < event < min(mine):  # the event joined ``other``; ``current`` came later
        if not (recalls(their_applied, str(min(theirs))) and _user_before(saga, mine_members, min(mine))
                and _merges(ctx, saga, their_traits, their_members)):
            return False
        for key in saga.ids:
            if key in mine_members:
                contested(saga, key)  # as after the limit's refusal of ``current``'s later event
        return True
    # Kept apart from ``current``, which held its share before the event; ``other`` met it later.
    return (max(mine) < event < min(theirs) and all(recalls(mine_applied, str(rank)) for rank in mine)
            and _merges(ctx, saga, their_traits, their_members)
            and kept_from(ctx, saga, current, ids, other[0], announced))


def kept_from(ctx: Node, saga: Saga, side: Side, ids: tuple[str, str], other: Mapping[str, Member],
              announced: bool = True) -> bool:
    """Whether the matcher keeps the event's identifiers apart from ``side`` (the one the event reached first,
    ``ids[0]``): then the event's identifiers it holds are claimed (``contest.claims_on``) or noted, and a review is
    requested between the two customers (``ids``; ``other``: the other side's members) where the matcher asks one,
    as where the two met in time order, unless the refusal was ``announced`` before (a redelivery)."""
    members, traits, _ = side
    decision, score = judge(ctx, saga.traits, traits, saga.ids, members, saga)
    if decision is Decision.MERGE:
        return False
    claims = claims_on(ctx, decision, saga, traits)
    for key in saga.ids:
        if key in members:
            (contested if claims else noted)(saga, key)
    if decision is Decision.REVIEW and announced:
        kept_apart(ctx, decision, score, lineage(saga), None, *ids,
                   (face(ctx, members, ids[0]), face(ctx, other, ids[1])))
    return True


def came_later(saga: Saga, current: Mapping[str, Member], other: Mapping[str, Member], applied: bytes) -> bool:
    """Whether ``current`` (the side the event reached first; ``applied``: its ``ranks_applied``) got every
    identifier of the event it holds after the event and before ``other`` got its own, the first at the rank of an
    event applied to it: it met the event's own customer first (module docstring; the caller weighs it)."""
    mine, theirs = reached(saga, current), reached(saga, other)
    return bool(visitor(saga) and mine and theirs and all(mine) and saga_rank(saga) < min(mine) < min(theirs)
                and recalls(applied, str(min(mine))))


def visitor(saga: Saga) -> bool:
    """Whether the event is an anonymous visitor's: it carries an anonymous id and no user id. Not a login (its own
    user's customer is where it goes: bench draw 2666 differed without this), nor another channel's event (a family
    plan's call whose account and line two members' customers hold: ``test_family_plan.py`` failed without it)."""
    kinds = {kind_of(key) for key in saga.ids}
    return ANONYMOUS_ID in kinds and USER_ID not in kinds


def _user_before(saga: Saga, side: Mapping[str, Member], rank: int) -> bool:
    """Whether ``side``'s one user id ranks before ``rank`` (its earliest event did not bring what ranks so), or with
    it where the event's visit lowered each identifier of the event ``side`` holds from that very rank
    (``Saga.prior_ranks``): its node knew no earlier event carrying it than the user's login, so no earlier event of
    that user had brought it (one that had would have left its lower rank there, and the event would not have lowered
    it: bench draw 2939's kind). Bench draws 1503 and 2739 differed without the second case."""
    users = [member_rank(value) for key, value in side.items() if kind_of(key) == USER_ID]
    if len(users) != 1 or not 0 < users[0] <= rank:
        return False
    return users[0] < rank or all(saga.prior_ranks.get(key) == rank for key in saga.ids if key in side)


def _merges(ctx: Node, saga: Saga, traits: Summary | None, members: Mapping[str, Member]) -> bool:
    """Whether the matcher merges the event's identifiers (and traits) with a side of ``traits`` and ``members``."""
    return judge(ctx, saga.traits, traits, saga.ids, members, saga)[0] is Decision.MERGE
