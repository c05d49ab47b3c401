"""An event that made a customer of its own, whose e-mail a claim then took, is passed on with that e-mail: the earliest
event's customer, which in time order it met, takes it again (issue #8 point 5, the order bench's ``{x0, e}``
``{x1, u-0, e}`` ``{x2, e}`` kind; bench draw 2547).

A ``{x0, e}`` t0, B ``{x1, u-0, e}`` t1, C ``{x2, e}`` t2. In time order B meets A's customer through ``e``, weighed
(``u-0`` planned before ``e``: a review, B apart); C meets A's customer (``x0`` planned after ``e``) and joins
unweighed: ``{x0, x2, e}``, ``{x1, u-0}``. Arriving C, B, A, C made ``{x2, e}``; B met it through ``e`` (its ``u-0``
pending and planned before ``e``: weighed), was kept apart, and claimed ``e`` (it ranks first on it); A then met B's
customer, weighed, kept apart, and claimed ``e`` from it. ``x2`` stayed a customer of its own: nothing remembered that
``e`` had been its event's.

The rule: where a claim takes an identifier that a kept event of the giver brought itself (``brought_it``: nothing
shows that an earlier event brought it, the test of ``weigh_again.claimed_away`` the other way round) and that event
ranks after the claim's, the event goes along as a mark (``Unweighed.left``: the giver, the customer its other
identifiers stay on; ``Unweighed.through``: the identifier) in ``Adopt.left``. The claimant reads it as time order's
join of the event with its own customer through that identifier (``met_the_claimant``): weighed if one of the event's
other identifiers is planned before it (a pending join, as ``customer_join.on_join`` weighs it) or a member the
claimant holds with a rank before the event's is (``customer_join.weighed_the_other_way``): then the claimant keeps
the mark, and a later claim of the identifier by a still earlier event passes it on (``left_through``); else the
event would have joined unweighed, and the customer it stayed on is told (``MetClaimant``), which proposes the pair
again if it still holds nothing but the event's identifiers (``on_met_claimant``: a look-up-only proposal, weighed as
an offer, the limits checked; lineage rule ``co-observed``, as ``weigh_again.relinked``). In the example: C's mark
goes to B with ``e``, B keeps it (``u-0``), A's claim passes it to A, A holds nothing planned before ``e``, and
``x2`` is linked with ``e`` again. That link is decided on the events arrived so far: a still earlier event that
claims the identifier later splits the event off again (``weigh_again.claimed_away``), which reads that an earlier
event brought the identifier from the claimant's record of its own event, naming the identifier its claim took
(``took``; bench draw 517: without it the link stayed).

Measured (``tests/bench/results/identity_email_order.md``): the bench's draws 1081, 1212 and 2547 no longer differ;
no draw newly differs. Not covered: the same kind arriving B, C, A or B, A, C (C weighed against B's customer at its
join and kept apart; the rule tried for it, "form 3" in the results file, made draws 1132 and 2286 newly differ, and
the repairs tried made others differ), which stays a strict xfail in ``test_weigh_again_claimant.py``; nor every
interleaving of C, B, A (on 3 partitions 15 of 100 seeds still differ, 25 on main), nor a second browser that joined
C's customer before the claims (its record ranks the e-mail after C's: no mark).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from processors.identity.graph.context import recalls
from processors.identity.graph.customer_steps import Node, route
from processors.identity.graph.limits import member_rank
from processors.identity.graph.messages.base import Unweighed
from processors.identity.graph.messages.claims import MetClaimant
from processors.identity.graph.weigh_again import MAX_UNWEIGHED, propose


def brought_it(ctx: Node, key: str, held_at: int, rank: int) -> list[Unweighed]:
    """The marks to pass on with member ``key`` (its member rank here ``held_at``), which a claim whose event ranks
    ``rank`` takes (``claim_node.on_give``, after the member left): one per kept event (``CustomerState.unweighed``)
    that carried ``key`` with other identifiers this customer still holds, ranks after the claim's event, and brought
    ``key`` itself (``held_at`` is not below its rank at the rank of an event applied here, and no other kept event
    ranked ``key`` earlier). Each a copy of the record with ``left`` this customer and ``through`` ``key``; the records
    stay."""
    state = ctx.state
    applied = bool(held_at) and recalls(state.ranks_applied, str(held_at))
    return [msgspec.structs.replace(entry, left=ctx.key, through=key) for entry in state.unweighed
            if not entry.left and key in entry.ranks and rank < entry.ranks[key] and len(entry.ranks) > 1
            and not (applied and held_at < entry.ranks[key])
            and not any(0 < other.ranks.get(key, 0) < entry.ranks[key] for other in state.unweighed)
            and all(other in state.members for other in entry.ranks if other != key)]


def left_through(ctx: Node, key: str, rank: int) -> list[Unweighed]:
    """The marks this customer keeps (``met_the_claimant``) of events that met it through member ``key`` and rank after
    ``rank``, the event of a claim that takes ``key`` (``claim_node.on_give``), none of whose other identifiers this
    customer holds: dropped here, they go to the claimant with ``key`` (``Adopt.left``). In time order such an event
    met the claimant's customer through ``key``."""
    state = ctx.state
    taken = [entry for entry in state.unweighed if entry.through == key and rank < entry.ranks[key]
             and not any(other in state.members for other in entry.ranks if other != key)]
    state.unweighed = [entry for entry in state.unweighed if entry not in taken]
    return taken


def met_the_claimant(ctx: Node, key: str, marks: Iterable[Unweighed]) -> None:
    """This customer took member ``key`` by a claim, with the giver's marks (``brought_it``, ``left_through``). A mark
    whose event time order weighed here (one of its other identifiers planned before ``key``, or a member here ranked
    before the event planned before ``key``) is kept, for a later claim of ``key``; for any other, time order joined
    the event here unweighed: the customer it stayed on is told (``MetClaimant``)."""
    members = ctx.state.members
    for entry in marks:
        gone = sorted(other for other in entry.ranks if other != key)
        event = entry.ranks.get(key, 0)
        if not gone:
            continue
        if any(ctx.policy.plan_order([other, key])[0] == other for other in gone) or any(
                ctx.policy.plan_order([other, key])[0] == other for other, value in members.items()
                if other != key and 0 < member_rank(value) < event):
            kept = [other for other in ctx.state.unweighed if other.event_id != entry.event_id]
            ctx.state.unweighed = [*kept, entry][-MAX_UNWEIGHED:]
            continue
        ctx.send(entry.left, MetClaimant(key, entry))


def took(ctx: Node, event_id: str, key: str, rank: int) -> None:
    """This customer took member ``key`` (member rank ``rank``) by the claim of its event ``event_id``: the kept record
    of that event names ``key`` too, with that rank, as if the event had brought it here (a later claim of ``key`` by
    a still earlier event then reads that an earlier event brought it: ``weigh_again.claimed_away``)."""
    state = ctx.state
    state.unweighed = [msgspec.structs.replace(entry, ranks={**entry.ranks, key: rank})
                       if entry.event_id == event_id and key not in entry.ranks and not entry.left else entry
                       for entry in state.unweighed]


def on_met_claimant(ctx: Node, message: MetClaimant) -> None:
    """The claimant of ``message.identifier`` would have taken this customer's event unweighed in time order
    (``met_the_claimant``): if this customer holds none but that event's identifiers (nothing joined it since, and it
    merged into no other: forwarded to a survivor, it holds more), the event is kept as taken unweighed
    (``Unweighed``: decided again if an earlier member shows time order weighed it) and the pair is proposed again (a
    look-up-only proposal of the identifier and one of the event's, weighed as an offer, the limits checked; lineage
    rule ``co-observed``; its id a hash of the event and the customer it stayed on, the same on a redelivery)."""
    if not route(ctx, message):
        return
    entry, members = message.mark, ctx.state.members
    own = sorted(key for key in members if key in entry.ranks and key != message.identifier)
    if not own or any(key not in entry.ranks for key in members):
        return
    record = Unweighed(entry.event_id, entry.channel, entry.ranks, entry.traits)
    kept = [other for other in ctx.state.unweighed if other.event_id != entry.event_id]
    ctx.state.unweighed = [*kept, record][-MAX_UNWEIGHED:]
    propose(ctx, f"{entry.event_id}~{entry.left}", entry.channel, [message.identifier, own[0]])
