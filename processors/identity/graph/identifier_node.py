"""Identifier nodes: who owns the identifier, whether it is shared, and who has reserved it.

State (fields left out when empty): ``o`` owner customer id, ``v`` version of that assignment,
``lk`` the event id of the saga that reserved this new identifier, ``q`` messages waiting for the
reservation to end, ``sh`` shared flag (hard limit ``shared_after``), ``as`` other customers it was refused with, ``r`` short hashes
of the last events that ended their phase 1 here or reserved this identifier (the dedupe window).
"""

from __future__ import annotations

import sys

from processors.identity.graph.engine import Ctx, Message
from processors.identity.graph.outputs import Refused, SharedMarked
from processors.identity.graph.saga import NEW, SHARED, UNKNOWN, advance, copy_saga, lineage
from processors.identity.rules import SHARED_IDENTIFIER, kind_of


def on_visit(ctx: Ctx, message: Message) -> None:
    """Phase 1: read the owner (or reserve a new identifier), then visit the next identifier."""
    saga = copy_saga(message["saga"])
    event_id, state = saga["e"], ctx.state
    if state.get("lk") == event_id:
        return  # a duplicate of a saga that already passed here
    if state.get("lk"):
        ctx.defer(message)
        return
    if ctx.recalls("r", event_id):
        # The same event again (its saga started or reserved here before, within the window): a copy
        # of a saga that is already past this node, which must not reserve anything a second time.
        return
    last = saga["i"] == len(saga["ids"]) - 1
    if last:
        # The last node drops a second copy of the event (or of its saga) before phase 2 could run it
        # twice; reserved nodes remember it below, so a copy never reserves anything a second time.
        ctx.remember("r", event_id, ctx.graph.dedupe_window)
    if state.get("sh"):
        saga["seen"][ctx.key] = SHARED
        ctx.emit(Refused(ctx.key, f"{kind_of(ctx.key)} is shared by several customers and no longer links",
                         lineage(saga, SHARED_IDENTIFIER), customer_id=state.get("o")))
    elif state.get("o"):
        saga["seen"][ctx.key] = state["o"]
    elif ctx.key in saga.get("lo", ()):
        saga["seen"][ctx.key] = UNKNOWN  # an alias's previous id nobody owns: never reserved nor created
    else:
        state["lk"] = event_id
        if not last:
            ctx.remember("r", event_id, ctx.graph.dedupe_window)
        saga["seen"][ctx.key] = NEW
    saga["i"] += 1
    if saga["i"] < len(saga["ids"]):
        ctx.send(saga["ids"][saga["i"]], {"k": "visit", "saga": saga})
        return
    saga["plan"] = ctx.policy.plan_order(saga["ids"])
    ctx.emit(*advance(saga, ctx.policy))


def on_assign(ctx: Ctx, message: Message) -> None:
    """The identifier's customer changed (created, linked, merged, split); may end a reservation."""
    state = ctx.state
    if message["v"] > state.get("v", 0):
        # Interned: every identifier of a customer shares one copy of its id in memory.
        state["o"], state["v"] = sys.intern(message["o"]), message["v"]
        associate(ctx, None)
    _end_reservation(ctx, message.get("tok"))


def on_release(ctx: Ctx, message: Message) -> None:
    """The reserving saga did not link this new identifier: it stays unowned."""
    if message.get("with"):
        associate(ctx, message["with"])
    _end_reservation(ctx, message["tok"])


def on_note(ctx: Ctx, message: Message) -> None:
    """A link through this identifier to customer ``with`` was refused."""
    associate(ctx, message["with"])


def _end_reservation(ctx: Ctx, token: str | None) -> None:
    if token is not None and ctx.state.get("lk") == token:
        ctx.state["lk"] = None
        ctx.release_queue()


def associate(ctx: Ctx, other: str | None) -> None:
    """Count the customers this identifier was seen with; past the type's threshold it is shared."""
    state = ctx.state
    owner = state.get("o")
    others = [c for c in state.get("as", []) if c != owner]
    if other and other != owner and other not in others:
        others.append(other)
    kind = kind_of(ctx.key)
    customers = len(others) + (1 if owner else 0)
    if not state.get("sh") and ctx.policy.is_shared(kind, customers):
        state["sh"] = True
        ctx.emit(SharedMarked(ctx.key, customers))
    state["as"] = others[: ctx.policy.shared_limit(kind) + 1]


HANDLERS = {"visit": on_visit, "assign": on_assign, "release": on_release, "note": on_note}
