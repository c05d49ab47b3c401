"""Two customers are one person (``link``): the larger id, locked, offers itself to the smaller (``offer``),
which weighs the two sides with both member lists at hand and merges, refuses or asks for a review
(``offer_result`` unlocks the loser). Waits only ever point to smaller ids, so they end.
"""

from __future__ import annotations

import msgspec

from processors.identity.graph import (
    came_with,
    displace,
    elsewhere,
    fits_two,
    holder_review,
    holders,
    household_call,
    logins,
    moved_off,
    split_contacts,
    weaker_login,
)
from processors.identity.graph.contest import claims_on, contests, only_rejected, weigh_offer
from processors.identity.graph.context import node_digest, recalls
from processors.identity.graph.customer_steps import (
    Node,
    assign,
    contested,
    dissolving,
    done,
    face,
    noted,
    proceed,
    route,
    waived,
)
from processors.identity.graph.evidence import absorb_traits, fits, kept_apart
from processors.identity.graph.household_call import HOUSEHOLD_TOKEN
from processors.identity.graph.limits import conflict, conflict_kind, evict, eviction, give_way, member_rank, reassigned
from processors.identity.graph.messages.base import Member, Saga
from processors.identity.graph.messages.claims import Claim
from processors.identity.graph.messages.steps import Link, Offer, OfferResult, Unblock
from processors.identity.graph.outputs import Merged, Refused
from processors.identity.graph.profile_codec import decode_profile, encode_profile
from processors.identity.graph.refusals import announce
from processors.identity.graph.saga import HOUSEMATE_TOKEN, copy_saga, lineage
from processors.identity.matching.blocking import block_keys
from processors.identity.matching.mistyped import asked_despite
from processors.identity.matching.traits import Summary
from processors.identity.matching.weights import Decision, MatchScore
from processors.identity.rules import (
    EARLIEST_CLAIM,
    MANUAL_MERGE,
    MAX_PER_CUSTOMER,
    REVIEW_REJECTED,
    SPLIT_DO_NOT_MERGE,
    kind_of,
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
        # Two user ids: the survivor's gives way if the loser's ranks before it (displace.py, as at a join).
        # Of two logins, the one the evidence agrees with keeps the customer (weaker_login.py) before the ranks.
        culprits = [message.culprit] if message.culprit is not None else []
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
        message.token.startswith(HOUSEHOLD_TOKEN) and not named)
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
    elif not saga.force and not named:  # an operator's accept skips the weight, and so does a named call
        decision, score = weigh_offer(ctx, message, saga, holders.household(message, state) if holders_pair else ())
    fitting = score is not None and fits_two.capped(saga, culprit, decision)  # a login that fits two: a review
    if fitting:
        decision = Decision.REVIEW
    apart = housemates or rule is not None or (decision is not Decision.MERGE and score is not None)
    # A merge that stands on the e-mail's login level alone: its login leaves if the mailbox shows two (logins.py).
    seen = [culprit] if culprit is not None else []
    login_keys = [] if apart or score is None else logins.stood_on(
        score, [*message.members, *seen], [*members, *seen], lambda also: weigh_offer(ctx, message, saga, also)[0])
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
        later = None
        if culprit is not None:
            announce(ctx, Refused(culprit, reason, lineage(saga, rule), customer_id=current, other_customer_id=other),
                     known=message.refusals)
            if rule == MAX_PER_CUSTOMER and two and (later := displace.met_first(ctx, saga, message, current, other)):
                pass  # the other side came after the event: it goes there, as in time order (displace.py)
            elif rule == SPLIT_DO_NOT_MERGE and fits_two.marked(saga, culprit):
                pass  # a login that fits two (a rejected review): as before the decision, neither claims nor is noted
            elif (rule == MAX_PER_CUSTOMER and two) or (
                    rule == SPLIT_DO_NOT_MERGE and only_rejected(loser_aliases, state, own_aliases, message)
                    and contests(ctx, weigh_offer(ctx, message, saga)[0], saga, rejected=True)):
                # Kept apart by a rejected review only: the event's side claims as it would have before the
                # decision (claim_node.py); a split's placement stands.
                contested(saga, culprit)
            else:  # a split's or a limit's pair: claiming nothing, both screen pops name the two (tester10 #1)
                noted(saga, culprit)
        elif rule == MAX_PER_CUSTOMER and two:  # a blocking candidate: no identifier links them, name the conflict
            refusal, score = _conflicting_candidate(ctx, message, saga, two)
            if announce(ctx, refusal, known=message.refusals) and _asked(ctx, message, score):
                # One of the two may be mistyped (matching.mistyped): apart until an operator decides.
                kept_apart(ctx, Decision.REVIEW, score, lineage(saga), None, current, other,
                           (face(ctx, message.members, loser), face(ctx, members, ctx.key)))
        ctx.send(loser, OfferResult(message.token, False))
        saga.current = later or _belongs(ctx, saga, message, current, other)
    elif decision is not Decision.MERGE and score is not None:
        kept_apart(ctx, decision, score, lineage(saga), culprit, current, other,
                   (face(ctx, message.members, culprit or loser), face(ctx, members, culprit or ctx.key)),
                   known=message.refusals)
        if fitting:  # neither claimed nor noted beside its keeper (fits_two.py)
            pass
        elif culprit is not None and claims_on(ctx, decision, saga, state.traits, message.traits):  # contest.py
            contested(saga, culprit)
        elif culprit is not None:  # under review, claiming nothing: the screen pops still name the two
            noted(saga, culprit)
        ctx.send(loser, OfferResult(message.token, False, reviewed=decision is Decision.REVIEW))  # holder_review.owed
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
        # An operator's merge ends the pair's do-not-merge (a later split starts one again); any other keeps it.
        ended = own_aliases | loser_aliases if overrides(saga) else set()
        state.do_not_merge = sorted({*state.do_not_merge, *message.do_not_merge} - ended)
        state.rejected = sorted({*state.rejected, *message.rejected} - ended)
        state.aliases = sorted({*state.aliases, *loser_aliases})
        if message.shared:
            state.shared = sorted({*state.shared, *message.shared})
        if message.contacts:  # the loser's contacts, with the identifiers each carried (split_contacts.py)
            split_contacts.join(ctx, split_contacts.records(message.contacts,
                                                            split_contacts.kept_per_channel(ctx.graph.book)))
        if message.split_off:  # where what left it went: a stale apply to it follows from here (moved_off.py)
            moved_off.merge(state, message.split_off)
        elsewhere.merge(state, message.elsewhere, message.elsewhere_with)  # a later split reads whose they were
        logins.merge(state, message.logins, message.households)
        logins.note(state, login_keys, message.members, own_members)
        came_with.merge(state, message.came_with)
        state.review_owed = sorted({*state.review_owed, *message.review_owed})
        _merge_profiles(ctx, message, saga, current)
        if message.traits:
            for key in block_keys(message.traits):  # the loser's blocking entries go, the survivor's stay
                ctx.send(key, Unblock(loser))
        _absorb_loser(ctx, message, saga, current)
        weight = round(score.weight, 2) if score is not None else None
        merged = Merged(ctx.key, loser, tuple(moved), lineage(saga), weight, saga.operator, saga.reason)
        ctx.emit(merged)
        assign(ctx, moved, members, ctx.key, merged.event_id, None)
        ctx.send(loser, OfferResult(message.token, True, ctx.key))
        if leaving_members:
            displace.loser_split_off(ctx, saga, leaving_members)
        saga.current = ctx.key
    if apart and (own_side := _own_side(saga, ctx.key, state.made_for, loser, message.made_for)) is not None:
        saga.current = own_side  # kept apart: the event goes where its contact's first event went
    proceed(ctx, saga, message.token)
    if rule == EARLIEST_CLAIM:
        # The dissolve's ``current`` side is the giver (claim_node.on_give links from it): the claimant is ``other``.
        _claim_again(ctx, saga, other, state.traits if other == ctx.key else message.traits)


def overrides(saga: Saga) -> bool:
    """An operator's merge (``saga.merge_saga``): it merges two customers a split or a rejected review keeps apart
    (``CustomerState.do_not_merge``), as an accepted review merges two the weight keeps apart; a limit of one (two
    national IDs) still refuses it (tester F7: no command joined a split-off record to its customer again)."""
    return saga.force and saga.rule == MANUAL_MERGE


def _claim_again(ctx: Node, saga: Saga, claimant: str, traits: Summary | None) -> None:
    """The owner of a claimed identifier holds more than it by the time its merge into the claimant is decided (it
    merged with its person's other customer meanwhile): the claimant claims it again, after the release
    (``proceed``), and the owner gives it like any member (draw 2660: else it stayed with the later record's
    customer). The dissolve saga's ``event_id`` is the claim's token (``claim_node.claim_token``)."""
    key = saga.lookup_only[0]
    rank = saga.node_ranks.get(key)
    if rank is None:
        return  # a dissolve decided by an earlier version carries no rank
    ctx.send(key, Claim(claimant, rank, claimed_event(saga.event_id, key), saga.channel, claim_attempt(saga) + 1,
                        traits))


def claim_attempt(saga: Saga) -> int:
    """The attempt of the claim whose token (``claim_node.claim_token``) is the dissolve saga's ``event_id``."""
    return int(saga.event_id.rsplit("~", 2)[1])


def claimed_event(token: str, key: str) -> str:
    """The event id in claim token ``token`` (``claim_node.claim_token``) of identifier ``key``: ``claim~`` + event
    id + ``~`` + the key's ``node_digest`` (a token an earlier version made: the key itself) + attempt and version.
    An event id may hold ``~`` (an alias's late link, ``saga.alias_saga``), and so may a key: cut by their length."""
    head = token.rsplit("~", 2)[0].partition("~")[2]
    for part in (node_digest(key), key):
        if head.endswith("~" + part):
            return head[:-len(part) - 1]
    return head.rpartition("~")[0]


def _merge_profiles(ctx: Node, message: Offer, saga: Saga, current: str) -> None:
    """The loser's profile (``Offer.profile``) joins this survivor's. A customer dissolved into the claimant of its
    only identifier whose traits may not be the claimant's person (``_absorb_loser``'s rule) brings no name
    (``ProfileSection.personal``): tester12 S1, a housemate's IVR record that came first on the family phone put her
    name on the phone's keeper. Its contacts and products move all the same."""
    book, mine = ctx.graph.book, ctx.store.get_profile(ctx.key)
    theirs = decode_profile(message.profile) if message.profile else None
    if dissolving(saga) and not _giver_fits(ctx, message, current):
        if current == message.loser:
            theirs = book.impersonal(theirs)
        elif mine:
            ctx.store.put_profile(ctx.key, book.impersonal(mine) or None)
            mine = ctx.store.get_profile(ctx.key)
    if theirs:
        ctx.store.put_profile(ctx.key, book.merge(mine, theirs))


def _giver_fits(ctx: Node, message: Offer, current: str) -> bool:
    """Whether the traits of a dissolving merge's giver (``current``) may be the claimant's person."""
    state = ctx.state
    giver, claimant = (message.traits, state.traits) if current == message.loser else (state.traits, message.traits)
    return fits(ctx, giver, claimant)


def _absorb_loser(ctx: Node, message: Offer, saga: Saga, current: str) -> None:
    """Add the loser's traits to this survivor's summary. A customer dissolved into the claimant of its only
    identifier (``current``, ``claim_node.dissolve_saga``) brings its traits only if they may be the claimant's
    person: in the order where the claimant's event came first, a housemate's record that met it was left
    unresolved and fed no summary; its contacts (the profile) move all the same."""
    if not dissolving(saga):
        absorb_traits(ctx, message.traits)
        return
    state = ctx.state
    if _giver_fits(ctx, message, current):
        absorb_traits(ctx, message.traits)
    elif current == ctx.key:  # this survivor was the giver: its summary gives way to the claimant's
        for key in block_keys(state.traits or {}):
            ctx.send(key, Unblock(ctx.key))
        state.traits = None
        absorb_traits(ctx, message.traits)


def _merged_before(ctx: Node, message: Offer) -> None:
    """A copy of an offer whose loser was merged into this customer's tree before (``aliases``: a customer id,
    once merged, never offers again, so only a replayed record sends this): a worker killed before its commit
    replays old graph records, and such a copy can come back after the survivor merged on and out of the
    dedupe window (``done``). It is answered with the decision it had, a merge into this root (so a loser a
    replay locked again takes its parent), and announced nothing: the merge was announced when it was made."""
    ctx.send(message.loser, OfferResult(message.token, True, ctx.key))


def _conflicting_candidate(ctx: Node, message: Offer, saga: Saga, reason: str) -> tuple[Refused, MatchScore]:
    """The refusal of a merge proposed without a linking identifier (blocking) because the two sides hold two
    identifiers of a type limited to one (two user ids: two people), and the pair's score. It names the loser's
    identifier of that type (the one the survivor would have taken) and the matcher's weight, so the refusal is
    visible (a ``LinkRefused``) rather than a duplicate that silently stays apart."""
    kind = conflict_kind(ctx.policy, ctx.state.members, message.members, waived(saga))
    identifier = min(key for key in message.members if kind_of(key) == kind and key not in ctx.state.members)
    score = weigh_offer(ctx, message, saga)[1]
    return Refused(identifier, f"{saga.rule or 'merge candidate'}: {reason}: two people",
                   lineage(saga, MAX_PER_CUSTOMER), customer_id=ctx.key, other_customer_id=message.loser,
                   match_weight=round(score.weight, 2)), score


def _asked(ctx: Node, message: Offer, score: MatchScore) -> bool:
    """Whether a blocking candidate refused for two identifiers of a type limited to one also goes to review: the
    matcher reads one of them as possibly mistyped (``matching.mistyped``: a national ID two digits off that keeps
    its check character, tester21 F8). The refusal stands until an operator decides."""
    kind = conflict_kind(ctx.policy, ctx.state.members, message.members)
    return kind is not None and asked_despite(ctx.policy.matcher, score, kind)


def _own_side(saga: Saga, survivor: str, survivor_made_for: bytes, loser: str, loser_made_for: bytes) -> str | None:
    """The side another event of the saga's contact with the same identifiers made (``saga.contact_mark``), if one
    did: that event's pending identifiers were kept apart from the other side (a weight, a review, a limit) or got
    there after it, and it was applied to the customer it made. When the two stay apart (the ``offer`` weighs them
    otherwise than that event's ``join`` did: a merge takes the whole contact along), the contact's next events go
    there too, with the claims the decision gives them: one call, visit or message on one customer in every arrival
    order (tester22 F2: the son's new customer and his father's weighed 3.9 bits in the ``offer``, a review, and the
    visit's interaction and handoff went to the father while its transaction stayed on the son's customer)."""
    if not saga.contact or saga.proposal:
        return None
    return survivor if survivor_made_for == saga.contact else loser if loser_made_for == saga.contact else None


def _belongs(ctx: Node, saga: Saga, message: Offer, current: str, other: str) -> str:
    """Where an event whose two customers stay apart goes: to the side it reached first (``current``: the owner of
    its highest-priority linking identifier, ``saga.plan``), unless its traits do not fit there and do fit the other
    side. The rule for a contact carrying identifiers of two customers kept apart by any rule (split, rejected review,
    weight, limit; tester10 #1, ``README.md``); a split places a contact that came before it the same way
    (``split_contacts.leaving``). Which side it reached first depends on who owned
    its identifiers then (a family e-mail's owner); whose traits it carries does not: a person's record that
    came through the housemate's family e-mail still feeds its own person's summary (issue #8 build 5)."""
    if not saga.traits or saga.proposal:
        return current
    own, loser = ctx.state.traits, message.traits
    current_traits, other_traits = (loser, own) if message.swapped else (own, loser)
    if not fits(ctx, saga.traits, current_traits) and fits(ctx, saga.traits, other_traits):
        # Kept apart from ``current`` as another person: had it come first, its own customer would hold the
        # identifiers that brought it there; it claims those it ranks first on (claim_node.py), as after a refusal.
        current_members = message.members if message.swapped else ctx.state.members
        for key in saga.ids:
            if key in current_members and key not in saga.lookup_only:
                contested(saga, key)
        return other
    return current


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
        state.came_with, state.review_owed = b"", []
        split_contacts.keep(ctx, [])
        ctx.store.put_profile(ctx.key, None)
    elif message.do_not_merge:  # only a rejected review answers with it (on_offer)
        state.do_not_merge = sorted({*state.do_not_merge, *message.do_not_merge})
        state.rejected = sorted({*state.rejected, *message.do_not_merge})
    if message.reviewed:  # its owed review was asked at the survivor (holder_review.owed)
        state.review_owed = []
    ctx.release_queue()
