"""An ``offer`` a rule refuses outright (``customer_merge.on_offer``: earliest claim, an operator's split or rejected
review, a limit, a rejected review): the ``LinkRefused``, what the event's linking identifier claims or notes, the
answer that unlocks the loser, and the side the event goes to.
"""

from __future__ import annotations

from processors.identity.graph import fits_two
from processors.identity.graph.apart_side import belongs
from processors.identity.graph.contest import contests, only_rejected, weigh_offer
from processors.identity.graph.customer_steps import Node, contested, face, noted, waived
from processors.identity.graph.evidence import kept_apart
from processors.identity.graph.limits import conflict_kind
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Offer, OfferResult
from processors.identity.graph.met_first import met_first
from processors.identity.graph.outputs import Refused
from processors.identity.graph.refusals import announce
from processors.identity.graph.saga import lineage
from processors.identity.matching.mistyped import asked_despite
from processors.identity.matching.weights import Decision, MatchScore
from processors.identity.rules import MAX_PER_CUSTOMER, SPLIT_DO_NOT_MERGE, kind_of


def refuse(ctx: Node, message: Offer, saga: Saga, rule: str, reason: str, two: str | None, current: str,
           other: str) -> None:
    """Refuse the loser's ``message`` under ``rule`` (``reason``; ``two``: the reason of two identifiers of a type
    limited to one, if that is the limit), with ``current`` the side the event reached first and ``other`` the other
    side. A linking identifier's refusal is announced, then it claims, is noted beside both, or goes where the other
    side met the event first (``met_first``); a blocking candidate's two-people refusal is announced and,
    when one of the two may be mistyped, kept apart under review."""
    state, loser, culprit = ctx.state, message.loser, message.culprit
    loser_aliases, own_aliases = {loser, *message.aliases}, {ctx.key, *state.aliases}
    later = None
    if culprit is not None:
        first = announce(ctx, Refused(culprit, reason, lineage(saga, rule), customer_id=current,
                                      other_customer_id=other), known=message.refusals)
        if rule == MAX_PER_CUSTOMER and two and (later := met_first(ctx, saga, message, current, other, first)):
            pass  # the other side came after the event: it goes there, as in time order (met_first.py)
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
        refusal, score = conflicting_candidate(ctx, message, saga, two)
        if announce(ctx, refusal, known=message.refusals) and asked(ctx, message, score):
            # One of the two may be mistyped (matching.mistyped): apart until an operator decides.
            kept_apart(ctx, Decision.REVIEW, score, lineage(saga), None, current, other,
                       (face(ctx, message.members, loser), face(ctx, state.members, ctx.key)))
    ctx.send(loser, OfferResult(message.token, False))
    saga.current = later or belongs(ctx, saga, message, current, other)


def conflicting_candidate(ctx: Node, message: Offer, saga: Saga, reason: str) -> tuple[Refused, MatchScore]:
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


def asked(ctx: Node, message: Offer, score: MatchScore) -> bool:
    """Whether a blocking candidate refused for two identifiers of a type limited to one also goes to review: the
    matcher reads one of them as possibly mistyped (``matching.mistyped``: a national ID two digits off that keeps
    its check character, tester21 F8). The refusal stands until an operator decides."""
    kind = conflict_kind(ctx.policy, ctx.state.members, message.members)
    return kind is not None and asked_despite(ctx.policy.matcher, score, kind)
