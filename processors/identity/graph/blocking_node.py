"""Blocking nodes (``BLOCK:...``): the customers filed under one blocking key, and the pairs worth scoring.

State: ``e`` ``{customer id: [trait summary, identifier types]}``, at most ``MAX_ENTRIES`` (the
smallest ids, so the result does not depend on arrival order). A newly filed customer is scored
against every other entry with the matcher; a pair that is not refused outright is proposed as a
merge (``link`` with a command saga), and the survivor's root decides with the full member lists,
as for any other merge. Proposals are idempotent (one token per pair).
"""

from __future__ import annotations

import json

from processors.identity.graph.engine import Ctx, Message, short_hash
from processors.identity.graph.saga import command_saga
from processors.identity.matching.compare import Level, trait_levels
from processors.identity.matching.weights import Decision
from processors.identity.rules import BLOCKING_CANDIDATE

MAX_ENTRIES = 16


def _kind_levels(first: list[str], second: list[str], kinds: list[str]) -> dict[str, Level]:
    """Two customers filed apart hold no common identifier: a type both have is a conflict."""
    both = set(first) & set(second)
    return {kind: Level.DIFFERENT if kind in both else Level.MISSING for kind in kinds}


def on_block(ctx: Ctx, message: Message) -> None:
    entries: dict[str, list] = ctx.state.setdefault("e", {})
    customer, traits, kinds = message["c"], message["tr"], message["kn"]
    if entries.get(customer) == [traits, kinds]:
        return  # a duplicate
    entries[customer] = [traits, kinds]
    for dropped in sorted(entries)[MAX_ENTRIES:]:
        del entries[dropped]
    if customer not in entries:
        return
    matcher = ctx.policy.matcher
    for other, (other_traits, other_kinds) in sorted(entries.items()):
        if other == customer:
            continue
        levels = {**trait_levels(traits, other_traits, matcher.thresholds),
                  **_kind_levels(kinds, other_kinds, matcher.identifier_kinds)}
        if matcher.decide(matcher.weigh(levels)) is Decision.REFUSE:
            continue
        low, high = sorted((customer, other))
        # One token per pair and evidence: a copy is dropped, a pair whose traits grew is proposed again.
        token = f"blk:{low}:{high}:{short_hash(json.dumps([entries[low], entries[high]], sort_keys=True))}"
        saga = command_saga(token, "PROCESSOR", BLOCKING_CANDIDATE)
        ctx.send(high, {"k": "link", "y": low, "cx": False, "cul": None, "tok": f"{token}#0", "saga": saga})


def on_unblock(ctx: Ctx, message: Message) -> None:
    """Customer ``c`` merged into another: its entry goes (the survivor files itself)."""
    entries = ctx.state.get("e", {})
    entries.pop(message["c"], None)


HANDLERS = {"block": on_block, "unblock": on_unblock}
