"""Every holder of a shared identifier is weighed against an event that reaches it, not only its keeper (tester24 F1).

A household's mailbox or landline on two people's billing lines (siblings with one family e-mail) is kept by one of
them; the other is kept apart through it (``IdentifierState.kept_apart``). An event that reaches the identifier with
a new identifier of its own (a portal login: user id, the family e-mail, a given name) is weighed at the keeper only
(``customer_join``): refused there (another given name), it made a web-only customer, although its traits are the
other holder's, and that customer took the e-mail by its claim (a billing line's e-mail ranks after other channels'
events, ``limits.key_rank``). That customer is kept apart through the identifier too, and the identifier proposes it
with each customer kept apart there (``seek.propose_housemates``), a proposal decided before only where one side held
no identifier (a call's own customer).

The rule now: a proposed pair that both hold identifiers merges when the Fellegi–Sunter weight of the two, met
through what both carried (``contest.carried_by_both``) weighed as a household's (the e-mail at ``agree``, not at its
``login`` level: a login without a name may be either sibling's), reaches the merge threshold, and no rule keeps them
apart (a split's or a rejected review's do-not-merge, a limit of one: two customer numbers are two people).
Otherwise they stay apart, unannounced: the event was weighed, and announced, where it met the keeper, and two
holders' own records were weighed when they met; a review here would be the pair's second
(``test_customer_join_order.py``). So the login, its contacts and the e-mail its claim took go to the holder whose
traits agree, in every arrival order (``test_holders.py``). Not covered: a login whose given name both holders bear
(twins-like) merges at the keeper, where the other holder is not weighed.

Two browsers of one e-mail (issue #8 point 5): a pair holding nothing planned before the identifier both carried
(anonymous ids beside the e-mail), one side keeping it, merges where the matcher reviews it (``browsers``): either
side's event, meeting the other through it, joins unweighed (``customer_join``). Such a pair is proposed where a
browser's join was weighed against a login that held the e-mail until its earliest event's claim took it (bench draw
1859, ``test_holders_browsers.py``). Measured: ``tests/bench/results/identity_email_order.md`` (branch order39).
Where that pair was weighed while the earliest browser's claim of the identifier was on its way (neither side held
it), the identifier proposes its new owner with each customer kept apart through it (``seek.propose_owner``): such a
pair merges only by ``browsers`` (branch order43).
"""

from __future__ import annotations

import msgspec

from processors.identity.graph.contest import carried_by_both, weigh_offer
from processors.identity.graph.context import Ctx
from processors.identity.graph.messages.base import Saga, Unweighed
from processors.identity.graph.messages.steps import Offer
from processors.identity.graph.saga import OWNER_TOKEN
from processors.identity.graph.state import CustomerState
from processors.identity.matching.weights import Decision


def merge(ctx: Ctx[CustomerState], message: Offer, saga: Saga, limit_reason: str | None) -> bool:
    """Whether two customers holding identifiers that an identifier proposed as its holders (``message``: the
    loser's offer, ``ctx``: the survivor's root) merge: no do-not-merge on either side, no limit refuses them
    (``limit_reason``), and the matcher merges them (``contest.weigh_offer``)."""
    state = ctx.state
    if limit_reason is not None or saga.reject or saga.force:
        return False
    if {message.loser, *message.aliases} & set(state.do_not_merge) or {ctx.key, *state.aliases} & set(
            message.do_not_merge):
        return False
    decision = weigh_offer(ctx, message, saga, household(message, state))[0]
    if message.token.startswith(OWNER_TOKEN):  # a new owner's pair (seek.propose_owner): time order's join only
        return decision is not Decision.REFUSE and browsers(ctx, message, state)
    return decision is Decision.MERGE or decision is Decision.REVIEW and browsers(ctx, message, state)


def browsers(ctx: Ctx[CustomerState], message: Offer, state: CustomerState) -> bool:
    """Whether the two sides hold nothing planned before the first identifier both carried (``plan_order``: anonymous
    ids beside an e-mail): an event of either, meeting the other through it, would have joined unweighed
    (``customer_join``: two browsers of one e-mail are weighed in neither order), so a review here is time order's
    join, not a second review of two people. Bench draw 1859: ``{x0, e0}`` t0, ``{x2, u-0, e0}`` t1, ``{x1, e0}`` t2
    arriving t1, t2, t0: t2's join was weighed against t1's login, which t0's claim of ``e0`` then took apart."""
    both = carried_by_both(message, state)
    if not both or not all(key in state.members or key in message.members for key in both):
        return False  # (two kept apart from its keeper: each met the keeper, weighed, never the other; draw 2949)
    first = ctx.policy.plan_order(both)[0]
    return all(key in both or ctx.policy.plan_order([first, key])[0] == first
               for key in [*state.members, *message.members])


def met_through(ctx: Ctx[CustomerState], message: Offer, state: CustomerState) -> Offer:
    """A new owner's pair merging by ``browsers`` (``seek.propose_owner``): the side not holding the identifier both
    carried was kept apart through it, so each of its kept events (``CustomerState.unweighed``, its own) names that
    identifier at the event's rank, as if it had joined through it (``weigh_again_claimant.took`` does the like): a
    still earlier event's claim of the identifier then splits it off again as time order weighed it
    (``weigh_again.claimed_away``; bench draw 517's cut, ``test_weigh_again_claimant.py``). Returns the offer, its
    loser's records named so; the survivor's are named in place."""
    both = carried_by_both(message, state)
    if not both:
        return message
    first = ctx.policy.plan_order(both)[0]

    def named(entries: list[Unweighed]) -> list[Unweighed]:
        return [msgspec.structs.replace(entry, ranks={**entry.ranks, first: max(entry.ranks.values())})
                if entry.ranks and first not in entry.ranks and not entry.left and not entry.through else entry
                for entry in entries]

    if first in state.members and first not in message.members:
        return msgspec.structs.replace(message, unweighed=named(message.unweighed))
    if first in message.members and first not in state.members:
        state.unweighed = named(state.unweighed)
    return message


def household(message: Offer, state: CustomerState) -> list[str]:
    """The keys weighed as a household's in such a pair (``evidence.judge``'s ``also``): what both carried
    (``contest.carried_by_both``). It proposed them as two customers kept apart through it, so it is two people's:
    an e-mail is weighed at ``agree``, never at its ``login`` level (a name-less login may be either sibling's)."""
    return carried_by_both(message, state)
