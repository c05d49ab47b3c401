"""Blocking nodes (``BLOCK:...``): the customers filed under one blocking key, and the pairs worth scoring.

State: ``state.BlockState`` (customer id -> trait summary and identifier types), at most
``MAX_ENTRIES`` (the smallest ids, so the result does not depend on arrival order). A newly filed
customer is scored against every other entry with the matcher; a pair that is not refused outright (nor
refused by two identifiers of a type one person holds one of only, which may go to review: ``matching.mistyped``)
is proposed as a merge (``Link`` with a command saga), and the survivor's root decides with the full member lists,
as for any other merge. Proposals are idempotent (one token per pair).
"""

from __future__ import annotations

import json

from processors.identity.graph.context import Ctx, short_hash
from processors.identity.graph.messages.steps import Block, Link, Unblock
from processors.identity.graph.saga import command_saga
from processors.identity.graph.state import BlockEntry, BlockState
from processors.identity.matching.compare import Level
from processors.identity.matching.mistyped import asked_despite, vetoed_kind
from processors.identity.matching.weights import Decision, MatchModel, MatchScore
from processors.identity.rules import BLOCKING_CANDIDATE

MAX_ENTRIES = 16

Node = Ctx[BlockState]


def _kind_levels(first: list[str], second: list[str], kinds: list[str]) -> dict[str, Level]:
    """Two customers filed apart hold no common identifier: a type both have is a conflict."""
    both = set(first) & set(second)
    return {kind: Level.DIFFERENT if kind in both else Level.MISSING for kind in kinds}


def on_block(ctx: Node, message: Block) -> None:
    entries = ctx.state.entries
    customer, entry = message.customer, BlockEntry(message.traits, message.kinds)
    if entries.get(customer) == entry:
        return  # a duplicate
    entries[customer] = entry
    for dropped in sorted(entries)[MAX_ENTRIES:]:
        del entries[dropped]
    if customer not in entries:
        return
    matcher = ctx.policy.matcher
    for other, other_entry in sorted(entries.items()):
        if other == customer:
            continue
        levels = matcher.compare(entry.traits, other_entry.traits,
                                 _kind_levels(entry.kinds, other_entry.kinds, matcher.identifier_kinds))
        score = matcher.weigh(levels)
        if matcher.decide(score) is Decision.REFUSE and not _asked(matcher, score):
            continue
        low, high = sorted((customer, other))
        # One token per pair and evidence: a copy is dropped, a pair whose traits grew is proposed again.
        evidence = json.dumps([[e.traits, e.kinds] for e in (entries[low], entries[high])], sort_keys=True)
        token = f"blk:{low}:{high}:{short_hash(evidence)}"
        saga = command_saga(token, "PROCESSOR", BLOCKING_CANDIDATE)
        ctx.send(high, Link(low, False, None, f"{token}#0", saga))


def _asked(matcher: MatchModel, score: MatchScore) -> bool:
    """A pair refused by two identifiers of one type (two national IDs) that the root may still send to review:
    one of them may be mistyped (``matching.mistyped``). The root decides with the full member lists."""
    kind = vetoed_kind(matcher, score)
    return kind is not None and asked_despite(matcher, score, kind)


def on_unblock(ctx: Node, message: Unblock) -> None:
    """Customer ``customer`` merged into another: its entry goes (the survivor files itself)."""
    ctx.state.entries.pop(message.customer, None)
