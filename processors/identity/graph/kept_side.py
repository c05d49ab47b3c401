"""An event kept apart on a side that held none of its identifiers before it is proposed again once an earlier event
brings one there (issue #8 point 5, "an earlier event arrives after a decision made from the ranks a side held then").

Bench draw 1428 cut to four calls: A ``{x0, u-0, e0}`` t0, B ``{x2, e1}`` t1, C ``{x2, e0}`` t2, D ``{x2, e1}`` t3.
In time order C meets B's customer ``{x2, e1}`` through ``x2`` and A's through ``e0``: an ``offer`` with ``x2`` on
both sides, weighed (+6.99 bits), merged: one customer. Arriving A, C, B, C's ``x2`` was new: its join at A's
customer was weighed (``u-0`` planned before ``e0``: ``customer_join.weighed_the_other_way``), a review, and ``x2``
made a customer of its own, which B joined. Arriving A, D, C, B, C's offer met D's ``{x2, e1}``, which held nothing
ranked before C (``event_side.held_after``): weighed as C's join, a review. Either way the side C was kept on held
none of C's identifiers at a rank before C's, and B, which gave it ``x2`` before C in time order, came after: nothing
decided C again.

The rule: where an event that told no person (no traits) is applied to a customer it was kept apart from another
through (``Apply.kept_apart``: the identifiers the other customer keeps), and none of its identifiers here ranks
before it (the side held nothing of it at its rank: a join's or ``event_side``'s decision), the decision is noted
(``KeptSide`` in ``CustomerState.kept_sides``, the latest ``MAX_KEPT``). Once an event applied here gives one of them
a rank before the noted event's (``applied``: the rank of an event applied here, ranks without their bands), in time
order the side held it when the event came, and the event met the two customers in an ``offer``: the pair is linked
again (``weigh_again.propose``: a look-up-only proposal, weighed as an offer, the limits checked; lineage rule
``co-observed``), and the note dropped. The pair is the side's first-planned identifier of the event and the kept
one, so the offer meets the second customer through the identifier time order's did (with the identifier whose rank
fell instead, the order bench's ``{x2, u-2, e1}`` ``{x9, e0}`` ``{x2, u-2, e0}`` merged arriving t1, t2, t0). An
applied event ranked before the noted one that was itself kept apart through the same identifier drops the note: in
time order it was weighed against the other customer first, and the noted event met a side already kept apart (a
login's repeat, ``{x9, e0}`` ``{x2, u-1, e0}`` ``{x2, u-1, e0}``).

Told events are not noted: their weighing read their traits, and with them the quality bench announced ten more
refusals and one more review (the proposal's offer weighed the pair again). Not moved at a merge (as
``late_joins``); the review the first decision requested stays open. Not covered: a proposal decided on the events
arrived so far is not taken back when a still earlier event changes the other side (the order bench's ``{x0, e0}``
``{x2, e1}`` ``{e0, u-1}`` ``{x2, e0}``: the proposal merged ``{x2, e1}`` with ``{e0, u-1}`` before ``{x0, e0}`` t0
claimed ``e0``, 28 -> 30 of 120 replays), and an interleaving where a message of the earlier event overtakes the note.
Measured: ``tests/bench/results/identity_email_order.md`` (branch order47); ``test_kept_side_order.py``.
"""

from __future__ import annotations

from processors.identity.graph.context import recalls
from processors.identity.graph.customer_steps import Node
from processors.identity.graph.limits import BANDS, member_rank
from processors.identity.graph.messages.steps import Apply
from processors.identity.graph.state import CustomerState, KeptSide
from processors.identity.graph.weigh_again import propose

MAX_KEPT = 4  # kept-apart events a customer remembers, the latest
TOKEN_PREFIX = "again~side~"  # the id of a pair linked again here: a hash of the event, no identifier value


def note(ctx: Node, message: Apply) -> None:
    """The event of ``message``, applied here, was kept apart from another customer through ``kept_apart``: noted
    when none of its identifiers held here ranks before it (module docstring)."""
    state = ctx.state
    rank = message.rank & BANDS
    kept = [key for key in message.kept_apart if key not in state.members]
    ids = sorted({key for key in message.carried or message.ids or message.linked if key in state.members})
    if message.traits or not rank or not kept or not ids:
        return  # a told event was weighed on its traits (module docstring)
    if any(0 < member_rank(state.members[key]) & BANDS < rank for key in ids):
        return  # the side held some of it before it: an offer's side
    _keep(state, KeptSide(message.event_id, message.channel, rank, ids, kept[0]))


def _keep(state: CustomerState, entry: KeptSide) -> None:
    state.kept_sides = [*[other for other in state.kept_sides if other.event_id != entry.event_id], entry][-MAX_KEPT:]


def applied(ctx: Node, message: Apply) -> None:
    """At the apply of ``message``: each noted event one of whose identifiers here now ranks before it at the rank of
    an event applied here: the pair (that identifier, the one the other customer keeps) is proposed again, the note
    dropped. A note is dropped unproposed where the applied event ranks before it and was itself kept apart through
    the same identifier (``Apply.kept_apart``): in time order that event was weighed against the other customer
    first, and the noted one met a side kept apart from it."""
    state = ctx.state
    rank = message.rank & BANDS
    state.kept_sides = [entry for entry in state.kept_sides
                        if not (0 < rank < entry.rank and entry.kept in message.kept_apart)]
    for entry in list(state.kept_sides):
        early = [key for key in entry.ids if key in state.members
                 and 0 < (held_at := member_rank(state.members[key]) & BANDS) < entry.rank
                 and recalls(state.ranks_applied, str(held_at))]
        if early:
            state.kept_sides = [other for other in state.kept_sides if other != entry]
            held = ctx.policy.plan_order([key for key in entry.ids if key in state.members])
            propose(ctx, entry.event_id, entry.channel, [held[0], entry.kept], TOKEN_PREFIX)
