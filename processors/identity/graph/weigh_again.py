"""An event's identifiers a customer took unweighed are weighed again when an earlier-ranked event's members show that
time order would have weighed them (issue #8 point 5, the order bench's "one user id or none" kind).

Whether a ``join`` is weighed reads the customer's members at that instant (``customer_join.weighed_the_other_way``):
a new identifier planned after the owned one that brought the event joins unweighed unless the customer holds a
member planned before that one. Bench draw 99 cut to three calls: A ``{x0, e0}`` t0, B ``{x0, u-0}`` t1, C ``{x9,
e0}`` t2. In time order C meets ``{x0, e0, u-0}`` through ``e0``; ``u-0`` is planned before ``e0``, so C is weighed:
no trait on either side, a review, ``x9`` kept apart. Arriving A, C, B, C met ``{x0, e0}`` only and ``x9`` joined
unweighed; B then brought ``u-0``, and nothing decided C again. Likewise an event that made its own customer because
it came first (draw 94: C ``{x0, e1}`` t2 before B ``{x9, e1}`` t1) would, in time order, have met B's customer
through ``e1``.

The rule: decide from the evidence time order had, not from arrival. A customer keeps, for each event whose
identifiers it took unweighed (``on_create``; a ``join`` through owned identifiers that was not weighed), the
identifiers it brought with the rank it gave each (``Unweighed``; the latest ``MAX_UNWEIGHED``, moved along merges).
Ranks only fall (``limits.py``), so once the customer's members say so, time order is read from them (``again``):
the event's identifiers that an earlier event carried (member rank below the event's own) are the ones it met the
customer through (``linking``), the rest are the ones it brought (``new``); the members ranked before the event are
the customer it met, except those a step of a later-ranked event brought (a ``join`` or a merge by an event that
ranks after it: ``Unweighed.after``, ``joined``; in time order they came after it). Time order weighed it when a
member it met is planned before the first linking identifier (``weighed_the_other_way``; not one with that identifier
only since a later event, through another: ``joined.since``, bench draw 686), and that member's rank is
an event's applied here (``CustomerState.ranks_applied``: a rank an event lowered at its visit while that event is
still on its way is not final, as ``displace.py`` reads it). An identifier the event carried with a rank below its
own (its node ranked it before the event: an alias noted on an unowned anonymous id keeps the alias's rank,
``IdentifierState.aliased``) is not read as the event's: the alias's late link, refused in one order while the event's
customer held it, is not taken again after a split (bench draw 2568). Then it is weighed now, as then (its traits
against the customer's, its identifiers against the members it met), and the record is dropped: if the matcher
merges, nothing changes; if not, its new identifiers leave for a customer of their own (``customer_split.split_off``,
announced as the processor's own split under the review's or the refusal's rule, not an operator's:
``replay/operators.py``) and the review or refusal time order gave is announced (``evidence.kept_apart``). A record
is kept while time order did not weigh it (a later member may still say otherwise), and dropped once nothing it
brought is held here, or once a later event applied here carried one of its identifiers it still ranks first on with
another member (``carried``: in time order that event linked the two again; read from ``Apply.ids``, which a record
carries, else ``Apply.linked``, a trait-less event's identifiers that had an owner at its visit). A record decided
again and kept apart stays as a mark (``Unweighed.left``): a later event that visited the pair on one customer
before the split and arrives after it links the two again (``relinked``), as its ``offer`` did in time order.

What this chose (issue #8 point 5): an unweighed join is undone when the weight now keeps the two apart (a review or
a refusal), since in time order they were never one customer; a join or merge that was weighed and merged is not
decided again (its evidence was weighed; a later member changes whether a step is weighed, not what the matcher said
on it), and the linking identifiers stay (the earlier event's, as in time order). A pending-identifier ``join`` (one
of the event's new identifiers planned before the linking one) is not read from ranks: the rekeys of one earlier
event arrive one by one, and in between half its identifiers look like the kept event's own (measured: 261 draws of
the order bench newly differed with it). Called where members join (``customer_join.on_join``,
``customer_merge.on_offer`` after a merge) and where an event is applied (``customer_node.on_apply``: its rank is then
final); and where a claim takes the identifier a kept event joined through (``claimed_away``, from
``claim_node.on_give``: the members cannot show time order then, the identifier has left). Not covered: traits the event
left in the customer's summary stay there (the summary is not per event); a decision taken on the events arrived so far
is not taken back when a still earlier event that carried both sides arrives later (it meets the two as customers in an
``offer``, weighed), nor when time order weighed the pair in an ``offer`` rather than a ``join`` (the identifier had a
customer of its own: an anonymous page view). A repeat of the pair is read only when it ranks after the kept event;
``relinked`` does not ask it (a trait-less ``apply`` carries no rank): an earlier repeat lowers the kept event's
identifier below the kept event's rank once its visit is applied, and then nothing is split (measured on the shapes of
``test_members_decide_order.py``, every order, 1 and 3 partitions; not shown for every interleaving).

An event that met nobody in time order but reached this customer through identifiers an event ranked after it brought,
one that claimed a record's key and told no person (a portal's ``group`` naming the holder's account before the same
user's ``identify``), is kept too, weighed or not (``met_late``), and weighed at its apply as the later event's
``offer`` weighed it in time order (``_met_none``; ``test_group_account_order.py``).

What a proposal of a carried pair or a browser's ``offer`` linked in is undone, when an earlier event claims or
joins through the identifier it linked through, in ``carried_undo.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import msgspec

from processors.identity.graph import elsewhere
from processors.identity.graph.context import recalls
from processors.identity.graph.customer_split import split_off
from processors.identity.graph.customer_steps import Node, face
from processors.identity.graph.evidence import judge, kept_apart
from processors.identity.graph.joined import since as together_since
from processors.identity.graph.limits import (
    BANDS,
    CLAIMED_BAND,
    HASH_BITS,
    LATE_BAND,
    deciding_rank,
    member_rank,
    rank_of,
    saga_rank,
)
from processors.identity.graph.messages.base import Saga, Unweighed
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.outputs import Lineage, Split
from processors.identity.graph.saga import customer_id, new_saga
from processors.identity.matching.traits import Summary
from processors.identity.matching.weights import Decision
from processors.identity.rules import CO_OBSERVED, MATCH_REVIEW, MATCH_WEIGHT

MAX_UNWEIGHED = 8  # the latest events a customer keeps to decide again (``CustomerState.unweighed``)
SEED_SUFFIX = "~weighed-again"  # seeds the id of the customer an event's identifiers leave for (with its event id)
TOKEN_PREFIX = "again~"  # the id of a kept-apart pair's link again (``relinked``): a hash, no identifier value


def note(ctx: Node, saga: Saga, keys: Iterable[str], linking: Iterable[str] = ()) -> None:
    """Keep the event of ``saga`` whose identifiers ``keys`` this customer took unweighed, with the rank it gave each
    (those it ranks 0, an anonymous page view's, left out: they say nothing of time order); of the ``linking`` ones
    it joined through, the member rank each has here now where it is below the event's (``Unweighed.met``)."""
    members = ctx.state.members
    ranks = {key: rank for key in sorted(set(keys)) if key in members and (rank := rank_of(ctx.policy, saga, key))}
    if ranks:
        prior = {key: rank for key, rank in saga.prior_ranks.items() if key in ranks}
        met = {} if saga.traits else {key: held for key in sorted(set(linking)) if key in ranks
               and 0 < (held := member_rank(members[key])) < ranks[key]}
        record = Unweighed(saga.event_id, saga.channel, ranks, saga.traits or None, prior=prior, met=met)
        kept = [entry for entry in ctx.state.unweighed if entry.event_id != saga.event_id]
        ctx.state.unweighed = [*kept, record][-MAX_UNWEIGHED:]


def fell(ctx: Node, key: str, old: int, rank: int) -> None:
    """Member ``key``'s rank here falls from ``old`` to ``rank`` (``rank_node.on_rekey``: a still earlier event's
    visit): each kept event ranked after ``old`` that holds ``key`` keeps ``old`` (``Unweighed.met``), the rank an
    earlier event gave it here before this one lowered it (``claimed_away`` reads it once that event is applied)."""
    if not old or not rank < old:
        return
    ctx.state.unweighed = [
        msgspec.structs.replace(entry, met={**entry.met, key: old})
        if key in entry.ranks and old < entry.ranks[key] and not entry.met.get(key) and not entry.traits else entry
        for entry in ctx.state.unweighed]


def met_late(saga: Saga, keys: Iterable[str]) -> bool:
    """Whether the event of ``saga`` reached a customer through ``keys`` that an event ranked after it brought there:
    its visit lowered each from a later rank (``Saga.prior_ranks``, compared without bands). A join weighed through
    them counted them as the customer's; in time order the event met nobody (``_met_none``)."""
    rank = saga_rank(saga) & BANDS
    return all((prior := saga.prior_ranks.get(key)) is not None and claimed_later(prior, rank) for key in keys)


def claimed_later(prior: int, rank: int) -> bool:
    """Whether ``prior``, an identifier's rank before an event of ``rank`` (without bands) lowered it, is a later
    event's that claimed a record's key and told no person (``limits.CLAIMED_BAND``: a portal's ``group`` naming an
    account, card or customer number; a keypad's account): such an event's link to the record's holder was weighed
    on the key alone, not against what the earlier event brought (``_met_none``)."""
    return bool(prior & CLAIMED_BAND) and prior & BANDS > rank


def merge(ctx: Node, theirs: Iterable[Unweighed], rank: int, own: Iterable[str], their_members: Iterable[str]) -> None:
    """At a merge's survivor, by an event of ``rank`` (``limits.saga_rank``): the loser's records (``Offer.unweighed``)
    join its own, the latest kept; each side's members reached the other side's kept events after them if the merging
    event ranks after them (``joined``)."""
    state = ctx.state
    known = {entry.event_id for entry in state.unweighed}
    joined(ctx, rank, their_members)
    added = [entry for entry in theirs if entry.event_id not in known]
    state.unweighed = [*state.unweighed, *_after(added, rank, own)][-MAX_UNWEIGHED:]


def joined(ctx: Node, rank: int, keys: Iterable[str]) -> None:
    """Members ``keys`` joined this customer by a step of an event of ``rank``: for each kept event ranked before it,
    they came after it (in time order too), so they are none it met (``Unweighed.after``)."""
    ctx.state.unweighed = _after(ctx.state.unweighed, rank, keys)


def _after(entries: Iterable[Unweighed], rank: int, keys: Iterable[str]) -> list[Unweighed]:
    keys = sorted(set(keys))
    return [msgspec.structs.replace(entry, after=sorted({*entry.after, *keys} - set(entry.ranks)))
            if keys and rank > min(entry.ranks.values()) else entry for entry in entries]


def carried(ctx: Node, event_id: str, ids: Iterable[str]) -> None:
    """An event applied here (``event_id``, its identifiers ``ids``: a record's ``Apply.ids``, else the owned ones of
    ``Apply.linked``) carried a kept event's identifier that it still ranks first on together with another member: it
    came after that event, and in time order it linked the two again whatever the kept event's weighing gave (a
    repeat of the pair: bench draw 94 with ``{x0, e1}`` twice, which time order merged by an offer at 10.3 bits after
    the review). The kept event is settled: its record is dropped. Where the kept event was decided again already and
    its identifiers left (``relinked``), the pair is linked again."""
    state = ctx.state
    members = state.members
    ids = list(ids)
    held = [key for key in ids if key in members]
    relinked(ctx, event_id, ids, held)
    if len(held) < 2:
        return
    state.unweighed = [entry for entry in state.unweighed if entry.event_id == event_id or entry.left or not any(
        key in entry.ranks and member_rank(members[key]) == entry.ranks[key] for key in held)]


def aliased(ctx: Node, saga: Saga) -> None:
    """An alias's late link (``saga.alias_saga``: its previous id and user id, look-up only) merged here: in time
    order the alias linked the two when it came, after each kept event ranked before it (``limits.deciding_rank``),
    weighed as an ``offer``, whatever the kept event's weighing gave; such a kept event whose identifier the alias
    named and that still ranks first on it is settled (as by ``carried``). Bench draw 191 cut to three calls: ``{x1,
    e0, u-1}`` t0, ``{x0, e0}`` t1, ``alias x0 -> u-1`` t2, arriving t2, t1, t0: t1's ``x0`` was split off at t0's
    apply although the alias links it to ``u-1`` after."""
    rank = deciding_rank(saga)
    if not saga.proposal or rank is None:
        return
    members = ctx.state.members
    held = [key for key in saga.lookup_only if key in members]
    if len(held) < 2:
        return
    ctx.state.unweighed = [entry for entry in ctx.state.unweighed if entry.left or not any(
        key in entry.ranks and entry.ranks[key] < rank and member_rank(members[key]) == entry.ranks[key]
        for key in held)]


def relinked(ctx: Node, event_id: str, ids: list[str], held: list[str]) -> None:
    """The event ``event_id`` carried, together, a linking identifier of a kept event decided again (``Unweighed.left``)
    and one of the identifiers that left: it visited them before the split and arrives after it. In time order it
    came after the split (else ``carried`` settled the kept event first) and met the two customers in an ``offer``,
    weighed: that link is made now (a look-up-only proposal of the two, weighed as an offer, the limits checked;
    lineage rule ``co-observed``; its id a hash of the event and the kept event, the same on a redelivery)."""
    state = ctx.state
    for entry in [entry for entry in state.unweighed if entry.left and not entry.through]:
        linking = [key for key in held if key in entry.ranks]
        gone = [key for key in ids if key in entry.ranks and key not in state.members]
        if linking and gone:
            state.unweighed = [other for other in state.unweighed if other != entry]
            propose(ctx, f"{event_id}~{entry.event_id}", entry.channel, [linking[0], gone[0]])


def propose(ctx: Node, seed: str, channel: str, pair: list[str], prefix: str = TOKEN_PREFIX) -> None:
    """Link the two identifiers ``pair`` again: a look-up-only proposal (it visits both and meets their customers in
    an ``offer``, weighed, the limits checked; lineage rule ``co-observed``), its id ``prefix`` and a hash of
    ``seed`` (no identifier value; the same on a redelivery)."""
    digest = hashlib.sha256(seed.encode()).hexdigest()[:24]
    saga = new_saga(prefix + digest, channel, 0, [], None, 0.0, lookup_only=pair)
    saga = msgspec.structs.replace(saga, proposal=True, rule=CO_OBSERVED)
    ctx.send(saga.ids[0], Visit(saga))


def again(ctx: Node) -> None:
    """Decide again each kept event that time order would have weighed, read from the members now (module
    docstring); the oldest first."""
    for entry in sorted(ctx.state.unweighed, key=lambda entry: min(entry.ranks.values())):
        if entry in ctx.state.unweighed and not entry.left:
            _decide(ctx, entry)


def _decide(ctx: Node, entry: Unweighed) -> None:
    state = ctx.state
    members = state.members
    held = {key: rank for key, rank in entry.ranks.items() if key in members}
    new = sorted(key for key, rank in held.items() if (member_rank(members[key]) or rank) >= rank)  # 0: unranked
    linking = ctx.policy.plan_order([key for key in held if key not in new])
    if not new:
        state.unweighed = [other for other in state.unweighed if other != entry]  # nothing it brought is held here
        return
    if not linking:
        _met_none(ctx, entry, new)  # it made the customer and met nobody, or a later event linked it here unweighed
        return
    if any(held[key] < max(entry.ranks.values()) for key in new):
        return  # its node ranked it before the event (an alias noted on it: its late link): not the event's to read
    first, rank = linking[0], min(held[key] for key in new)
    met = [key for key, value in members.items()
           if key not in held and key not in entry.after and 0 < member_rank(value) < rank]
    before = [key for key in met if ctx.policy.plan_order([key, first])[0] == key
              and not together_since(ctx.policy, state, key, first) > rank]  # (customer_join.weighed_the_other_way)
    if not before:
        return  # time order did not weigh it (yet: a member ranked before it may still come)
    if not recalls(state.ranks_applied, str(member_rank(members[before[0]]))):
        return  # a rank an event lowered at its visit while that event is still on its way is not final (displace.py)
    state.unweighed = [other for other in state.unweighed if other != entry]
    staying = [*met, *linking]
    decision, score = judge(ctx, entry.traits, state.traits, [*new, *linking], staying)
    if decision is Decision.MERGE or len(new) == len(members):
        return
    pair = (ctx.policy.plan_order(new)[0], face(ctx, staying, first))
    new_id = _split(ctx, entry, new, decision)
    kept_apart(ctx, decision, score, Lineage(entry.event_id, entry.channel, _rule(decision)), first, new_id, ctx.key,
               pair)


def _met_none(ctx: Node, entry: Unweighed, new: list[str]) -> None:
    """A kept event that met nobody here: the identifiers it reached this customer through were brought by an event
    ranked after it (``Unweighed.prior``, that event applied here), while members ranked before it are held (not
    joined after it). In time order it made a customer of its own with what came to this one at or after its time
    (``side``), and the later event met that customer and the members before it in an ``offer``, weighed (issue #8
    point 5: a portal user's ``group`` naming a customer's account, read before the same user's ``identify``, joined
    the user id to the account's holder on the account alone, and the identify then joined her through the user id,
    unweighed). Weighed now as then: the event's summary against the customer's, ``side`` against the members before
    it, the identifiers it reached them through seen by both (``contest.weigh_offer``'s ``seen``). A merge leaves
    them (the record dropped); a review or a refusal sends ``side`` to a customer of its own, as ``_decide`` does.
    Ranks are compared without their bands (``limits.key_rank``): a record ranks its holder's e-mail after every
    other channel's event, not after her login. Not covered: the later event's identifier on this side is not known
    here, so the one ``seen`` is the event's own (a user id weighs about as a record's key)."""
    state = ctx.state
    members = state.members
    rank = min(entry.ranks[key] for key in new) & BANDS
    if not entry.prior or not all(claimed_later(prior, rank) for prior in entry.prior.values()):
        return  # it made the customer, or met it through an identifier an earlier event brought (a record's, banded)
    later = [prior & BANDS for prior in entry.prior.values()]
    if not all(recalls(state.ranks_applied, str(value)) for value in [rank, *later]):
        return  # it (all its identifiers here) or the later event is still on its way: a rank may still fall
    ranked = {key: member_rank(value) & BANDS for key, value in members.items() if key not in entry.after}
    met = [key for key, value in ranked.items() if 0 < value < rank]
    side = [key for key, value in ranked.items() if value >= rank]
    if not met or not recalls(state.ranks_applied, str(max(ranked[key] for key in met))):
        return  # nothing ranked before it here (so far), or a rank lowered at a visit still on its way is not final
    state.unweighed = [other for other in state.unweighed if other != entry]
    seen = [key for key in entry.prior if key in members]
    decision, score = judge(ctx, entry.traits, state.traits, side, [*met, *seen])
    if decision is Decision.MERGE:
        return
    pair = (ctx.policy.plan_order(side)[0], face(ctx, met, met[0]))
    new_id = _split(ctx, entry, sorted(side), decision)
    kept_apart(ctx, decision, score, Lineage(entry.event_id, entry.channel, _rule(decision)), pair[0], new_id,
               ctx.key, pair)


def claimed_away(ctx: Node, key: str, held_at: int, rank: int, claimant: str, traits: Summary | None) -> None:
    """This customer gave member ``key`` (its member rank here ``held_at``) to ``claimant``, whose event (``rank``, its
    summary ``traits``) ranks first on it (``claim_node.on_give``, after the member left). A kept event that joined here
    through ``key`` alone (an earlier event brought ``key``: another kept event ranked it before this one, or
    ``held_at`` is below this one's and the rank of an event applied here, or so is the rank ``key`` had at the join or
    before a still earlier visit lowered it, ``Unweighed.met``: bench draw 905's cut with the login last) and ranks
    after the claimant met, in time order, the claimant's customer through ``key``, not this one: its identifiers joined
    the others here only through ``key``. Bench draw 2949 (one of 8 draws cut to it): A ``{x0, u-0, e0}`` t0, B ``{x1,
    e0}`` t1, C ``{x2, e0}`` t2. In time order B and C each met A's customer, weighed (``u-0`` planned before ``e0``): a
    review each, ``x1`` and ``x2`` apart. Arriving B, C, A, C joined B's customer unweighed, and A's claim of ``e0``
    left ``x1`` and ``x2`` together. A ``held_at`` only the claimant's visit lowered (its event still on its way) says
    nothing: the kept event may have brought ``key`` itself (bench draw 151: ``{u-0, e0}`` t0, ``{x0, e0}`` t1, ``alias
    x0 -> u-1`` t2 on 3 partitions; ``x0`` made the customer).

    Weighed now as then as far as this customer knows the claimant: the event's summary against the claimant's
    event's, its identifiers against ``key``. Kept apart (a review or a refusal): its identifiers leave for a customer
    of their own (``customer_split.split_off``, as ``_decide`` does) and the review or refusal is announced, with the
    claimant as the other customer. A merge leaves them here (not covered: in time order they joined the claimant)."""
    state = ctx.state
    members = state.members
    applied = bool(held_at) and recalls(state.ranks_applied, str(held_at))
    for entry in list(state.unweighed):
        if entry.left or key not in entry.ranks or not rank < entry.ranks[key]:
            continue
        met = entry.met.get(key, 0)  # its rank here at the join: a claimant's visit may have lowered it since
        if not (applied and held_at < entry.ranks[key]) \
                and not (met and recalls(state.ranks_applied, str(met & BANDS))) and not any(
                0 < other.ranks.get(key, 0) < entry.ranks[key] for other in state.unweighed if not other.through):
            continue  # nothing shows that an earlier event brought it: this event may have
        held = {other: value for other, value in entry.ranks.items() if other in members}
        new = sorted(other for other, value in held.items() if (member_rank(members[other]) or value) >= value)
        if len(new) < len(held) or not new:
            continue  # it still links here through another identifier an earlier event brought, or nothing left
        if len(new) == len(members):
            state.unweighed = [other for other in state.unweighed if other != entry]  # they are this customer
            continue
        decision, score = judge(ctx, entry.traits, traits, [*new, key], [key])
        state.unweighed = [other for other in state.unweighed if other != entry]
        if decision is Decision.MERGE:
            continue
        elsewhere.note(state, key, new)  # the kept event carried ``key``: its new customer is kept apart through it
        new_id = _split(ctx, entry, new, decision)
        kept_apart(ctx, decision, score, Lineage(entry.event_id, entry.channel, _rule(decision)), key, new_id,
                   claimant, (ctx.policy.plan_order(new)[0], key))


def _rule(decision: Decision) -> str:
    """The lineage rule of a decision that keeps two apart: a review's or a refusal's."""
    return MATCH_REVIEW if decision is Decision.REVIEW else MATCH_WEIGHT


def _split(ctx: Node, entry: Unweighed, new: list[str], decision: Decision) -> str:
    """The kept event's identifiers ``new`` leave for a customer of their own (its id returned), under the review's or
    the refusal's rule; its record stays as a mark (``Unweighed.left``: ``relinked``)."""
    state, members = ctx.state, ctx.state.members
    born = min(member_rank(members[key]) for key in new) % LATE_BAND >> HASH_BITS  # the instant, without the bands
    new_id = customer_id(born, f"{entry.event_id}~{new[0]}{SEED_SUFFIX}")
    reason = "an earlier event's identifiers show that time order weighed this event's: kept apart as then"
    split = Split(ctx.key, new_id, tuple(new), reason, Lineage(entry.event_id, entry.channel, _rule(decision)))
    split_off(ctx, new, split, born, apart=False)
    kept = [other for other in state.unweighed if other != entry]
    state.unweighed = [*kept, msgspec.structs.replace(entry, left=new_id)][-MAX_UNWEIGHED:]
    return new_id
