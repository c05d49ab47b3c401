"""What a proposal of a carried pair or a browser's ``offer`` linked in leaves again when an earlier event claims, or a
login ranked before the linking event joins through, the identifier it linked through (issue #8 point 5).

The notes read here (what a user-less event met together, ``carried``; what a proposal of such a pair linked in,
``linked_in``, ``came_in``; what a browser's offer merged in, ``merged_in``, ``merged_through``) are kept by
``carried_pair.py``, which says why (bench draws 153, 540, 2434, 3421). Called from ``claim_node.on_give``
(``unlinked``, ``partner_claimed``, ``merged_away``) and ``customer_join.on_join`` (``joined_before``). The members
that leave go to a customer of their own, announced as the processor's split under the proposal's rule
(``co-observed``), and the pair is proposed again where time order met it (``weigh_again.propose``, with
``carried_pair.CARRIED_PREFIX``). Deciding again what a customer took unweighed: ``weigh_again.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from processors.identity.graph import carried_pair
from processors.identity.graph.customer_split import split_off
from processors.identity.graph.customer_steps import Node
from processors.identity.graph.limits import HASH_BITS, LATE_BAND, member_rank, saga_rank
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.outputs import Lineage, Split
from processors.identity.graph.saga import customer_id
from processors.identity.graph.weigh_again import SEED_SUFFIX, propose
from processors.identity.rules import CO_OBSERVED


def unlinked(ctx: Node, key: str, message_event_id: str, channel: str) -> None:
    """This customer gave member ``key`` to an earlier event's customer (``claim_node.on_give``): the members a pair
    proposal through ``key`` linked in (``carried_pair.came_in``) leave for a customer of their own. In time order the
    later event that carried ``key`` with the claimant's member met ``key`` on that earlier event's customer, and
    linked nothing to this one (bench draw 3421's cut: ``{x1, u-2, e0}`` t0, ``{u-1, e1}`` t1, ``{x9, e0}`` t2,
    ``{x1, u-1, e0}`` t3, ``{x1, e0}`` t4 arriving t3, t4, t2, t1, t0: t2's claim of ``e0`` proposed ``x1`` with
    ``e0`` again and merged ``{x9, e0}`` into ``{x1, u-1}``; t0's claims then took ``x1`` and ``e0``, and ``x9``
    stayed with ``u-1``, where time order kept it a customer of its own). Announced as the processor's split under
    the proposal's rule (``co-observed``), not an operator's."""
    leaving = carried_pair.came_in(ctx.state, key)
    if leaving and len(leaving) < len(ctx.state.members):
        reason = "a pair proposal linked these through an identifier an earlier event claimed: apart as in time order"
        _unlink(ctx, key, leaving, message_event_id, channel, reason, "~given")


def partner_claimed(ctx: Node, key: str, message_event_id: str, channel: str) -> None:
    """This customer gave member ``key`` to an earlier event's customer (``claim_node.on_give``), ``key`` being the
    claimant's member of a pair proposal that merged here (``carried_pair.came_through``; not any member of the
    claimant's side: draw 1991's bench order newly differed so): in time order the later event that carried the pair met
    ``key`` on that earlier event's customer, not on the proposal's claimant. The claimant's members still here leave
    for a customer of their own, and the pair is proposed again, to meet ``key`` where it went (bench draw 2434's cut:
    ``{x1, e0}`` t1, ``{x2, u-1, e0}`` t2, ``{x0, e0}`` t3 and t6 arriving t3, t6, t2, t1: t2's claim of ``e0`` proposed
    it with ``x0`` again and merged ``{x0}`` into ``{x2, u-1, e0}``; t1's claim of ``e0`` then left ``x0`` with ``u-1``,
    where in time order t3 joined ``x0`` to ``{x1, e0}``)."""
    state = ctx.state
    for giver in carried_pair.came_through(state, key):
        leaving = carried_pair.came_in(state, giver)
        if leaving and len(leaving) < len(state.members):
            reason = "a pair proposal linked these through an identifier an earlier event claimed: apart as then"
            _unlink(ctx, giver, leaving, message_event_id, channel, reason, "~partner")
        carried_pair.proposed(state, giver)
        propose(ctx, f"{message_event_id}~carried~{key}~{giver}", channel, [key, giver], carried_pair.CARRIED_PREFIX)
        return


def merged_away(ctx: Node, key: str, message_event_id: str, channel: str, following: Iterable[str]) -> None:
    """This customer gives member ``key`` to an earlier event's customer (``claim_node.on_give``, before it reads
    ``carried_pair.carried_with``): the members a browser's event merged in through ``key`` alone, by its ``offer``
    (``carried_pair.merged_through``), leave for a customer of their own. In time order that event, ranked after the
    claimant's (else it ranked first on ``key`` and nothing claims it), met ``key`` on the claimant's customer and
    linked nothing to this one. Where an event met the pair here, both ranked before it (``carried_pair.carried``), the
    pair is proposed again, to meet ``key`` where it goes; else the merging event brought one of them, and time order
    weighed its offer (draw 905's cut: a review). Not where they and what follows ``key`` (``following``:
    ``came_with.following_claim``) are this customer. Bench draw 2434's cut: ``{x1, e0}`` t0, ``{x2, u-1, e0}`` t1,
    ``{x0, e0}`` t2 and t3 arriving t1, t2, t3, t0: t2's join was a review beside ``u-1`` and t3's offer merged
    ``{x0}`` into ``{x2, u-1, e0}`` (+10.28, ``x0`` on both sides); t0's claim of ``e0`` then left ``x0`` with
    ``u-1``, and the carried pair's proposal linked all five, where in time order t2 joined ``x0`` to ``{x1, e0}``.
    Not called where a login's rank takes a browser alone (``Give.login``, ``browser_login.goes_alone``): the merging
    event ranked before that login, and time order merged it too (S4 of ``test_household_scenes.py``: Ben's login
    took ``B`` and ``merged_away`` sent Anna's ``{A, fam}`` away from her user id)."""
    state = ctx.state
    leaving = carried_pair.merged_through(state, key)
    if not leaving or len({*leaving, *following}) == len(state.members):
        return  # they are this customer, but for what follows ``key`` (``came_with.following_claim``)
    reason = "an event merged these through an identifier an earlier event claimed: apart as in time order"
    partners = [other for other in ctx.policy.plan_order(leaving) if carried_pair.carried_since(state, key, [other])]
    _unlink(ctx, key, leaving, message_event_id, channel, reason, "~merged")
    for partner in partners[:1]:  # a pair an event met here together, both ranked before it (carried_pair.carried)
        propose(ctx, f"{message_event_id}~merged~{key}~{partner}", channel, [key, partner], carried_pair.CARRIED_PREFIX)


def joined_before(ctx: Node, saga: Saga, through: Iterable[str]) -> None:
    """The event of ``saga`` joins this customer through members ``through`` (``customer_join.on_join``: its linking
    identifiers). Where a pair proposal through one of them linked members in (``carried_pair.came_in``) and the event
    ranks before the user-less event that carried the pair (``carried_pair.carried_since``), in time order that event
    met the proposal's giver with this event's identifiers, and weighed its offer with them: the members linked in
    leave for a customer of their own (as ``unlinked``) before the join, and the pair is proposed again, to be weighed
    with what the event brings (bench draw 540's cut: ``{u-2, e0}`` t0, ``{x2, e0}`` t1, ``{x2, u-0}`` t2, ``{x2,
    e0}`` t3 arriving t1, t3, t0, t2: t0's claim of ``e0`` proposed ``x2`` with ``e0`` again and merged ``{x2}`` into
    ``{u-2, e0}``; t2's ``u-0`` was then refused beside ``u-2``, where in time order t3 met ``{x2, u-0}``, two
    logins, and linked nothing). Not where the event ranks after that one: in time order it met the merged customer."""
    state = ctx.state
    rank, through = saga_rank(saga), [key for key in dict.fromkeys(through) if key in state.members]
    for key in through:
        leaving = carried_pair.came_in(state, key) or (  # an event's own offer: not where this one ranks first on key
            carried_pair.merged_through(state, key) if member_rank(state.members[key]) < rank else [])
        if not leaving or len(leaving) == len(state.members) or set(leaving) & set(through):
            continue
        if not rank < carried_pair.carried_since(state, key, leaving):
            continue
        partner = next(other for other in ctx.policy.plan_order(leaving)
                       if carried_pair.carried_since(state, key, [other]))
        reason = "a pair proposal linked these before an event that its later event met: weighed again with it"
        _unlink(ctx, key, leaving, saga.event_id, saga.channel, reason)
        carried_pair.proposed(state, key)
        propose(ctx, f"{saga.event_id}~carried~{key}", saga.channel, [partner, key], carried_pair.CARRIED_PREFIX)
        return


def _unlink(ctx: Node, key: str, leaving: list[str], event_id: str, channel: str, reason: str, by: str = "") -> None:
    """Members ``leaving`` (some, not all) that a pair proposal linked in through ``key`` leave for a customer of their
    own, announced as the processor's split under the proposal's rule (``co-observed``). ``by`` names the rule in the
    new customer's id: one event may undo through ``key`` at its join and again at its claim."""
    born = min(member_rank(ctx.state.members[other]) for other in leaving) % LATE_BAND >> HASH_BITS
    seed = f"{event_id}~{leaving[0]}~{key}{by}"
    new_id = customer_id(born, f"{seed}{SEED_SUFFIX}")
    while new_id == ctx.key or new_id in ctx.state.aliases:
        # The same event unlinked the same members before (``joined_before`` at its join, then ``unlinked`` at its
        # claim's give), and that split-off customer merged back here: its id names this customer, and a split to it
        # would drop the members from every list while their nodes still name it (bench draw 1455's cut form).
        seed = f"{seed}~again"
        new_id = customer_id(born, f"{seed}{SEED_SUFFIX}")
    split = Split(ctx.key, new_id, tuple(leaving), reason, Lineage(event_id, channel, CO_OBSERVED))
    split_off(ctx, leaving, split, born, apart=False)
