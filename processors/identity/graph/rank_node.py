"""Customer-root handlers of the rank protocol (``limits.py``): a member's rank falls, an eviction bounces.

``rekey``: an identifier was carried by an event older than any it knew; its owner lowers the cached
rank. ``rejoin``: an identifier evicted on a stale rank asks its customer to decide again.
"""

from __future__ import annotations

from processors.identity.graph.customer_node import DONE_TOKENS, _admit, _route
from processors.identity.graph.engine import Ctx, Message
from processors.identity.graph.limits import evict, loser, member, member_rank, member_version, ranks_of_kind
from processors.identity.graph.outputs import Lineage
from processors.identity.rules import MAX_PER_CUSTOMER, kind_of


def on_rekey(ctx: Ctx, message: Message) -> None:
    """An event older than any seen so far carried member ``id``: lower its cached rank."""
    if not _route(ctx, message):
        return
    members, key = ctx.state.get("m", {}), message["id"]
    if key in members and message["r"] < member_rank(members[key]):
        members[key] = member(member_version(members[key]), message["r"])


def on_rejoin(ctx: Ctx, message: Message) -> None:
    """An identifier this customer evicted on a stale rank asks to be ranked again with rank ``r``."""
    if not _route(ctx, message, message["tok"]):
        return
    ctx.remember("d", message["tok"], DONE_TOKENS)
    state, key, rank = ctx.state, message["id"], message["r"]
    if key in state.get("m", {}):
        return
    kind, rule_lineage = kind_of(key), Lineage(message["e"], message["ch"], MAX_PER_CUSTOMER)
    ranks, limit = ranks_of_kind(state, kind), ctx.policy.limit(kind)
    dropped = loser(ranks, key, rank) if limit is not None and len(ranks) >= limit else None
    if dropped == key:  # it gives way after all: evict it again at its true rank
        ctx.send(key, {"k": "evict", "c": ctx.key, "v": message["v"], "r": rank, "e": message["e"],
                       "ch": message["ch"], "why": f"the customer holds {limit} {kind} identifiers ranked before it"})
        return
    _admit(ctx, key, message["v"], rank, rule_lineage, None)
    if dropped is not None:
        ctx.send(*evict(state, ctx.key, dropped, message["e"], message["ch"],
                        f"the customer would hold {len(ranks) + 1} {kind} identifiers (limit {limit})"))


HANDLERS = {"rekey": on_rekey, "rejoin": on_rejoin}
