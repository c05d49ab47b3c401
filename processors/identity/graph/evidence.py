"""Where the graph asks the matcher: score two sides of a merge, keep trait summaries, feed the blocking index.

A customer root keeps ``traits``, the trait summary of every event applied to it and every customer it
absorbed (``matching.traits``). When it changes, the customer files itself under its blocking keys
(``block`` messages to ``BLOCK:...`` nodes, see ``blocking_node.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from processors.identity.graph.context import Ctx
from processors.identity.graph.messages import Block, Note
from processors.identity.graph.outputs import Lineage, Refused, ReviewRequested
from processors.identity.graph.state import CustomerState
from processors.identity.matching.blocking import block_keys
from processors.identity.matching.compare import trait_levels
from processors.identity.matching.traits import Summary, combine
from processors.identity.matching.weights import Decision, MatchScore
from processors.identity.rules import MATCH_REVIEW, MATCH_WEIGHT, kind_of


def judge(ctx: Ctx[CustomerState], traits_a: Summary | None, traits_b: Summary | None, ids_a: Iterable[str],
          ids_b: Iterable[str]) -> tuple[Decision, MatchScore]:
    """The matcher's decision on two sides (trait summaries and ``TYPE:value`` member keys)."""
    score = ctx.policy.matcher.score(traits_a, traits_b, ids_a, ids_b)
    return ctx.policy.matcher.decide(score), score


def kept_apart(ctx: Ctx[CustomerState], decision: Decision, score: MatchScore, lineage: Lineage, culprit: str | None,
               customer_id: str, other_customer_id: str, pair: tuple[str, str]) -> None:
    """Announce a refusal by weight (or a review request): the identifier is shared by these two only.

    ``pair``: one identifier of each side, what a review's accept links. A refusal on evidence notes
    the other customer on the identifier (the ``shared_after`` hard limit counts such customers); a
    review does not, nor does a limit's refusal of an event's new identifiers (that customer exists
    only because of the refusal: an alias's phantom must not poison a real identifier).
    """
    rule = MATCH_REVIEW if decision is Decision.REVIEW else MATCH_WEIGHT
    rule_lineage = Lineage(lineage.triggering_event_id, lineage.channel, rule)
    if culprit is not None:
        if decision is Decision.REVIEW:
            reason = f"match weight {score.weight:.1f} bits: kept apart until an operator reviews the pair"
        elif (vetoed := ctx.policy.matcher.veto(score.levels)) is not None:
            reason = f"{vetoed} differs (match weight {score.weight:.1f} bits): two people"
        else:
            reason = f"match weight {score.weight:.1f} bits is below {ctx.policy.matcher.refuse_below:.1f}"
        ctx.emit(Refused(culprit, reason, rule_lineage, customer_id=customer_id,
                         other_customer_id=other_customer_id, match_weight=round(score.weight, 2)))
        if decision is Decision.REFUSE:  # evidence that two people use it: counts towards ``shared_after``
            ctx.send(culprit, Note(customer_id))
    if decision is Decision.REVIEW:
        ctx.emit(ReviewRequested(customer_id, other_customer_id, pair, round(score.weight, 2),
                                 {name: str(level) for name, level in score.levels.items()}, rule_lineage))


def consistent_traits(ctx: Ctx[CustomerState], traits: Summary | None) -> bool:
    """Whether an event's traits may describe this root's person (their weight alone is not refused)."""
    known = ctx.state.traits
    if not traits or not known:
        return True
    matcher = ctx.policy.matcher
    return matcher.decide(matcher.weigh(trait_levels(traits, known, matcher.thresholds))) is not Decision.REFUSE


def absorb_traits(ctx: Ctx[CustomerState], traits: Summary | None) -> None:
    """Add ``traits`` to this root's summary; file the customer under its blocking keys if it changed."""
    state = ctx.state
    if not traits:
        return
    before = state.traits or {}
    after = combine(before, traits)
    if after == before:
        return
    state.traits = after
    if ctx.policy.blocking:
        kinds = sorted({kind_of(key) for key in state.members})
        for key in block_keys(after):
            ctx.send(key, Block(ctx.key, after, kinds))
