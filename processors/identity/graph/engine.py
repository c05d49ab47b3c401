"""Dispatch of protocol messages to node handlers, with deferral and same-node shortcuts.

``IdentityGraph.handle(store, node, message)`` runs one message (and everything it unblocks on the same
node) against a ``NodeStore`` and returns the outputs. States are never changed in place: a handler
works on a copy (``state.thaw``) and writes it back through the store, so the caller can publish the
outputs first and only then make the new states durable (a crash in between replays the message on the
old state). The node modules import ``context``, never this module: no import cycle.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from bus.serde import Event
from processors.identity.graph import (
    blocking_node,
    claim_node,
    customer_node,
    fast_node,
    handoff_moves,
    held_before,
    household_call,
    identifier_node,
    late_owner,
    move_contact,
    rank_node,
    recycle,
    release,
    seek,
    versions,
    weigh_again_claimant,
)
from processors.identity.graph.context import (
    CUSTOMER_PREFIX,
    Ctx,
    GraphConfig,
    NodeStore,
    is_customer,
    short_hash,
)
from processors.identity.graph.messages import AnyMessage, GiveBack, HeldBefore, HeldUntil, kind
from processors.identity.graph.messages.base import EventRef
from processors.identity.graph.messages.claims import Adopt, Claim, Closed, Give, MetClaimant, Recycle
from processors.identity.graph.messages.commands import (
    Disown,
    MoveContact,
    ReleaseIdentifier,
    Relinquish,
    SplitCustomer,
    SplitInit,
    TakeContact,
)
from processors.identity.graph.messages.steps import (
    Apply,
    Assign,
    AwaitOwner,
    Block,
    Create,
    Evict,
    Fast,
    HandoffPlaced,
    HouseholdCall,
    Join,
    Link,
    Note,
    Offer,
    OfferResult,
    Placed,
    Rejoin,
    Rekey,
    Release,
    Seek,
    Shared,
    Unblock,
    Visit,
)
from processors.identity.graph.outputs import Output, Send
from processors.identity.graph.state import BlockState, CustomerState, IdentifierState, NodeState, S
from processors.identity.matching.blocking import is_block
from processors.identity.rules import LinkPolicy, kind_of
from processors.profile.book import ProfileBook

__all__ = ["CUSTOMER_PREFIX", "IdentityGraph", "NodeStore", "is_customer", "short_hash"]


def _stored(state: NodeState | None, expected: type[S], node: str) -> S | None:
    if state is not None and not isinstance(state, expected):
        shown = node if is_customer(node) else kind_of(node) + ":…"  # an identifier's kind, never its value
        raise ValueError(f"node {shown} holds a {type(state).__name__}, not a {expected.__name__}")
    return state


def _on_identifier(ctx: Ctx[IdentifierState], message: AnyMessage) -> None:
    match message:
        case Visit():
            identifier_node.on_visit(ctx, message)
        case Assign():
            identifier_node.on_assign(ctx, message)
        case Release():
            identifier_node.on_release(ctx, message)
        case Note():
            identifier_node.on_note(ctx, message)
        case Evict():
            identifier_node.on_evict(ctx, message)
        case Claim():
            claim_node.on_claim(ctx, message)
        case Relinquish():
            release.on_relinquish(ctx, message)
        case Disown():
            release.on_disown(ctx, message)
        case Seek():
            seek.on_seek_identifier(ctx, message)
        case HouseholdCall():
            household_call.on_identifier(ctx, message)
        case Placed():
            versions.on_placed(ctx, message)
        case AwaitOwner():
            late_owner.on_await_owner(ctx, message)
        case Closed():
            recycle.on_closed(ctx, message)
        case Recycle():
            recycle.on_recycle(ctx, message)
        case HeldBefore():
            held_before.on_held_before(ctx, message)
        case HeldUntil():
            held_before.on_held_until(ctx, message)
        case HandoffPlaced():
            handoff_moves.on_placed_identifier(ctx, message)
        case _:
            raise ValueError(f"no handler for message kind {kind(message)!r} on an identifier node")


def _on_customer(ctx: Ctx[CustomerState], message: AnyMessage) -> None:
    match message:
        case Join():
            customer_node.on_join(ctx, message)
        case Link():
            customer_node.on_link(ctx, message)
        case Offer():
            customer_node.on_offer(ctx, message)
        case OfferResult():
            customer_node.on_offer_result(ctx, message)
        case Create():
            customer_node.on_create(ctx, message)
        case Apply():
            customer_node.on_apply(ctx, message)
        case SplitCustomer():
            customer_node.on_split(ctx, message)
        case SplitInit():
            customer_node.on_split_init(ctx, message)
        case MoveContact():
            move_contact.on_move_contact(ctx, message)
        case TakeContact():
            move_contact.on_take_contact(ctx, message)
        case ReleaseIdentifier():
            release.on_release_identifier(ctx, message)
        case Rekey():
            rank_node.on_rekey(ctx, message)
        case Rejoin():
            rank_node.on_rejoin(ctx, message)
        case Fast():
            fast_node.on_fast(ctx, message)
        case Shared():
            fast_node.on_shared(ctx, message)
        case Give():
            claim_node.on_give(ctx, message)
        case Adopt():
            claim_node.on_adopt(ctx, message)
        case Seek():
            seek.on_seek_customer(ctx, message)
        case HouseholdCall():
            household_call.on_customer(ctx, message)
        case HandoffPlaced():
            handoff_moves.on_placed(ctx, message)
        case GiveBack():
            held_before.on_give_back(ctx, message)
        case MetClaimant():
            weigh_again_claimant.on_met_claimant(ctx, message)
        case _:
            raise ValueError(f"no handler for message kind {kind(message)!r} on a customer node")


def _on_block(ctx: Ctx[BlockState], message: AnyMessage) -> None:
    match message:
        case Block():
            blocking_node.on_block(ctx, message)
        case Unblock():
            blocking_node.on_unblock(ctx, message)
        case _:
            raise ValueError(f"no handler for message kind {kind(message)!r} on a blocking node")


class IdentityGraph:
    def __init__(
        self, policy: LinkPolicy, book: ProfileBook, load_event: Callable[[EventRef], Event], *,
        dedupe_window: int = 16, clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = GraphConfig(policy, book, load_event, dedupe_window, clock)
        self.policy, self.book, self.load_event = policy, book, load_event

    def _run(self, store: NodeStore, node: str, message: AnyMessage) -> Ctx[IdentifierState] | Ctx[
            CustomerState] | Ctx[BlockState]:
        stored = store.get_node(node)
        if is_customer(node):
            customer = self._ctx(store, node, _stored(stored, CustomerState, node), CustomerState)
            _on_customer(customer, message)
            return customer
        if is_block(node):
            block = self._ctx(store, node, _stored(stored, BlockState, node), BlockState)
            _on_block(block, message)
            return block
        identifier = self._ctx(store, node, _stored(stored, IdentifierState, node), IdentifierState)
        _on_identifier(identifier, message)
        return identifier

    def _ctx(self, store: NodeStore, node: str, original: S | None, fresh: type[S]) -> Ctx[S]:
        """``node``'s ``Ctx``; an empty state of type ``fresh`` is built only for a node without one: most messages
        go to a stored node, and an empty ``CustomerState`` is 17 new lists and dicts (#9)."""
        return Ctx(self.config, store, node, original, fresh() if original is None else original)

    def handle(self, store: NodeStore, node: str, message: AnyMessage) -> list[Output]:
        """Handle ``message`` on ``node``; messages that come back to the same node are handled at once.

        Raises ``ValueError`` for a message kind the node's type does not take.
        """
        outputs: list[Output] = []
        work: deque[AnyMessage] = deque([message])
        while work:
            ctx = self._run(store, node, work.popleft())
            ctx.save()
            for queued in reversed(ctx.unblocked):
                work.appendleft(queued)
            for output in ctx.outputs:
                if isinstance(output, Send) and output.node == node and not output.parked:
                    work.append(output.message)
                else:
                    outputs.append(output)
        return outputs
