"""Two customers are one person (``link``): the larger id, locked, offers itself to the smaller (``offer``),
which weighs the two sides with both member lists at hand and merges, refuses or asks for a review
(``offer_result`` unlocks the loser). Waits only ever point to smaller ids, so they end.

This module decides; the outcomes live beside it: ``merge_absorb.py`` (a merge: the survivor takes the loser in),
``merge_refusal.py`` (a rule refuses the merge outright), ``apart_side.py`` (where the event goes when the two stay
apart) and ``claim_again.py`` (a dissolving merge refused under ``earliest-claim`` claims again).
"""

from __future__ import annotations

import msgspec

from processors.identity.graph import (
    carried_pair,
    displace,
    fits_two,
    holder_review,
    holders,
    household_call,
    logins,
    split_contacts,
    weaker_login,
    weigh_again,
)
from processors.identity.graph.apart_side import belongs, own_side
from processors.identity.graph.claim_again import claim_again
from processors.identity.graph.contest import claims_on, weigh_offer
from processors.identity.graph.context import recalls
from processors.identity.graph.customer_steps import (
    Node,
    contested,
    dissolving,
    done,
    face,
    noted,
    proceed,
    route,
    waived,
)
from processors.identity.graph.event_side import EventSide, event_only
from processors.identity.graph.event_side import weigh as weigh_event_side
from processors.identity.graph.evidence import kept_apart
from processors.identity.graph.household_call import HOUSEHOLD_TOKEN
from processors.identity.graph.limits import conflict, deciding_rank, give_way, member_rank
from processors.identity.graph.merge_absorb import absorb
from processors.identity.graph.merge_refusal import refuse
from processors.identity.graph.messages.base import Member, Saga
from processors.identity.graph.messages.steps import Link, Offer, OfferResult
from processors.identity.graph.profile_codec import encode_profile
from processors.identity.graph.saga import HOUSEMATE_TOKEN, OWNER_TOKEN, copy_saga, lineage
from processors.identity.matching.weights import Decision
from processors.identity.rules import (
    EARLIEST_CLAIM,
    MANUAL_MERGE,
    MAX_PER_CUSTOMER,
    REVIEW_REJECTED,
    SPLIT_DO_NOT_MERGE,
)


def on_link(ctx: Node, message: Link) -> None:
    """Two customers are one person: find both roots; the larger id offers itself to the smaller."""
    if not route(ctx, message, message.token):
        return
    other = message.other
    if other == ctx.key:
        saga = copy_saga(message.saga)
        saga.current = ctx.key
        proceed(ctx, saga, message.token)
    elif ctx.key < other:
        ctx.send(other, msgspec.structs.replace(message, other=ctx.key, swapped=not message.swapped))
    else:
        state = ctx.state
        state.lock = message.token
        profile = ctx.store.get_profile(ctx.key)
        ctx.send(other, Offer(
            ctx.key, state.members, encode_profile(profile) if profile else None, state.do_not_merge,
            state.aliases, state.traits, message.token, message.swapped, message.culprit, message.saga,
            shared=state.shared, rejected=state.rejected, contacts=split_contacts.encoded(split_contacts.kept(ctx)),
            split_off=state.split_off, refusals=state.refusals, elsewhere=state.elsewhere, made_for=state.made_for,
            elsewhere_with=state.elsewhere_with, ranks_applied=state.ranks_applied, logins=state.logins,
            households=state.households, came_with=state.came_with, review_owed=state.review_owed,
            unweighed=state.unweighed, joined=state.joined, carried_at=state.carried_at,
            merged_in=state.merged_in,
        ))


def on_offer(ctx: Node, message: Offer) -> None:
    """The locked customer ``loser`` offers to merge into this one; decide with both member lists at hand."""
    if message.loser in ctx.state.aliases:
        _merged_before(ctx, message)
        return
    if recalls(ctx.state.done, message.token) or message.decided:
        # Decided before: this copy comes from a duplicated step. Answer it, so whichever node sent it
        # (the original loser, or the node a late duplicate was forwarded to) does not stay locked. A node
        # merged on since gave its aliases to its survivor: the root answers, a merge if the loser is in its
        # tree (above), else the refusal it was (a loser a replay locked again must not be told "refused"
        # after a merge: it would be a customer again beside the one holding its identifiers).
        if ctx.state.parent:
            ctx.send(ctx.state.parent, msgspec.structs.replace(message, decided=True))
        else:
            ctx.send(message.loser, OfferResult(message.token, False))
        return
    if not route(ctx, message, message.token):
        return
    if message.loser in ctx.state.aliases:  # at the root the copy was forwarded to
        _merged_before(ctx, message)
        return
    saga, state, loser = copy_saga(message.saga), ctx.state, message.loser
    members = state.members
    loser_aliases, own_aliases = {loser, *message.aliases}, {ctx.key, *state.aliases}
    current, other = (loser, ctx.key) if message.swapped else (ctx.key, loser)
    leaving_members: dict[str, Member] = {}
    if (not dissolving(saga) and not message.token.startswith(HOUSEMATE_TOKEN) and not saga.force and not saga.reject
            and not (loser_aliases & set(state.do_not_merge) or own_aliases & set(message.do_not_merge))
            and conflict(ctx.policy, members, message.members, waived(saga))):
        message, leaving_members = _two_user_ids(ctx, saga, message)
    # Over a limit, the identifiers of both sides that rank last give way (evicted from the merged customer);
    # only when the linking identifier itself gives way is the merge refused.
    giving = give_way(ctx.policy, members, {key: member_rank(value) for key, value in message.members.items()},
                      waived(saga))
    culprit = message.culprit
    # Two national IDs (a limit of one) are two people: the merge is refused; so it is when the linking
    # identifier itself ranks beyond a limit.
    two = conflict(ctx.policy, members, message.members, waived(saga))
    limit_reason = two or (giving.get(culprit) if culprit is not None else None)
    decision, score = Decision.MERGE, None
    event_side: EventSide | None = None  # the offering side holds only the event's: weighed as its join (event_side.py)
    rule: str | None = None  # set, with its reason, when a rule refuses the merge outright
    reason = ""
    giver_members = message.members if current == loser else members
    # Two customers an identifier proposed (seek.propose_housemates): weighed when the second was kept apart from the
    # first's side through it. One holding no identifier (a call's own) is decided here like any pair; two holding
    # identifiers merge only when the matcher merges them, else stay apart unannounced (holders.py).
    holders_pair = message.token.startswith(HOUSEMATE_TOKEN) and bool(message.members) and bool(members)
    # A contact's own customer and the household member its caller named (household_call.py): that person's, no
    # weight; any other pair it proposed stays apart unannounced (blocking weighs it as before).
    named = message.token.startswith(HOUSEHOLD_TOKEN) and household_call.attributes(message, state)
    housemates = (holders_pair and not holders.merge(ctx, message, saga, limit_reason)) or (
        message.token.startswith(HOUSEHOLD_TOKEN) and not named) or (
        message.token.startswith(OWNER_TOKEN) and not holders_pair)  # a new owner's pair: holders.py's alone
    if housemates:
        pass
    elif dissolving(saga) and set(giver_members) - set(saga.lookup_only):
        rule = EARLIEST_CLAIM  # the giver holds more than the claimed identifier by now: a customer of its own
    elif not overrides(saga) and (loser_aliases & set(state.do_not_merge) or own_aliases & set(message.do_not_merge)):
        rule, reason = SPLIT_DO_NOT_MERGE, "an operator split these customers apart (or rejected their merge)"
    elif limit_reason is not None:
        rule, reason = MAX_PER_CUSTOMER, limit_reason
    elif saga.reject:
        rule, reason = REVIEW_REJECTED, "an operator rejected this merge"
    elif holders_pair and holders.browsers(ctx, message, state):
        pass  # two browsers of one e-mail: time order joined them unweighed (holders.browsers)
    elif not saga.force and not named:  # an operator's accept skips the weight, and so does a named call
        event_side = event_only(ctx, message, saga)
        households = holders.household(message, state) if holders_pair else ()
        decision, score = weigh_offer(ctx, message, saga, households) if event_side is None else \
            weigh_event_side(ctx, event_side, saga, [*message.households, *households])
    fitting = score is not None and fits_two.capped(saga, culprit, decision)  # a login that fits two: a review
    if fitting:
        decision = Decision.REVIEW
    apart = housemates or rule is not None or (decision is not Decision.MERGE and score is not None)
    # A merge that stands on the e-mail's login level alone: its login leaves if the mailbox shows two (logins.py).
    seen = [culprit] if culprit is not None else []
    if apart or score is None:
        login_keys = []
    elif event_side is not None:
        login_keys = logins.stood_on(score, event_side.ids, list(members),
                                     lambda also: weigh_event_side(ctx, event_side, saga, also)[0])
    else:
        login_keys = logins.stood_on(score, [*message.members, *seen], [*members, *seen],
                                     lambda also: weigh_offer(ctx, message, saga, also)[0])
    own_members = list(members)
    if rule == REVIEW_REJECTED:  # never merge these two again, on either side
        state.do_not_merge = sorted({*state.do_not_merge, *loser_aliases})
        state.rejected = sorted({*state.rejected, *loser_aliases})
        ctx.send(loser, OfferResult(message.token, False, do_not_merge=sorted(own_aliases)))
        saga.current = current
    elif housemates:  # apart, unannounced, unless one side is owed a review with a record's (holder_review.py)
        ctx.send(loser, OfferResult(message.token, False, reviewed=holder_review.owed(ctx, message, saga)))
        saga.current = current
    elif rule is not None:
        refuse(ctx, message, saga, rule, reason, two, current, other)
    elif decision is not Decision.MERGE and score is not None:
        kept_apart(ctx, decision, score, lineage(saga), culprit, current, other,
                   (face(ctx, message.members, culprit or loser), face(ctx, members, culprit or ctx.key)),
                   known=message.refusals)
        if fitting:  # neither claimed nor noted beside its keeper (fits_two.py)
            pass
        elif event_side is not None:  # kept apart as the event's join: it claims what that join claims
            if claims_on(ctx, decision, saga, event_side.other.traits):
                for key in event_side.linking:
                    contested(saga, key)
            else:
                noted(saga, event_side.linking[0])
        elif culprit is not None and claims_on(ctx, decision, saga, state.traits, message.traits):  # contest.py
            contested(saga, culprit)
        elif culprit is not None:  # under review, claiming nothing: the screen pops still name the two
            noted(saga, culprit)
        ctx.send(loser, OfferResult(message.token, False, reviewed=decision is Decision.REVIEW))  # holder_review.owed
        if event_side is not None:  # the event stays on the side that holds nothing but its own identifiers
            saga.current = loser if event_side.loser else ctx.key
        else:
            saga.current = belongs(ctx, saga, message, current, other)
    else:
        if message.token.startswith(OWNER_TOKEN):  # a new owner's pair: its kept events joined through the identifier
            message = holders.met_through(ctx, message, state)
        absorb(ctx, message, saga, current, giving=giving, score=score,
               ended=own_aliases | loser_aliases if overrides(saga) else set(), login_keys=login_keys,
               own_members=own_members, leaving_members=leaving_members)
        _alias_applied(ctx, saga, message)
        if saga.event_id.startswith(carried_pair.CARRIED_PREFIX):  # which side the pair linked in (carried_pair.py)
            carried_pair.linked_in(state, saga.lookup_only, own_members, message.members, message.came_with)
        elif not saga.proposal:  # the two sides met through the event's identifiers (carried_pair.merged_in)
            carried_pair.merged_in(ctx.policy, state, saga.ids, own_members, message.members)
        weigh_again.aliased(ctx, saga)  # an alias's late link settles the kept events it links again
        weigh_again.again(ctx)  # the two sides' members together may show that time order weighed an event
    if apart and (side := own_side(saga, ctx.key, state.made_for, loser, message.made_for)) is not None:
        saga.current = side  # kept apart: the event goes where its contact's first event went
    proceed(ctx, saga, message.token)
    if rule == EARLIEST_CLAIM:
        # The dissolve's ``current`` side is the giver (claim_node.on_give links from it): the claimant is ``other``.
        claim_again(ctx, saga, other, state.traits if other == ctx.key else message.traits)


def _two_user_ids(ctx: Node, saga: Saga, message: Offer) -> tuple[Offer, dict[str, Member]]:
    """Two user ids (a limit of one) meet in an offer: the survivor's gives way if the loser's ranks before it
    (displace.py, as at a join). Of two logins, the one the evidence agrees with keeps the customer (weaker_login.py)
    before the ranks. Gives the offer without the loser's members that give way, and those members (they leave
    after the merge: ``displace.loser_split_off``)."""
    state, members = ctx.state, ctx.state.members
    culprits = [message.culprit] if message.culprit is not None else []
    leaving_members: dict[str, Member] = {}
    if moving := weaker_login.at_offer(ctx, saga, message):
        displace.split_off(ctx, saga, moving)
    elif leaving := weaker_login.at_offer_loser(ctx, saga, message):
        leaving_members = {key: message.members[key] for key in leaving}
        message = msgspec.structs.replace(message, members={
            key: value for key, value in message.members.items() if key not in leaving})
    elif not weaker_login.holds(ctx, state.logins, members, message.traits, state.traits,
                                [*message.members, *culprits], saga) \
            and (moving := displace.at_offer(ctx, saga, message.members, message.culprit, message.traits)):
        displace.split_off(ctx, saga, moving)
    elif not weaker_login.holds(ctx, message.logins, message.members, state.traits, message.traits,
                                [*members, *culprits], saga) \
            and (leaving := displace.at_offer_loser(ctx, saga, message)):
        # The loser's gives way: merged without it and its rank-mates, which then leave (displace.py).
        leaving_members = {key: message.members[key] for key in leaving}
        message = msgspec.structs.replace(message, members={
            key: value for key, value in message.members.items() if key not in leaving})
    return message, leaving_members


def _alias_applied(ctx: Node, saga: Saga, message: Offer) -> None:
    """An alias's late link merged here (``saga.alias_saga``, ``limits.deciding_rank``): where the alias's event was
    applied at the loser (``Offer.ranks_applied``, the alias's user id's customer), its rank counts as applied here
    too (``displace.applied``): the members it ranks are final, and time order is read from them (``weigh_again``:
    ``{x0, e1}`` t0, ``alias x0 -> u-0`` t1, ``{x9, e1}`` t2 arriving alias first, ``x9``'s join was taken unweighed
    and never weighed against ``u-0``, bench draw 727)."""
    rank = deciding_rank(saga)
    if saga.proposal and rank is not None and recalls(message.ranks_applied, str(rank)):
        displace.applied(ctx, rank)


def overrides(saga: Saga) -> bool:
    """An operator's merge (``saga.merge_saga``): it merges two customers a split or a rejected review keeps apart
    (``CustomerState.do_not_merge``), as an accepted review merges two the weight keeps apart; a limit of one (two
    national IDs) still refuses it (tester F7: no command joined a split-off record to its customer again)."""
    return saga.force and saga.rule == MANUAL_MERGE


def _merged_before(ctx: Node, message: Offer) -> None:
    """A copy of an offer whose loser was merged into this customer's tree before (``aliases``: a customer id,
    once merged, never offers again, so only a replayed record sends this): a worker killed before its commit
    replays old graph records, and such a copy can come back after the survivor merged on and out of the
    dedupe window (``done``). It is answered with the decision it had, a merge into this root (so a loser a
    replay locked again takes its parent), and announced nothing: the merge was announced when it was made."""
    ctx.send(message.loser, OfferResult(message.token, True, ctx.key))


def on_offer_result(ctx: Node, message: OfferResult) -> None:
    state = ctx.state
    if state.lock != message.token:
        return  # a duplicate answer
    state.lock = None
    done(ctx, message.token)
    if message.ok:
        state.parent = message.survivor
        state.members, state.do_not_merge, state.aliases, state.traits, state.shared = {}, [], [], None, []
        state.rejected, state.split_off, state.refusals, state.logins, state.households = [], {}, b"", {}, []
        state.came_with, state.review_owed, state.unweighed, state.joined = b"", [], [], {}
        state.carried_at, state.merged_in = {}, b""
        split_contacts.keep(ctx, [])
        ctx.store.put_profile(ctx.key, None)
    elif message.do_not_merge:  # only a rejected review answers with it (on_offer)
        state.do_not_merge = sorted({*state.do_not_merge, *message.do_not_merge})
        state.rejected = sorted({*state.rejected, *message.do_not_merge})
    if message.reviewed:  # its owed review was asked at the survivor (holder_review.owed)
        state.review_owed = []
    ctx.release_queue()
