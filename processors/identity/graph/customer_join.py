"""A customer root takes an event's new identifiers (``join``): weighed against the customer where the event's
traits meet it, within the per-customer limits (``limits.give_way``); a housemate's identifier that reached
the owner of a family identifier unweighed leaves for its own customer (see ``protocol.md``).

**Whether a join is weighed does not depend on which event came first** (issue #8 point 4, the e-mail order residual).
An event plans its identifiers by priority (``LinkPolicy.plan_order``); pending new ones that then meet a customer
through an owned identifier are weighed (``new`` False). A new one planned *after* the owned identifier that brought the
event here (``new`` True) used to join unweighed, so two identifies sharing an e-mail, A = ``{anonymousId x1, email e}``
then B = ``{userId u, email e}``, were weighed in time order (B's user id is planned before the e-mail: +3.85 bits, no
person field agrees, review) and merged unweighed in the other. The rule now: a ``new`` join is weighed too when the
customer holds a member other than the linking identifiers that is planned before the first of them
(``weighed_the_other_way``): the event that brought that member, arriving second, would have been weighed through them;
not a member ranked after the event where the event met the customer, in time order, through a linking identifier an
applied earlier event brought (that member came later: bench draw 885). Weighed and not merged, the event leaves with
its new identifiers as a housemate's does. And when nothing but identifiers tells the two apart (no traits on either
side) a review keeps the linking identifier with the earliest event's customer, as a refusal does
(``contest.claims_on``: the event's side claims it if it ranks first): in time order the earliest event made the
customer that holds it; ``customer_merge.on_offer`` applies the same rule where the pair meets as two customers
(``test_customer_merge_order.py``). Two browsers of one e-mail (anonymous ids only, planned after the e-mail) are
weighed in neither order and still join. A join taken unweighed because the members planned before the linking
identifier were not here yet is kept and weighed again once an earlier-ranked event brings them (``weigh_again.py``).
Measured:
``tests/bench/identity_email_order.py`` and ``tests/bench/results/identity_email_order.md``;
``test_customer_join_order.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

from processors.identity.graph import (
    came_with,
    carried_undo,
    displace,
    fits_two,
    holder_review,
    joined,
    late_join,
    logins,
    moved_off,
    weaker_login,
    weigh_again,
)
from processors.identity.graph.contest import claims_on, contests, held_whole
from processors.identity.graph.context import recalls
from processors.identity.graph.customer_steps import Node, admit, contested, face, noted, proceed, route, waived
from processors.identity.graph.evidence import absorb_traits, consistent_traits, judge, kept_apart
from processors.identity.graph.limits import conflict, evict, give_way, member_rank, rank_of, saga_rank, version_of
from processors.identity.graph.messages.base import Member, Saga
from processors.identity.graph.messages.steps import Join, Release
from processors.identity.graph.outputs import Refused
from processors.identity.graph.refusals import announce
from processors.identity.graph.saga import NEW, SHARED, UNKNOWN, copy_saga, held_for, lineage, pending_customer_id
from processors.identity.graph.state import CustomerState
from processors.identity.matching.weights import Decision, MatchScore
from processors.identity.rules import MAX_PER_CUSTOMER, LinkPolicy


def on_join(ctx: Node, message: Join) -> None:
    """New identifiers join this customer; where a per-customer limit is exceeded, the largest ranks give way."""
    if not route(ctx, message, message.token):
        return
    if to := moved_off.join_follows(ctx, message):  # its linking anonymous id left by a claim since the visit
        ctx.send(to, message)
        return
    saga, state = copy_saga(message.saga), ctx.state
    carried_undo.joined_before(ctx, saga, [message.culprit, *_linking(saga)])  # a pair proposal its event met later
    members = state.members

    def held(keys: list[str]) -> list[str]:
        """Those of ``keys`` the event carried for this customer, which held them then (``saga.held_then``): they weigh
        as they did then, as its members."""
        return [key for key in keys if key not in members and held_for(saga, key)]

    added = [key for key in message.add if key not in members]
    culprit = message.culprit
    if not message.new and conflict(ctx.policy, members, dict.fromkeys(added, 0), waived(saga)):
        # Two user ids: the resident gives way if it ranks after the event's and the state shows time order's
        # outcome (displace.py); else the limit refuses below, as before.
        # Of two logins, the one the evidence agrees with keeps the customer (weaker_login.py) before the ranks.
        if moving := weaker_login.at_join(ctx, saga, added, culprit, _linking(saga)):
            displace.split_off(ctx, saga, moving)
        elif not weaker_login.holds(ctx, state.logins, members, saga.traits, state.traits, [*added, culprit], saga) \
                and (moving := displace.at_join(ctx, saga, added, culprit, _linking(saga))):
            displace.split_off(ctx, saga, moving)
    giving = give_way(ctx.policy, members, {key: rank_of(ctx.policy, saga, key) for key in added}, waived(saga))
    two = None if message.new else conflict(ctx.policy, members, dict.fromkeys(added, 0), waived(saga))
    if two:
        giving = {culprit: two}  # two national IDs (a limit of one): two people, the linking identifier gives way
    decision, score = Decision.MERGE, None
    if culprit not in giving and not message.new and added:
        # The event's new identifiers (and its traits) meet an existing customer through ``culprit``.
        decision, score = judge(ctx, saga.traits, state.traits, [*added, culprit], [*members, *held([culprit])], saga)
        if decision is Decision.REVIEW and held_whole(ctx, saga, members, state.traits):
            decision = Decision.MERGE  # what the order with the event first gives (contest.held_whole)
    fitting = fits_two.capped(saga, culprit, decision)  # a login that fits two people's records: a review
    if fitting:
        decision = Decision.REVIEW
    linking = _linking(saga) if message.new and culprit not in giving else []
    housemate, persons = None, False
    if linking and not consistent_traits(ctx, saga.traits):
        # The event reached this customer through an owned identifier planned before its new ones, unweighed
        # (saga.advance): a housemate's personal e-mail must not join the owner of the family e-mail.
        housemate = judge(ctx, saga.traits, state.traits, linking, [*members, *linking], saga)
    elif linking and weighed_the_other_way(ctx.policy, state, saga, members, linking):
        # In the order where this customer's event came second, its identifier planned before the linking one would
        # have met this event's side through it as a pending one, weighed (``message.new`` False, below): weighed
        # here too, so the order of arrival does not decide whether the pair is weighed (module docstring).
        housemate, persons = judge(ctx, saga.traits, state.traits, [*added, *linking], [*members, *held(linking)],
                                   saga), True
    if housemate is not None and housemate[0] is not Decision.MERGE:
        # Not this person, or not surely (the rule of a merge): the event leaves this customer with its new
        # identifier (the linking ones stay), as when the new one was planned first and met it through them.
        kept_apart(ctx, *housemate, lineage(saga), linking[0], pending_customer_id(saga), ctx.key,
                   (culprit, face(ctx, members, linking[0])))
        if housemate[0] is Decision.REFUSE or (persons and claims_on(ctx, housemate[0], saga, state.traits)):
            for key in linking:
                if key in members:
                    contested(saga, key)
        if persons and housemate[0] is Decision.REVIEW:  # time order may have met nobody planned before it
            late_join.note(ctx, saga, linking[0], added)
        saga.current, saga.pending = None, [culprit]
    elif culprit in giving and message.new:  # the new identifier ranks last: dropped; the event stays here
        announce(ctx, Refused(culprit, giving[culprit], lineage(saga, MAX_PER_CUSTOMER), customer_id=ctx.key))
        ctx.send(culprit, Release(saga.event_id))
        saga.current = ctx.key
    elif culprit in giving:  # this customer's identifier gives way: the event keeps its new ones apart
        pending = pending_customer_id(saga)
        announce(ctx, Refused(culprit, giving[culprit], lineage(saga, MAX_PER_CUSTOMER),
                              customer_id=pending, other_customer_id=ctx.key))
        # Two people (not an alias's phantom): the event's side may claim the culprit (claim_node.py). Two user
        # ids (a limit of one) are two people whatever the traits weigh ("Anne" / "Annie Leroy" merge), as in
        # ``customer_merge.on_offer``: else the identifier stays with whichever event arrived first.
        weighed = judge(ctx, saga.traits, state.traits, [*added, culprit], members, saga)
        if two:  # a nameless login refused beside another login: the review time order asks for (holder_review.py)
            if not holder_review.at_login_limit(ctx, saga, added, culprit, pending):
                holder_review.owe(ctx, saga, culprit)  # no record here: owed at a holders' pair with one
        if two or contests(ctx, weighed[0], saga):
            contested(saga, culprit)
    elif decision is not Decision.MERGE and score is not None:
        # The pair a review's accept links: this customer's highest-priority member, not the linking
        # identifier, which may move to another customer later (claim_node.py).
        kept_apart(ctx, decision, score, lineage(saga), culprit, pending_customer_id(saga), ctx.key,
                   (ctx.policy.plan_order(added)[0], face(ctx, members, culprit)))
        if fitting:  # neither claimed nor noted beside its keeper: holders.py would merge it with the other record
            pass
        elif claims_on(ctx, decision, saga, state.traits):  # refused, or reviewed (contest.py; nothing told)
            contested(saga, culprit)
        else:  # under review, claiming nothing: the screen pops still name the two (customer_steps.noted)
            noted(saga, culprit)
    else:  # they join; over a limit, the new ones that rank last are refused, the members that do are evicted
        if score is not None:
            _note_login(ctx, saga, score, [*added, culprit], list(members))
        elif housemate is not None and persons:
            _note_login(ctx, saga, housemate[1], [*added, *linking], list(members))
        for key in added:
            if key in giving:
                announce(ctx, Refused(key, giving[key], lineage(saga, MAX_PER_CUSTOMER), customer_id=ctx.key))
                ctx.send(key, Release(saga.event_id))
            else:
                admit(ctx, key, version_of(saga, key), rank_of(ctx.policy, saga, key), lineage(saga), saga.event_id)
        came_with.note(ctx.policy, state, saga, [key for key in added if key not in giving])  # (displace.py)
        joined.came(ctx.policy, state, [key for key in added if key not in giving],
                    [key for key in (_linking(saga) or [culprit]) if key in members and key not in added],
                    saga.ids, saga_rank(saga))
        weigh_again.joined(ctx, saga_rank(saga), [key for key in added if key not in giving])
        if linking and (housemate is None or weigh_again.met_late(saga, linking)):
            # taken unweighed, or weighed through what a later event brought: decided again as time order weighed it
            weigh_again.note(ctx, saga, [*added, *linking], linking)
        for key in sorted(giving.keys() & members.keys()):
            ctx.send(*evict(state, ctx.key, key, saga.event_id, saga.channel, giving[key]))
        if consistent_traits(ctx, saga.traits):  # as ``apply`` will, now: the next event is weighed against them
            absorb_traits(ctx, saga.traits)
        saga.current, saga.pending = ctx.key, []
        weigh_again.again(ctx)  # members ranked before an event taken unweighed may show time order weighed it
    proceed(ctx, saga, message.token)


def _note_login(ctx: Node, saga: Saga, score: MatchScore, event_side: list[str], members: list[str]) -> None:
    """A join that stood on the e-mail's ``login`` level alone is noted (``logins.py``): its login leaves if the
    mailbox shows two people later."""
    state = ctx.state

    def weigh(also: list[str]) -> Decision:
        return judge(ctx, saga.traits, state.traits, event_side, members, saga, also=also)[0]

    logins.note(state, logins.stood_on(score, event_side, members, weigh), event_side, members)


def _linking(saga: Saga) -> list[str]:
    """The event's identifiers already planned that brought it to this customer (owned when it visited them;
    one may have moved to another customer since, by a claim: the event was brought here all the same)."""
    return [key for key in saga.plan[:saga.step] if saga.seen.get(key) not in (NEW, SHARED, UNKNOWN)]


def weighed_the_other_way(policy: LinkPolicy, state: CustomerState, saga: Saga, members: Mapping[str, Member],
                          linking: list[str]) -> bool:
    """Whether a member other than the ``linking`` identifiers is planned before the first of them (``plan_order``:
    priority, then key): an event carrying it with the linking identifier, arriving after this one, would have met
    this event's customer through a ``join`` of pending identifiers, which is weighed. Where a linking identifier
    ranks before the event at the rank of an event applied here (``CustomerState.ranks_applied``: that earlier event
    brought it and is no longer on its way with more), in time order this event met the customer through it, and only
    the members ranked before the event count: one ranked after it came later, when this event's identifiers were
    already members (as ``weigh_again`` reads the customer this event met; bench draw 885). Likewise where the event is
    the first on the linking identifier (its member rank is the one this event gives it) and an event without a user
    id brought that identifier here (``came_with.brought_by_user_less``): in time order this event made the customer
    and the members ranked after it came later, each weighed by its own event then (where a login brought the linking
    identifier, ``{x1, e}`` t0, ``{u, e}`` t1 arriving t1 first, it counts: weighed, as time order weighs t1). The
    order bench's ``{x0, e}`` t0, ``{x1, e}`` t1, ``{x1, u-0}`` t2 kind (arriving t2, t1, t0 the login made t0's join
    a review; ``test_customer_join_order.py``). And a member that was here before a later event brought the linking
    identifier does not count: that event met it (weighed then), and in time order this one, earlier on the linking
    identifier, met nobody here through it (``came_with.fell``, read once this event lowered its rank, or the linking
    identifier still ranking after the event; bench draw 2594's ``{u-2, x2, e0}`` t0, ``{x0, e1}`` t1, ``{x2, e1}`` t2
    arriving t0, t2, t1: ``test_came_with_fell.py``). Nor a member that has been with the linking identifier only since
    an event ranked after this one, through another identifier (``joined.since``): in time order it came after, and the
    event that linked them met this one's identifiers then (bench draw 686's ``{u-0}`` t0, ``{x1, e0}`` t1, ``{x9, e0}``
    t2, ``{u-0, x1}`` t3: ``test_joined_order.py``)."""
    first, event = linking[0], saga_rank(saga)
    met = any(0 < rank < event and recalls(state.ranks_applied, str(rank))
              for rank in (member_rank(members[key]) for key in linking if key in members))
    first_on = first in members and member_rank(members[first]) == rank_of(policy, saga, first) \
        and came_with.brought_by_user_less(state, first)
    later = first in members and member_rank(members[first]) > event
    return any(policy.plan_order([key, first])[0] == key for key in members
               if key not in linking and not (met and member_rank(members[key]) > event)
               and not (first_on and member_rank(members[key]) > event)
               and not (later and member_rank(members[key]) < member_rank(members[first]))
               and not (first in members and came_with.met_before(state, first, key, event))
               and not joined.since(policy, state, key, first) > event)
