"""Customer nodes: the members of a customer and the decisions that change them.

State: ``state.CustomerState`` (members with their assignment versions and ranks, merge pointer,
lock and queue, do-not-merge list, aliases, duplicate guard, birth, trait summary). Messages:
``Join``, ``Link``, ``Offer``, ``OfferResult``, ``Create``, ``Apply``, ``SplitCustomer``, ``SplitInit``
here, ``Rekey`` / ``Rejoin`` in ``rank_node.py`` (catalogue in ``protocol.md``).

Every decision about a customer is taken at its root, one message at a time, with the full member
list at hand: limits are exact. A merge locks the loser (larger id) while the survivor decides, so the
loser's members cannot change under the decision; waits only ever point to smaller ids, so they end.
"""

from __future__ import annotations

import msgspec

from processors.identity.graph.contest import contests, only_rejected, weigh_offer
from processors.identity.graph.context import Ctx, recalls, remember
from processors.identity.graph.evidence import (
    absorb_traits,
    consistent_traits,
    fits,
    judge,
    kept_apart,
)
from processors.identity.graph.limits import (
    Member,
    claimable,
    conflict,
    evict,
    eviction,
    give_way,
    member,
    member_rank,
    member_version,
    rank_of,
    reassigned,
    version_of,
)
from processors.identity.graph.messages import (
    AnyMessage,
    Apply,
    Assign,
    Claim,
    Create,
    Join,
    Link,
    Offer,
    OfferResult,
    Release,
    Saga,
    SplitCustomer,
    SplitInit,
    Unblock,
)
from processors.identity.graph.outputs import Assigned, Created, Lineage, Linked, Merged, Refused, Resolved, Split
from processors.identity.graph.saga import (
    NEW,
    SHARED,
    UNKNOWN,
    advance,
    apply_message,
    copy_saga,
    customer_id,
    lineage,
    pending_customer_id,
)
from processors.identity.graph.state import CustomerState, decode_profile, encode_profile
from processors.identity.matching.blocking import block_keys
from processors.identity.matching.weights import Decision
from processors.identity.rules import MANUAL_SPLIT, MAX_PER_CUSTOMER, REVIEW_REJECTED, SPLIT_DO_NOT_MERGE, kind_of

DONE_TOKENS = 32

Node = Ctx[CustomerState]


def _route(ctx: Node, message: AnyMessage, token: str | None = None) -> bool:
    """True when this node must decide now; otherwise the message was deferred, forwarded or dropped."""
    state = ctx.state
    if token is not None and (recalls(state.done, token) or state.lock == token):
        return False  # duplicate of a step already taken (or in progress) here
    if not state.created:
        ctx.defer(message)
    elif state.parent:
        ctx.send(state.parent, message)
    elif state.lock:
        ctx.defer(message)
    else:
        return True
    return False


def _done(ctx: Node, token: str) -> None:
    ctx.state.done = remember(ctx.state.done, token, DONE_TOKENS)


def _assign(ctx: Node, keys: list[str], members: dict[str, Member], owner: str, by_event_id: str,
            token: str | None) -> None:
    """Tell each identifier (and the compacted topic) its new owner; ``by_event_id``: the announcement."""
    for key in keys:
        version = member_version(members[key])
        ctx.emit(Assigned(key, owner, version, by_event_id))
        ctx.send(key, Assign(owner, version, token))


def _continue(ctx: Node, saga: Saga, token: str | None) -> None:
    if token is not None:
        _done(ctx, token)
    saga.step += 1
    ctx.emit(*advance(saga, ctx.policy))


def on_join(ctx: Node, message: Join) -> None:
    """New identifiers join this customer; where a per-customer limit is exceeded, the largest ranks give way."""
    if not _route(ctx, message, message.token):
        return
    saga, state = copy_saga(message.saga), ctx.state
    members = state.members
    added = [key for key in message.add if key not in members]
    culprit = message.culprit
    giving = give_way(ctx.policy, members, {key: rank_of(saga, key) for key in added}, _waived(saga))
    if not message.new and (two := conflict(ctx.policy, members, dict.fromkeys(added, 0), _waived(saga))):
        giving = {culprit: two}  # two national IDs (a limit of one): two people, the linking identifier gives way
    decision, score = Decision.MERGE, None
    if culprit not in giving and not message.new and added:
        # The event's new identifiers (and its traits) meet an existing customer through ``culprit``.
        decision, score = judge(ctx, saga.traits, state.traits, [*added, culprit], members)
    linking = _linking(saga) if message.new and culprit not in giving else []
    housemate = None
    if linking and not consistent_traits(ctx, saga.traits):
        # The event reached this customer through an owned identifier planned before its new ones, unweighed
        # (saga.advance): a housemate's personal e-mail must not join the owner of the family e-mail.
        housemate = judge(ctx, saga.traits, state.traits, linking, [*members, *linking])
    if housemate is not None and housemate[0] is not Decision.MERGE:
        # Not this person, or not surely (the rule of a merge): the event leaves this customer with its new
        # identifier (the linking ones stay), as when the new one was planned first and met it through them.
        kept_apart(ctx, *housemate, lineage(saga), linking[0], pending_customer_id(saga), ctx.key,
                   (culprit, ctx.policy.plan_order(members)[0]))
        if housemate[0] is Decision.REFUSE:
            for key in linking:
                if key in members:
                    _contested(saga, key)
        saga.current, saga.pending = None, [culprit]
    elif culprit in giving and message.new:  # the new identifier ranks last: dropped; the event stays here
        ctx.emit(Refused(culprit, giving[culprit], lineage(saga, MAX_PER_CUSTOMER), customer_id=ctx.key))
        ctx.send(culprit, Release(saga.event_id))
        saga.current = ctx.key
    elif culprit in giving:  # this customer's identifier gives way: the event keeps its new ones apart
        pending = pending_customer_id(saga)
        ctx.emit(Refused(culprit, giving[culprit], lineage(saga, MAX_PER_CUSTOMER),
                         customer_id=pending, other_customer_id=ctx.key))
        # Two people (not an alias's phantom): the event's side may claim the culprit (claim_node.py).
        if contests(ctx, judge(ctx, saga.traits, state.traits, [*added, culprit], members)[0], saga):
            _contested(saga, culprit)
    elif decision is not Decision.MERGE and score is not None:
        # The pair a review's accept links: this customer's highest-priority member, not the linking
        # identifier, which may move to another customer later (claim_node.py).
        kept_apart(ctx, decision, score, lineage(saga), culprit, pending_customer_id(saga), ctx.key,
                   (ctx.policy.plan_order(added)[0], ctx.policy.plan_order(members)[0] if members else culprit))
        if contests(ctx, decision, saga):
            _contested(saga, culprit)
    else:  # they join; over a limit, the new ones that rank last are refused, the members that do are evicted
        for key in added:
            if key in giving:
                ctx.emit(Refused(key, giving[key], lineage(saga, MAX_PER_CUSTOMER), customer_id=ctx.key))
                ctx.send(key, Release(saga.event_id))
            else:
                _admit(ctx, key, version_of(saga, key), rank_of(saga, key), lineage(saga), saga.event_id)
        for key in sorted(giving.keys() & members.keys()):
            ctx.send(*evict(state, ctx.key, key, saga.event_id, saga.channel, giving[key]))
        if consistent_traits(ctx, saga.traits):  # as ``apply`` will, now: the next event is weighed against them
            absorb_traits(ctx, saga.traits)
        saga.current, saga.pending = ctx.key, []
    _continue(ctx, saga, message.token)


def _admit(ctx: Node, key: str, version: int, rank: int, link_lineage: Lineage, token: str | None) -> None:
    """``key`` becomes a member (its rank kept if its type is limited); announce and tell its node."""
    members = ctx.state.members
    members[key] = member(version, rank if ctx.policy.limit(kind_of(key)) is not None else 0)
    linked = Linked(ctx.key, key, link_lineage)
    ctx.emit(linked)
    _assign(ctx, [key], members, ctx.key, linked.event_id, token)


def on_link(ctx: Node, message: Link) -> None:
    """Two customers are one person: find both roots; the larger id offers itself to the smaller."""
    if not _route(ctx, message, message.token):
        return
    other = message.other
    if other == ctx.key:
        saga = copy_saga(message.saga)
        saga.current = ctx.key
        _continue(ctx, saga, message.token)
    elif ctx.key < other:
        ctx.send(other, msgspec.structs.replace(message, other=ctx.key, swapped=not message.swapped))
    else:
        state = ctx.state
        state.lock = message.token
        profile = ctx.store.get_profile(ctx.key)
        ctx.send(other, Offer(
            ctx.key, state.members, encode_profile(profile) if profile else None, state.do_not_merge,
            state.aliases, state.traits, message.token, message.swapped, message.culprit, message.saga,
            shared=state.shared, rejected=state.rejected,
        ))


def on_offer(ctx: Node, message: Offer) -> None:
    """The locked customer ``loser`` offers to merge into this one; decide with both member lists at hand."""
    if recalls(ctx.state.done, message.token):
        # Decided before: this copy comes from a duplicated step. Answer it, so whichever node sent it
        # (the original loser, or the node a late duplicate was forwarded to) does not stay locked.
        ctx.send(message.loser, OfferResult(message.token, False))
        return
    if not _route(ctx, message, message.token):
        return
    saga, state, loser = copy_saga(message.saga), ctx.state, message.loser
    members = state.members
    loser_aliases, own_aliases = {loser, *message.aliases}, {ctx.key, *state.aliases}
    current, other = (loser, ctx.key) if message.swapped else (ctx.key, loser)
    # Over a limit, the identifiers of both sides that rank last give way (evicted from the merged customer);
    # only when the linking identifier itself gives way is the merge refused.
    giving = give_way(ctx.policy, members, {key: member_rank(value) for key, value in message.members.items()},
                      _waived(saga))
    culprit = message.culprit
    # Two national IDs (a limit of one) are two people: the merge is refused; so it is when the linking
    # identifier itself ranks beyond a limit.
    two = conflict(ctx.policy, members, message.members, _waived(saga))
    limit_reason = two or (giving.get(culprit) if culprit is not None else None)
    decision, score = Decision.MERGE, None
    rule: str | None = None  # set, with its reason, when a rule refuses the merge outright
    reason = ""
    if loser_aliases & set(state.do_not_merge) or own_aliases & set(message.do_not_merge):
        rule, reason = SPLIT_DO_NOT_MERGE, "an operator split these customers apart (or rejected their merge)"
    elif limit_reason is not None:
        rule, reason = MAX_PER_CUSTOMER, limit_reason
    elif saga.reject:
        rule, reason = REVIEW_REJECTED, "an operator rejected this merge"
    elif not saga.force:  # an operator's accept skips the weight
        decision, score = weigh_offer(ctx, message, saga)
    if rule == REVIEW_REJECTED:  # never merge these two again, on either side
        state.do_not_merge = sorted({*state.do_not_merge, *loser_aliases})
        state.rejected = sorted({*state.rejected, *loser_aliases})
        ctx.send(loser, OfferResult(message.token, False, do_not_merge=sorted(own_aliases)))
        saga.current = current
    elif rule is not None:
        if culprit is not None:
            ctx.emit(Refused(culprit, reason, lineage(saga, rule), customer_id=current, other_customer_id=other))
            if (rule == MAX_PER_CUSTOMER and two) or (
                    rule == SPLIT_DO_NOT_MERGE and only_rejected(loser_aliases, state, own_aliases, message)
                    and contests(ctx, weigh_offer(ctx, message, saga)[0], saga, rejected=True)):
                # Kept apart by a rejected review only: the event's side claims as it would have before the
                # decision (claim_node.py); a split's placement stands.
                _contested(saga, culprit)
        ctx.send(loser, OfferResult(message.token, False))
        saga.current = _belongs(ctx, saga, message, current, other)
    elif decision is not Decision.MERGE and score is not None:
        kept_apart(ctx, decision, score, lineage(saga), culprit, current, other,
                   (ctx.policy.plan_order(message.members)[0], ctx.policy.plan_order(members)[0]))
        if culprit is not None and contests(ctx, decision, saga):
            _contested(saga, culprit)
        ctx.send(loser, OfferResult(message.token, False))
        saga.current = _belongs(ctx, saga, message, current, other)
    else:
        moved = sorted(key for key in message.members if key not in giving)
        for key in moved:
            members[key] = reassigned(message.members[key])  # the rank moves along
        for key in sorted(giving):  # the loser's are evicted on behalf of the survivor, which absorbs it
            if key in members:
                ctx.send(*evict(state, ctx.key, key, saga.event_id, saga.channel, giving[key]))
            else:
                ctx.send(*eviction(ctx.key, key, message.members[key], saga.event_id, saga.channel, giving[key]))
        state.do_not_merge = sorted({*state.do_not_merge, *message.do_not_merge})
        state.rejected = sorted({*state.rejected, *message.rejected})
        state.aliases = sorted({*state.aliases, *loser_aliases})
        if message.shared:
            state.shared = sorted({*state.shared, *message.shared})
        if message.profile:
            ctx.store.put_profile(ctx.key, ctx.graph.book.merge(ctx.store.get_profile(ctx.key),
                                                                decode_profile(message.profile)))
        if message.traits:
            for key in block_keys(message.traits):  # the loser's blocking entries go, the survivor's stay
                ctx.send(key, Unblock(loser))
        absorb_traits(ctx, message.traits)
        merged = Merged(ctx.key, loser, tuple(moved), lineage(saga))
        ctx.emit(merged)
        _assign(ctx, moved, members, ctx.key, merged.event_id, None)
        ctx.send(loser, OfferResult(message.token, True, ctx.key))
        saga.current = ctx.key
    _continue(ctx, saga, message.token)


def _belongs(ctx: Node, saga: Saga, message: Offer, current: str, other: str) -> str:
    """Where an event whose two customers stay apart goes: to the side it reached first (``current``), unless
    its traits do not fit there and do fit the other side. Which side it reached first depends on who owned
    its identifiers then (a family e-mail's owner); whose traits it carries does not: a person's record that
    came through the housemate's family e-mail still feeds its own person's summary (issue #8 build 5)."""
    if not saga.traits or saga.proposal:
        return current
    own, loser = ctx.state.traits, message.traits
    current_traits, other_traits = (loser, own) if message.swapped else (own, loser)
    if not fits(ctx, saga.traits, current_traits) and fits(ctx, saga.traits, other_traits):
        return other
    return current


def _contested(saga: Saga, culprit: str) -> None:
    """The event's side and the culprit's owner are two people (the matcher's refusal, two national IDs):
    if the event ranks first on the culprit, its customer claims it when the event is applied (claim_node.py)."""
    if culprit not in saga.contested:
        saga.contested.append(culprit)


def _linking(saga: Saga) -> list[str]:
    """The event's identifiers already planned that brought it to this customer (owned when it visited them;
    one may have moved to another customer since, by a claim: the event was brought here all the same)."""
    return [key for key in saga.plan[:saga.step] if saga.seen.get(key) not in (NEW, SHARED, UNKNOWN)]


def _waived(saga: Saga) -> tuple[str, ...]:
    """An alias links an earlier user id to the new one: the one-USER_ID limit does not apply to it."""
    return ("USER_ID",) if saga.lookup_only else ()


def on_offer_result(ctx: Node, message: OfferResult) -> None:
    state = ctx.state
    if state.lock != message.token:
        return  # a duplicate answer
    state.lock = None
    _done(ctx, message.token)
    if message.ok:
        state.parent = message.survivor
        state.members, state.do_not_merge, state.aliases, state.traits, state.shared = {}, [], [], None, []
        state.rejected = []
        ctx.store.put_profile(ctx.key, None)
    elif message.do_not_merge:  # only a rejected review answers with it (on_offer)
        state.do_not_merge = sorted({*state.do_not_merge, *message.do_not_merge})
        state.rejected = sorted({*state.rejected, *message.do_not_merge})
    ctx.release_queue()


def on_create(ctx: Node, message: Create) -> None:
    """A new customer for identifiers nobody owned, reserved by the saga of ``message``."""
    if ctx.state.created:
        return  # created already: a duplicate
    saga, state = copy_saga(message.saga), ctx.state
    state.created, state.born = True, saga.occurred_micros
    state.members = {
        key: member(version_of(saga, key), rank_of(saga, key) if ctx.policy.limit(kind_of(key)) is not None else 0)
        for key in message.add}
    # The event's traits are this person's from the start, not only once its ``apply`` arrives: an event
    # that meets this customer meanwhile is weighed against them (issue #8 build 5).
    absorb_traits(ctx, saga.traits)
    created = Created(ctx.key, tuple(message.add), lineage(saga))
    ctx.emit(created)
    _assign(ctx, message.add, state.members, ctx.key, created.event_id, saga.event_id)
    saga.current, saga.pending = ctx.key, []
    ctx.send(ctx.key, apply_message(saga))
    ctx.release_queue()


def on_apply(ctx: Node, message: Apply) -> None:
    """The event belongs to this customer: update the profile sections it feeds."""
    if not _route(ctx, message):
        return  # no duplicate guard: sections are idempotent, and a re-published contact keeps its event id
    mine = consistent_traits(ctx, message.traits)
    if mine:  # a household member on the family phone: not this person
        absorb_traits(ctx, message.traits)
    ref = message.event
    if ref is not None and ctx.graph.book.reads(ref.schema):  # decoded only where a section reads it
        event = ctx.graph.load_event(ref)
        ctx.store.put_profile(ctx.key, ctx.graph.book.apply(ctx.store.get_profile(ctx.key), event))
    ctx.emit(Resolved(ctx.key, ref, message.event_id, message.started_at))
    # The event ranks first on these: they belong here (claim_node.py). Not if its traits contradict this
    # customer: it reached it unweighed through a household identifier planned first, and a housemate's
    # claim would take her own e-mail to this customer in the orders where she was refused through it.
    for key in message.claims if mine else ():
        if key not in ctx.state.members and claimable(ctx.policy, key):
            ctx.send(key, Claim(ctx.key, message.rank, message.event_id, message.channel))


def on_split(ctx: Node, message: SplitCustomer) -> None:
    """An operator's unmerge: move some identifiers to a new customer, and never merge the two again."""
    if not _route(ctx, message, message.token):
        return
    state = ctx.state
    members = state.members
    moving = sorted(key for key in set(message.ids) if key in members)
    _done(ctx, message.token)
    rule_lineage = Lineage(message.token, message.channel, MANUAL_SPLIT)
    if not moving or len(moving) == len(members):
        ctx.emit(Refused(message.ids[0], "a split must move some, but not all, identifiers of the customer",
                         rule_lineage, customer_id=ctx.key))
        return
    new_id = customer_id(message.at, message.token)
    versions = {key: reassigned(members.pop(key)) for key in moving}
    state.do_not_merge = sorted({*state.do_not_merge, new_id})
    split = Split(ctx.key, new_id, tuple(moving), message.reason, rule_lineage)
    ctx.emit(split)
    _assign(ctx, moving, versions, new_id, split.event_id, None)
    ctx.send(new_id, SplitInit(versions, [ctx.key], message.at, shared=sorted(set(state.shared) & set(moving))))


def on_split_init(ctx: Node, message: SplitInit) -> None:
    if ctx.state.created:
        return
    state = ctx.state
    state.created, state.born = True, message.at
    state.members, state.do_not_merge = dict(message.members), list(message.do_not_merge)
    state.shared = list(message.shared)
    ctx.release_queue()
