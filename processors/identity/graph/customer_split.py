"""Some of a customer's members leave for a customer of their own (``split_off``): an operator's split
(``customer_node.on_split``), a login a household's mailbox placed alone (``login_leaves.py``), an event's identifiers
time order would have kept apart by weight (``weigh_again.py``). Here so that the deciding modules
``customer_node.py`` imports can use it too."""

from __future__ import annotations

from processors.identity.graph import elsewhere, handoff_moves, moved_off, split_contacts, split_traits
from processors.identity.graph.customer_steps import Node, assign
from processors.identity.graph.limits import reassigned
from processors.identity.graph.messages.commands import SplitInit
from processors.identity.graph.outputs import Split


def split_off(ctx: Node, moving: list[str], split: Split, at: int, *, apart: bool = True) -> None:
    """Move the members ``moving`` (some, not all) to the new customer ``split.new_id`` with the contacts that follow
    them, and announce ``split``; ``at``: the new customer's birth (µs). ``apart``: an operator's split keeps the two
    apart for good (``do_not_merge``); a login that leaves a household's mailbox (``logins.py``) waits for review."""
    state, new_id = ctx.state, split.new_id
    members = state.members
    versions = {key: reassigned(members.pop(key)) for key in moving}
    if apart:
        state.do_not_merge = sorted({*state.do_not_merge, new_id})
    moved_off.note_identifiers(state, versions, new_id)
    ctx.emit(split)
    assign(ctx, moving, versions, new_id, split.event_id, None)
    contacts, profile = split_contacts.hand_over(ctx, moving)
    handoff_moves.note_moved(ctx, contacts, new_id)  # the handoffs that followed a contact: their later events too
    traits = split_traits.at_split(ctx, profile)  # the matcher's summary divided as the names are
    # Kept apart from the source, and from every customer an operator split off the source before: the moved
    # identifiers were the source's when that split said they are not that customer's person (a rejected review's
    # entry stays the source's: ``CustomerState.rejected``, two people who may still share an identifier).
    kept = [ctx.key, *sorted(set(state.do_not_merge) - set(state.rejected) - {ctx.key, new_id})] if apart else []
    ctx.send(new_id, SplitInit(versions, kept, at, shared=sorted(set(state.shared) & set(moving)),
                               contacts=contacts, profile=profile, split_event_id=split.event_id, traits=traits,
                               elsewhere=elsewhere.at_split(ctx, moving), moved_off=moved_off.by_hand(state)))
