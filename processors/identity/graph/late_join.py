"""A browser's join weighed only because of a login that came later is joined once the linking identifier's earliest
event is applied (issue #8 point 5, "two browsers that typed one e-mail, then a login on the first").

Browser A types the family e-mail (``{A, e}`` t1), browser B types it (``{B, e}`` t2), Anna logs in on A with it
(``{u, A, e}`` t3). In time order B meets A's customer ``{A, e}`` through ``e``: nothing there is planned before ``e``
(``customer_join.weighed_the_other_way``), so B joins unweighed, and the login joins both: one customer
``{A, B, e, u}``. Arriving login first, B's event met the login's customer ``{u, A, e}``, where ``u`` is planned before
``e`` and A's earlier event, still on its way, had not yet lowered ``e``'s rank: weighed, a review (+3.9 bits, nothing
but identifiers on either side), B on a customer of its own; A's event, applied after, changed nothing. On three
partitions arrivals t3, t1, t2 and t3, t2, t1 left B apart (on twelve partitions 021 did too; the household
scenes' S2).

The rule: a trait-less event whose join was weighed that way is remembered (``note``: the linking identifier not
settled before the event at the join, every member planned before it ranking after the event; in
``CustomerState.late_joins``, the latest ``MAX_LATE``). Once an event applied here settles the linking identifier's
rank before the remembered event's (``applied``: the rank of an event applied here), and every member planned before
that identifier still ranks after the remembered event, time order met this customer with nothing planned before the
linking identifier: the event's identifiers are linked to it again without weight (``late_saga``: a look-up-only
proposal, ``force``, the limits checked, lineage rule ``co-observed``), as ``displace_late.py`` links a refused user
id. Where a member planned before it ranks before the event by then, time order weighed it too: the entry is dropped.
Not moved at a merge (as ``awaited``); the review the join requested stays open.

The login on the second browser (``{u, B, e}`` t3 arriving first): A's join is weighed and its claim takes ``e``,
while B's event, applied on the login's customer before the claim, met A's customer in time order: ``given``, read at
the claim's ``give``, links B the same way.

Measured: ``tests/bench/results/identity_email_order.md`` (branch order43); ``test_late_join.py``,
``test_household_scenes.py``. Not covered: a merge of the keeper before the linking identifier's earliest event is
applied (the entries stay behind), and the review the weighed join requested, which stays open.
"""

from __future__ import annotations

import hashlib

import msgspec

from processors.identity.graph import came_with
from processors.identity.graph.context import recalls
from processors.identity.graph.customer_steps import Node
from processors.identity.graph.limits import member_rank, saga_rank
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.saga import new_saga
from processors.identity.graph.state import LateJoin
from processors.identity.rules import CO_OBSERVED, UNTOLD_KINDS, kind_of

MAX_LATE = 4  # weighed joins a root remembers, the latest: an older one is not decided again
TOKEN_PREFIX = "latejoin~"


def note(ctx: Node, saga: Saga, linking: str, added: list[str]) -> None:
    """The trait-less event of ``saga`` met this customer through ``linking`` with its new identifiers ``added`` and
    was weighed and kept apart (``customer_join.on_join``, ``weighed_the_other_way``): remembered unless ``linking``
    ranks before the event at the rank of an event applied here (time order met what that event left), and where
    every member planned before ``linking`` ranks after the event (an earlier event may still lower ``linking``'s rank
    and not theirs). ``linking``'s rank may be the event's own (its visit lowered it) or a kept-apart event's."""
    state, event = ctx.state, saga_rank(saga)
    members = state.members
    if saga.traits or not added or linking not in members:
        return
    if (rank := member_rank(members[linking])) < event and recalls(state.ranks_applied, str(rank)):
        return  # an earlier event applied here brought it: time order met what was here then
    if not _before(ctx, linking) or any(member_rank(members[key]) < event for key in _before(ctx, linking)):
        return
    entry = LateJoin(saga.event_id, saga.channel, event, linking, sorted(added))
    kept = [other for other in state.late_joins if other.event_id != entry.event_id]
    state.late_joins = [*kept, entry][-MAX_LATE:]


def applied(ctx: Node) -> None:
    """An event was applied here (its rank in ``ranks_applied``): each remembered join whose linking identifier now
    ranks before it at an applied rank is decided (module docstring); one whose linking identifier left is dropped."""
    state = ctx.state
    for entry in list(state.late_joins):
        members = state.members
        if entry.linking not in members:
            _drop(ctx, entry)
            continue
        rank = member_rank(members[entry.linking])
        if not (0 < rank < entry.rank and recalls(state.ranks_applied, str(rank))):
            continue
        _drop(ctx, entry)
        if all(member_rank(members[key]) > entry.rank for key in _before(ctx, entry.linking)):
            late = late_saga(f"{entry.event_id}~{entry.linking}", entry.channel, [entry.linking, entry.added[0]])
            ctx.send(late.ids[0], Visit(late))


def given(ctx: Node, key: str, rank: int) -> list[str]:
    """The members to link again with member ``key``, which a claim whose event ranks ``rank`` takes
    (``claim_node.on_give``, after the member left): the anonymous ids planned after ``key`` that a trait-less event
    without a user id, ranked after the claim's and applied here, found with it (``came_with.note_applied``; the
    anonymous id still ranks at that event's rank), where every member planned before ``key`` ranks after that event.
    In time order that event came after the claim's, met the claimant's customer through ``key`` with nothing planned
    before it there, and joined it unweighed; the later login joined them both (the login on the second browser,
    ``{A, e}`` t1, ``{B, e}`` t2, ``{u, B, e}`` t3 arriving t3 first). Linked by ``late_saga``; nothing where no member
    is planned before ``key`` (``came_with.met_through`` proposes those)."""
    state = ctx.state
    before = _before(ctx, key)
    if not before:
        return []

    def met(other: str, held: int) -> bool:
        return rank < held and recalls(state.ranks_applied, str(held)) \
            and all(member_rank(state.members[first]) > held for first in before) \
            and came_with.brought_together(state, key, held, other)

    return sorted(other for other, value in state.members.items()
                  if kind_of(other) in UNTOLD_KINDS and ctx.policy.plan_order([key, other])[0] == key
                  and met(other, member_rank(value)))


def late_saga(seed: str, channel: str, pair: list[str]) -> Saga:
    """The link of the two identifiers ``pair``'s customers: look-up only, no weight (``force``: time order took the
    event unweighed), the limits checked. Lineage rule ``co-observed`` (the event carried both); its id a hash of
    ``seed`` (the event's id or the claim's token: an identifier value never travels in an id), the same on a
    redelivery."""
    digest = hashlib.sha256(seed.encode()).hexdigest()[:24]
    saga = new_saga(TOKEN_PREFIX + digest, channel, 0, [], None, 0.0, lookup_only=pair)
    return msgspec.structs.replace(saga, proposal=True, rule=CO_OBSERVED, force=True)


def _before(ctx: Node, linking: str) -> list[str]:
    """The members planned before ``linking`` (``LinkPolicy.plan_order``: priority, then key)."""
    return [key for key in ctx.state.members if key != linking and ctx.policy.plan_order([key, linking])[0] == key]


def _drop(ctx: Node, entry: LateJoin) -> None:
    ctx.state.late_joins = [other for other in ctx.state.late_joins if other != entry]
