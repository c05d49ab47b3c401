"""Where two user ids (a limit of one) meet on one customer, the earlier-ranked one keeps it (issue #8 point 5).

Segment user ids are limited to one per customer (``max_per_customer`` USER_ID 1): two are two people. In time order
the user whose earliest event came first holds the customer its anonymous id or e-mail reached, and the later user's
event is refused through that identifier (``limits.conflict``), keeping only what its own event brought. Arriving in
another order, the later user got there first and the earlier one was refused. Here the customer is re-derived when
that happens: a step (a ``join`` of an event's pending identifiers, or an ``offer`` at its survivor) that brings a
user id ranked before the customer's resident one, by an event that ranks before the resident too, moves the
resident out with its rank-mates (the members its earliest event brought: those of its very rank, not the linking
identifiers) to a customer of its own, the steps of an operator's split without a do-not-merge; the step then goes on
as without the resident (limits, weighing, claims as before). At a join, the members ranked after the resident that
no user-less event brought leave with it as well: in time order the resident was refused before they came, with its
own later events (``_came_after``; a shared browser's later login whose next event brought an e-mail or a second
browser, bench draws 1011 and 1220: 6 of 24 orders on one partition differed in each such form, none now).

Only where the customer's state shows the time-order outcome (the attempts that decided on less, and what they broke:
``tests/bench/results/identity_email_order.md``):

* every member left ranks before the resident, so in time order they were there before it came: those ranked
  before the event when the event came, those ranked after it joined what the event had joined (``_settled``);
  a rank-mate of the resident that the event carries (its rank the event lowered) came with the event, and stays
  where another member that stays ranks before the resident; a member an event without a user id brought with the
  linking identifier came after it and went with it, whatever its rank (``came_with.py``: Segment aliases, draws 17
  and 438), and stays (at the loser's side of an ``offer``, the linking identifier with it);
* each of those ranks is the rank of an event applied to this customer (``CustomerState.ranks_applied``, the latest
  ``RANKS_KEPT``): a rank an event lowered at its visit while the event is still on its way (3 partitions
  interleaved) is not final, and that event's own user may rank first. A member whose rank the deciding event itself
  lowered (a linking identifier it carried) counts with the rank it had before (``Saga.prior_ranks``): its new rank
  tells when the event came, not when the customer got it;
* the matcher merges the event's side with what stays (else the event is kept apart by weight in time order too, and
  the resident stays);
* at an ``offer``, the resident may be either side's: the survivor's moves out before the merge; the loser's (locked
  with its members) is merged without them, which then leave the survivor (``loser_split_off``).

When none of that holds nothing moves and the limit refuses the step as before, so the rule only ever replaces an
arrival-order refusal by the time-order outcome. Where it fails only for want of applied ranks (an event in flight)
or the resident's own rank-mate is all that stays, the refused step is decided again at a later ``apply``
(``displace_late.py``); so is a join where the resident's later members would leave with it but a linking identifier
still ranks with the resident (an earlier event's visit may yet lower it: ``_await_later``). There a member at the
refused event's own rank counts as settled where a linking identifier ranks before it at an applied rank (the event
carried it; its apply never comes here). A join of the resident's own later event that arrives after it moved out
follows it (``moved_off.join_follows``). Such a join is awaited also where the linking identifier ranked after the
resident (its earliest event's visit may yet lower it), and decided again at the resident's rank as it stands then
(its own earliest event may have lowered it since). At an ``offer`` whose event carries no user id the loser's
members that came after its resident leave with it; at the survivor, those no user-less event made a member. A
member the deciding event carries that ranked after the resident stays with the event where the event met the
customer through an identifier there before it (bench draw 625). A fall of a moved resident's rank follows it to its
new customer (``rank_follows``). Measured: ``tests/bench/identity_email_order.py``, seeds 0-3499.

Where the limit refuses an event's ``offer`` between two users' customers, which side the event goes to, as the side
it met first in time order: ``met_first.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from processors.identity.graph import (
    browser_login,
    came_with,
    displace_late,
    elsewhere,
    handoff_moves,
    moved_off,
    split_contacts,
    split_traits,
)
from processors.identity.graph.context import recalls, remember
from processors.identity.graph.customer_steps import Node, assign, waived
from processors.identity.graph.evidence import judge
from processors.identity.graph.limits import (
    HASH_BITS,
    conflict,
    deciding_rank,
    give_way,
    member_rank,
    rank_of,
    reassigned,
)
from processors.identity.graph.messages.base import Member, Saga
from processors.identity.graph.messages.claims import Claim
from processors.identity.graph.messages.commands import SplitInit
from processors.identity.graph.messages.steps import Offer, Visit
from processors.identity.graph.met_in_time import before as _before
from processors.identity.graph.outputs import Refused
from processors.identity.graph.saga import command_saga, customer_id, lineage
from processors.identity.graph.state import Awaited, CustomerState
from processors.identity.matching.traits import Summary
from processors.identity.matching.weights import Decision
from processors.identity.rules import MAX_PER_CUSTOMER, kind_of

USER_ID = "USER_ID"
RANKS_KEPT = 8  # ranks of applied events a root remembers (6-byte hashes): an older one settles nothing
REASON = "a user id ranked before it reached the customer (limit of one)"


def applied(ctx: Node, rank: int) -> None:
    """An event of ``rank`` (``limits.event_rank``) was applied to this customer: a step refused while it was in
    flight is decided again (``displace_late.py``)."""
    ctx.state.ranks_applied = remember(ctx.state.ranks_applied, str(rank), RANKS_KEPT)
    for entry in displace_late.due(ctx.state, rank):
        if _again(ctx, entry):
            displace_late.drop(ctx.state, entry)


def at_join(ctx: Node, saga: Saga, added: list[str], culprit: str, linking: Iterable[str]) -> list[str]:
    """The members that give way to the user id among ``added`` (the event's pending identifiers meeting this
    customer through ``culprit``): the resident user id and its rank-mates, or none."""
    arriving = [key for key in added if kind_of(key) == USER_ID]
    if len(arriving) != 1:
        return []
    ranks = {key: rank_of(ctx.policy, saga, key) for key in added}
    keep = {culprit, *linking}
    user, user_rank = arriving[0], ranks[arriving[0]]

    def waiting(resident: str, rank: int, unapplied: list[int]) -> None:  # decided again when they are applied
        displace_late.note(ctx.state, Awaited(unapplied, resident, rank, user, user_rank,
                                              [culprit, *sorted(keep - {culprit})], saga.event_id, saga.channel))

    return _leaving(ctx, saga, user_rank, keep, lambda rest: _fits(ctx, saga, rest, ranks, culprit)
                    and judge(ctx, saga.traits, _staying(ctx, rest), [*added, culprit], rest)[0] is Decision.MERGE,
                    came_with.followers(ctx.state.came_with, keep, ctx.state.members), waiting, later=True)


def at_offer(ctx: Node, saga: Saga, loser: Mapping[str, Member], culprit: str | None,
             traits: Summary | None) -> list[str]:
    """At the survivor of an offer: the members that give way to the loser's user id (``loser``: its members), or
    none. Not for a proposal that no event ranks (blocking, a review) nor without a linking identifier; an alias's late
    link decides at the alias's rank (``limits.deciding_rank``)."""
    if culprit is None or deciding_rank(saga) is None:
        return []
    arriving = [key for key in loser if kind_of(key) == USER_ID and key not in ctx.state.members]
    if len(arriving) != 1:
        return []
    ranks = {key: member_rank(value) for key, value in loser.items()}
    return _leaving(ctx, saga, ranks[arriving[0]], {culprit}, lambda rest: _fits(ctx, saga, rest, ranks, culprit)
                    and judge(ctx, traits, _staying(ctx, rest), [*loser, culprit], [*rest, culprit])[0]
                    is Decision.MERGE,
                    came_with.followers(ctx.state.came_with, [culprit], ctx.state.members), later=True, offer=True)


def _leaving(ctx: Node, saga: Saga, arriving_rank: int, keep: set[str],
             goes_ahead: Callable[[list[str]], bool], following: Iterable[str] = (),
             waiting: Callable[[str, int, list[int]], None] | None = None, later: bool = False,
             offer: bool = False) -> list[str]:
    """The resident user id and its rank-mates, if they rank after ``arriving_rank`` and the event, what stays is
    settled before the resident (``_settled``, with the ranks ``_before`` the event) or ``following`` the linking
    identifiers (``came_with.followers``) and the step ``goes_ahead`` with what stays; else none. Where only ranks of
    events not yet applied here keep it from being settled and the step would go ahead, ``waiting`` is told the
    resident, its rank and those ranks (``displace_late.py``). With ``later`` (a join), the members that came after
    the resident with its own later events leave with it too (``_came_after``), unless a linking identifier ranked
    with the resident before the event's visit (it came with the resident: bench draw 1456's cut)."""
    members = ctx.state.members
    residents = [key for key in members if kind_of(key) == USER_ID]
    if len(residents) != 1:
        return []
    rank, event = member_rank(members[residents[0]]), deciding_rank(saga) or 0
    if not rank or not arriving_rank or arriving_rank >= rank or event >= rank:
        return []
    moving = sorted(key for key in members if key not in keep and member_rank(members[key]) == rank)
    after = sorted(key for key in _came_after(ctx.state, saga.ids, keep, rank)
                   if not (offer and came_with.made_by_user_less(ctx.state, key))) if later else []
    leaving = [*moving, *after]
    if after and not any(_before(saga, key, member_rank(members[key])) == rank for key in keep & members.keys()):
        moving = leaving
    if not (decided := _decide(ctx, saga, rank, moving, residents[0], goes_ahead, following, waiting)) and after \
            and waiting is not None:
        _await_later(ctx, leaving, rank, goes_ahead, lambda unapplied: waiting(residents[0], rank, unapplied))
    return decided


def _decide(ctx: Node, saga: Saga, rank: int, moving: list[str], resident: str,
            goes_ahead: Callable[[list[str]], bool], following: Iterable[str],
            waiting: Callable[[str, int, list[int]], None] | None) -> list[str]:
    """``moving`` if what stays is settled before the resident (ranked ``rank``) and the step goes ahead; else none,
    ``waiting`` told where only ranks in flight keep it from being settled (``_leaving``)."""
    members = ctx.state.members
    rest = [key for key in members if key not in moving]
    ranks = {key: _before(saga, key, member_rank(members[key])) for key in rest}
    # A rank-mate of the resident that the event carries and ranked earlier at its visit came with the event in time
    # order: it stays, where something else stays that came before (else the customer was the resident's own).
    carried = {key for key, value in ranks.items() if value == rank and key in saga.prior_ranks}
    # One ranked after the resident came with it, by its later events, unless the event met the customer through an
    # identifier it carries that was there before it: then, in time order, the event brought it, before the resident
    # (bench draw 625; not through what it carries alone, which may be the resident's own: draws 1684, 2165).
    if any(0 < value < (deciding_rank(saga) or 0) for key, value in ranks.items()
           if key in saga.ids and key not in saga.prior_ranks):
        carried |= {key for key, value in ranks.items() if value > rank and key in saga.prior_ranks}
    # A member an event without a user id brought with a linking identifier went where that identifier went, after
    # it (came_with.py): it stays whatever its rank, and the customer was not the resident's own.
    followed = set(following) & set(rest) - carried
    others = [value for key, value in ranks.items() if key not in carried | followed]
    if not rest:
        return []
    if (carried and not any(others) and not followed) or not _settled(ctx, others, rank):
        # Not the time-order outcome yet: a rank in flight, or the linking identifier the resident's own as far as
        # this customer knows (an earlier event's visit may still lower it). Decided again at a later apply.
        unapplied = sorted({value for value in others if value and not recalls(ctx.state.ranks_applied, str(value))})
        if waiting is not None and all(value < rank for value in others) and goes_ahead(rest):
            waiting(resident, rank, unapplied)
        return []
    return moving if goes_ahead(rest) else []


def _await_later(ctx: Node, moving: list[str], rank: int, goes_ahead: Callable[[list[str]], bool],
                 waiting: Callable[[list[int]], None]) -> None:
    """A join refused although, with the resident's later members (``_came_after``) leaving too, what stays ranks
    before the resident (``rank``) and the step would go ahead: a linking identifier still ranked with the resident
    before the event's visit, or a later member, kept them. An earlier event in flight may yet lower that rank (its
    visit, then its apply here: 3 partitions interleaved), so the step is decided again at every later apply
    (``_again``, which reads the ranks then held and waits while one is still the resident's or unapplied)."""
    members = ctx.state.members
    rest = [key for key in members if key not in moving]
    if rest and all(member_rank(members[key]) < rank for key in rest) and goes_ahead(rest):
        waiting([])


def _came_after(state: CustomerState, carried: Iterable[str], keep: set[str], rank: int) -> set[str]:
    """The members of ``state`` ranked after the resident user id (``rank``) that no event without a user id brought
    (``came_with.brought_by_user_less``), not in ``keep`` (the linking identifiers) nor ``carried`` (the deciding
    event's identifiers): in time order the resident was refused before they came, and they came with its own later
    events (``{x0, u-1}`` t2, ``{u-1, e1}`` t3: e1 is u-1's), so they leave with it. Bench draws 1011, 1220
    (``tests/bench/results/identity_email_order.md``)."""
    members = state.members
    return {key for key in members if key not in keep and key not in carried and member_rank(members[key]) > rank
            and not came_with.brought_by_user_less(state, key)}


def _staying(ctx: Node, rest: list[str]) -> Summary | None:
    """The customer's trait summary without the names the leaving members' contacts told (``split_traits.staying``):
    an arriving login is weighed against what stays, not against the leaving resident's own names."""
    return split_traits.staying(ctx, [key for key in ctx.state.members if key not in rest])


def _fits(ctx: Node, saga: Saga, rest: list[str], added: Mapping[str, int], culprit: str) -> bool:
    """Whether, once the resident has left, the step goes ahead by the limits: no second identifier of a type
    limited to one, and the linking identifier does not itself give way (``limits.give_way``)."""
    members = {key: ctx.state.members[key] for key in rest}
    return (conflict(ctx.policy, members, added, waived(saga)) is None
            and culprit not in give_way(ctx.policy, members, added, waived(saga)))


def _settled(ctx: Node, ranks: Iterable[int], resident: int) -> bool:
    """Whether every rank ranks before ``resident`` (the resident user id's) and is that of an event applied here
    (0: unranked, no event)."""
    return all(rank < resident and (not rank or recalls(ctx.state.ranks_applied, str(rank))) for rank in ranks)


def _again(ctx: Node, entry: Awaited) -> bool:
    """A user id refused at a join while ranks were in flight (``entry``), those events now applied here: where the
    customer still holds the same resident at its rank and the linking identifiers, every other member settled
    before the resident and the user id fits the limits without it, the resident leaves as at the join and the
    refused user id's customer is linked to this one (``displace_late.py``). True when decided (or no longer
    possible: another resident, a linking identifier gone); False while not settled yet."""
    members = ctx.state.members
    residents = [key for key in members if kind_of(key) == USER_ID]
    if residents != [entry.resident] or not set(entry.linking) <= members.keys():
        return True
    # The resident's rank may have fallen since (its earliest event's visit): its rank-mates are those of the rank it
    # holds now, while it still ranks after the refused user id.
    rank = member_rank(members[entry.resident])
    if not entry.user_rank < rank <= entry.resident_rank:
        return True
    moving = sorted(key for key in members if key not in entry.linking and member_rank(members[key]) == rank)
    moving += sorted(_came_after(ctx.state, (), set(entry.linking), rank))
    rest = [key for key in members if key not in moving]
    saga = command_saga(entry.event_id, entry.channel, MAX_PER_CUSTOMER)
    # A member at the refused event's own rank (its visit lowered it: it carried it) was there by then in time order,
    # where the event met the customer through a linking identifier settled before it (else that member may be the
    # resident's own, bench draw 1456's cut); that event is applied to the refused user id's customer, never here.
    met = any(0 < member_rank(members[key]) < entry.user_rank and _settled(ctx, [member_rank(members[key])], rank)
              for key in entry.linking)
    carried = entry.user_rank if met else 0
    if not rest or not _settled(ctx, [value for key in rest if (value := member_rank(members[key])) != carried], rank):
        return False
    if not _fits(ctx, saga, rest, {entry.user: entry.user_rank}, entry.linking[0]):
        return True
    split_off(ctx, saga, moving)
    late = displace_late.late_saga(entry)
    ctx.send(late.ids[0], Visit(late))
    return True


def rank_follows(ctx: Node, key: str) -> str | None:
    """Where a fall of identifier ``key``'s rank (``Rekey``, sent at an earlier event's visit) goes instead of this
    customer, which no longer holds ``key``: the customer a move that was not a claim (``split_off`` here, an
    operator's split) took it to (``CustomerState.split_off``), not this one nor one merged into it; None: dropped.
    A resident moved out while its earliest event was still on its way keeps the rank of its later event there, and
    ranks after a user id it ranks before in time order (bench draw 2939, 3 partitions interleaved)."""
    state = ctx.state
    value = state.split_off.get(key)
    if value is None:
        return None
    note = moved_off.moved(value)
    return None if note.claim or note.to == ctx.key or note.to in state.aliases else note.to


def split_off(ctx: Node, saga: Saga, moving: list[str]) -> None:
    """Move ``moving`` to a customer of their own, by an operator split's steps (``customer_node.on_split``: the
    contacts that carried only moved identifiers follow, with their profile part and trait summary) but with no
    do-not-merge (the two may merge again by weight, as any two customers) and announced as the limit's refusal of
    the resident user id here (``LinkRefused`` rule ``max-per-customer``, ``other_customer_id`` its new customer):
    not a ``CustomerSplit``, which is an operator's decision (``processors/verify/reviews.py``)."""
    state = ctx.state
    members = state.members
    resident = next(key for key in moving if kind_of(key) == USER_ID)
    rank = member_rank(members[resident])
    at = rank >> HASH_BITS
    new_id = customer_id(at, f"displace~{saga.event_id}~{resident}")
    versions = {key: reassigned(members.pop(key)) for key in moving}
    moved_off.note_identifiers(state, versions, new_id)  # an apply still on its way here follows them
    refused = Refused(resident, REASON, lineage(saga, MAX_PER_CUSTOMER), customer_id=ctx.key, other_customer_id=new_id)
    ctx.emit(refused)
    assign(ctx, moving, versions, new_id, refused.event_id, None)
    contacts, profile = split_contacts.hand_over(ctx, moving, browsers_follow=True)
    handoff_moves.note_moved(ctx, contacts, new_id)
    traits = split_traits.at_split(ctx, profile)
    ctx.send(new_id, SplitInit(versions, [], at, shared=sorted(set(state.shared) & set(moving)), contacts=contacts,
                               profile=profile, split_event_id=refused.event_id, traits=traits,
                               elsewhere=elsewhere.at_split(ctx, moving)))
    # A browser left here whose login is the resident's (its login rank the resident's rank) goes with it.
    for key in browser_login.left_behind(state.members):
        ctx.send(key, Claim(new_id, rank, saga.event_id, saga.channel, login=resident))


def at_offer_loser(ctx: Node, saga: Saga, message: Offer) -> list[str]:
    """At the survivor of an offer: the loser's members that give way to the survivor's user id, or none (the rule
    of ``at_offer`` with the sides swapped; what stays of the loser is settled before the event by its
    ``Offer.ranks_applied``, or is a rank-mate of the resident the event carries, not the linking identifier). The
    loser is locked: the survivor merges it without them and then moves them out (``loser_split_off``)."""
    loser, culprit = message.members, message.culprit
    if culprit is None or deciding_rank(saga) is None:
        return []
    mine = [key for key in ctx.state.members if kind_of(key) == USER_ID]
    residents = [key for key in loser if kind_of(key) == USER_ID and key not in ctx.state.members]
    if len(mine) != 1 or len(residents) != 1:
        return []
    rank, event, arriving = member_rank(loser[residents[0]]), deciding_rank(saga) or 0, member_rank(
        ctx.state.members[mine[0]])
    if not rank or not arriving or arriving >= rank or event >= rank:
        return []
    moving = sorted(key for key in loser if key != culprit and member_rank(loser[key]) == rank)
    if not any(kind_of(key) == USER_ID for key in saga.ids):
        moving += sorted(key for key in loser if key != culprit and key not in saga.ids
                         and member_rank(loser[key]) > rank
                         and not came_with.brought_by(message.came_with, loser, key))
    rest = [key for key in loser if key not in moving]
    # A member the event carries whose rank it lowered from the resident's came with the event in time order: it
    # stays without ranking before it. Not the linking identifier: the resident's own, which its earliest event (maybe
    # still on its way, with more) brought (bench guard 130).
    carried = {key for key in rest if key != culprit and key in saga.prior_ranks
               and _before(saga, key, member_rank(loser[key])) == rank}
    # What an event without a user id brought with the linking identifier went with it (came_with.py): both stay, the
    # linking identifier not the resident's alone (bench draw 438 in full).
    if followed := came_with.followers(message.came_with, [culprit], loser):
        carried |= followed | {culprit}
    if not rest or not all(member_rank(loser[key]) < event and (
            not member_rank(loser[key]) or recalls(message.ranks_applied, str(member_rank(loser[key]))))
            for key in rest if key not in carried):
        return []
    ranks = {key: member_rank(loser[key]) for key in rest}
    if not _fits(ctx, saga, list(ctx.state.members), ranks, culprit):
        return []
    if judge(ctx, message.traits, ctx.state.traits, [*rest, culprit], [*ctx.state.members, culprit])[0] \
            is not Decision.MERGE:
        return []
    return moving


def loser_split_off(ctx: Node, saga: Saga, leaving: Mapping[str, Member]) -> None:
    """After the merge of an offer whose loser's resident gave way (``at_offer_loser``): the resident and its
    rank-mates, merged in without them, leave the survivor with the contacts that carried only them (``split_off``)."""
    for key, value in leaving.items():
        ctx.state.members[key] = reassigned(value)
    split_off(ctx, saga, sorted(leaving))
