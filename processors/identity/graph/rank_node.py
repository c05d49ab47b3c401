"""Customer-root handlers of the rank protocol (``limits.py``): a member's rank falls, an eviction bounces.

``rekey``: an identifier was carried by an event older than any it knew; its owner lowers the cached
rank. ``rejoin``: an identifier evicted on a stale rank asks its customer to decide again.
"""

from __future__ import annotations

from processors.identity.graph import came_with, carried_pair, displace, joined, weigh_again
from processors.identity.graph.customer_node import Node, _admit, _done, _route
from processors.identity.graph.limits import evict, loser, member, member_rank, member_version, ranks_of_kind
from processors.identity.graph.messages.steps import Evict, Rejoin, Rekey
from processors.identity.graph.outputs import Lineage
from processors.identity.rules import MAX_PER_CUSTOMER, kind_of


def on_rekey(ctx: Node, message: Rekey) -> None:
    """An event older than any seen so far carried member ``identifier``: lower its cached rank."""
    if not _route(ctx, message):
        return
    members, key = ctx.state.members, message.identifier
    if key not in members and (to := displace.rank_follows(ctx, key)) is not None:
        ctx.send(to, message)  # it moved out since the event's visit: its rank falls where it went
        return
    # Rank 0: unranked until an event that tells whose it is carries it (limits.tells): an anonymous id an anonymous
    # page view made a member, a number a call without IVR data did.
    if key in members and (message.rank < member_rank(members[key]) or not member_rank(members[key])):
        old = member_rank(members[key])
        if old:  # the members planned before it that were here when it came (customer_join.weighed_the_other_way)
            came_with.fell(ctx.policy, ctx.state, key, old, message.rank)
            carried_pair.carried_fell(ctx.state, key, old, message.rank)  # a later event met it with another member
            joined.fell(ctx.policy, ctx.state, key, old, message.rank)  # with whom since which rank
            weigh_again.fell(ctx, key, old, message.rank)  # the rank a kept event met it at (claimed_away)
        # Whom a user-less event brought it with (read by claim_node.on_give), and what a claim took from the two:
        for other in came_with.lowered(ctx.policy, ctx.state, key, old, message.rank):
            if message.channel:
                weigh_again.propose(ctx, f"{key}~{old}~{other}", message.channel, [key, other])
        members[key] = member(member_version(members[key]), message.rank)
        if old:
            carried_pair.carried_late(ctx.state, key, old)  # a user-less event that came first met it with a member


def on_rejoin(ctx: Node, message: Rejoin) -> None:
    """An identifier this customer evicted on a stale rank asks to be ranked again with rank ``rank``."""
    if not _route(ctx, message, message.token):
        return
    _done(ctx, message.token)
    state, key, rank = ctx.state, message.identifier, message.rank
    if key in state.members:
        return
    kind, rule_lineage = kind_of(key), Lineage(message.event_id, message.channel, MAX_PER_CUSTOMER)
    ranks, limit = ranks_of_kind(state, kind), ctx.policy.limit(kind)
    dropped = loser(ranks, key, rank) if limit is not None and len(ranks) >= limit else None
    if dropped == key:  # it gives way after all: evict it again at its true rank
        ctx.send(key, Evict(ctx.key, message.version, rank, message.event_id, message.channel,
                            f"the customer holds {limit} {kind} identifiers ranked before it"))
        return
    _admit(ctx, key, message.version, rank, rule_lineage, None)
    if dropped is not None:
        ctx.send(*evict(state, ctx.key, dropped, message.event_id, message.channel,
                        f"the customer would hold {len(ranks) + 1} {kind} identifiers (limit {limit})"))
