"""Steps every decision at a customer root shares: route a message to the root, remember a step taken,
announce owners, carry the saga on, admit an identifier, note a contested one.

Used by ``customer_node.py`` (create, apply, split), ``customer_join.py``, ``customer_merge.py``,
``claim_node.py`` and ``rank_node.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from bus.identifiers.kinds import IDENTIFIER_TYPES
from processors.identity.graph.context import Ctx, recalls, remember
from processors.identity.graph.limits import Member, member, member_version
from processors.identity.graph.messages import AnyMessage
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Assign, Release
from processors.identity.graph.outputs import Assigned, Lineage, Linked
from processors.identity.graph.saga import advance, is_alias
from processors.identity.graph.state import CustomerState
from processors.identity.rules import EARLIEST_CLAIM, kind_of

DONE_TOKENS = 32

Node = Ctx[CustomerState]


def route(ctx: Node, message: AnyMessage, token: str | None = None) -> bool:
    """True when this node must decide now; otherwise the message was deferred, forwarded or dropped."""
    state = ctx.state
    if token is not None and (recalls(state.done, token) or state.lock == token):
        return False  # duplicate of a step already taken (or in progress) here
    if not state.created:
        ctx.defer(message)
    elif state.parent:
        ctx.send(state.parent, message)
    elif state.lock:
        ctx.defer(message)
    else:
        return True
    return False


def done(ctx: Node, token: str) -> None:
    ctx.state.done = remember(ctx.state.done, token, DONE_TOKENS)


def assign(ctx: Node, keys: list[str], members: dict[str, Member], owner: str, by_event_id: str,
            token: str | None) -> None:
    """Tell each identifier (and the compacted topic) its new owner; ``by_event_id``: the announcement."""
    for key in keys:
        version = member_version(members[key])
        ctx.emit(Assigned(key, owner, version, by_event_id))
        ctx.send(key, Assign(owner, version, token))


def proceed(ctx: Node, saga: Saga, token: str | None) -> None:
    if token is not None:
        done(ctx, token)
    if dissolving(saga):  # decided, merged or not: the claimed identifier's node may serve again
        for key in saga.lookup_only:
            ctx.send(key, Release(saga.event_id))
    saga.step += 1
    ctx.emit(*advance(saga, ctx.policy))


def admit(ctx: Node, key: str, version: int, rank: int, link_lineage: Lineage, token: str | None) -> None:
    """``key`` becomes a member (its rank kept if its type is limited); announce and tell its node."""
    members = ctx.state.members
    members[key] = member(version, rank if ctx.policy.limit(kind_of(key)) is not None else 0)
    linked = Linked(ctx.key, key, link_lineage)
    ctx.emit(linked)
    assign(ctx, [key], members, ctx.key, linked.event_id, token)


def contested(saga: Saga, culprit: str) -> None:
    """The event's side and the culprit's owner are two people (the matcher's refusal, two national IDs):
    if the event ranks first on the culprit, its customer claims it when the event is applied (claim_node.py)."""
    if culprit not in saga.contested:
        saga.contested.append(culprit)


def noted(saga: Saga, culprit: str) -> None:
    """The event's side and the culprit's owner are kept apart until an operator reviews them, and the event
    does not claim it (``contest.contests``): both screen pops still name the two customers (``Apply.kept_apart``),
    before and after the operator's decision (tester8's finding 8: a rejected review left the phone unflagged)."""
    if culprit not in saga.contested and culprit not in saga.noted:
        saga.noted.append(culprit)


def face(ctx: Node, members: Iterable[str], fallback: str) -> str:
    """The identifier that names a side in a review (its highest-priority member); ``fallback`` for a customer
    left without members (none is left by a claim now: ``claim_node.on_give`` merges it into the claimant)."""
    ordered = ctx.policy.plan_order(members)
    return ordered[0] if ordered else fallback


def dissolving(saga: Saga) -> bool:
    """A customer whose only identifier an earlier event's customer claims merges into it
    (``claim_node.dissolve_saga``): ``lookup_only`` is that identifier, ``event_id`` the claim's token."""
    return saga.proposal and saga.rule == EARLIEST_CLAIM


# Every type whose per-customer limit an operator's rejection waives: it links nothing, whatever the two hold.
EVERY_TYPE = tuple(sorted(IDENTIFIER_TYPES))


def waived(saga: Saga) -> tuple[str, ...]:
    """The types whose per-customer limit a step of ``saga`` does not check: every type for an operator's rejection
    (``saga.reject``: it merges nothing, so it keeps the two apart and records it, whatever they hold: two customer
    numbers or national IDs are recorded as two user ids are, and the matcher respects the decision afterwards, #8
    point 7) and USER_ID for a claim's merge (``claim_node.dissolve_saga``). Not for an alias: a link like any other,
    and two user ids on one customer are two people (#8 point 3, the twins an alias merged); nor for an operator's
    accept or merge (``force``): two portal logins are two people as two national IDs are (tester26 F9;
    ``merge.over_limit`` refuses them before anything is published)."""
    if saga.reject:
        return EVERY_TYPE
    if not saga.lookup_only or is_alias(saga) or (saga.force and saga.rule != EARLIEST_CLAIM):
        return ()
    return ("USER_ID",)
