"""Identifier nodes: who owns the identifier, whether it is shared, and who has reserved it.

State (fields left out when empty): ``o`` owner customer id, ``v`` version of that assignment,
``lk`` the event id of the saga that reserved this new identifier, ``q`` messages waiting for the
reservation to end, ``sh`` shared flag (hard limit ``shared_after``), ``as`` other customers it was
refused with, ``r`` short hashes of the last events that ended their phase 1 here or reserved this
identifier (the dedupe window).
"""

from __future__ import annotations

import sys

from processors.identity.graph.engine import Ctx, Message
from processors.identity.graph.limits import saga_rank
from processors.identity.graph.outputs import Lineage, Refused, SharedMarked, Unassigned
from processors.identity.graph.saga import NEW, SHARED, UNKNOWN, advance, copy_saga, lineage
from processors.identity.rules import MAX_PER_CUSTOMER, SHARED_IDENTIFIER, kind_of


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
    # An owner can evict a limited identifier (limits.py): a late copy of a saga that found it owned must
    # not reserve it once it belongs to nobody (the copy dies at the last node and would never release it).
    evictable = bool(state.get("o")) and ctx.policy.limit(kind_of(ctx.key)) is not None
    if last or evictable:
        # The last node drops a second copy of the event (or of its saga) before phase 2 could run it
        # twice; reserved nodes remember it below, so a copy never reserves anything a second time.
        ctx.remember("r", event_id, ctx.graph.dedupe_window)
    _lower_rank(ctx, saga)
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
        if not (last or evictable):
            ctx.remember("r", event_id, ctx.graph.dedupe_window)
        saga["seen"][ctx.key] = NEW
        if state.get("f") is not None:  # the root ranks it by the earliest event that carried it
            saga.setdefault("nr", {})[ctx.key] = state["f"]
        if state.get("v"):  # evicted before: the next assignment must supersede the eviction
            saga.setdefault("nv", {})[ctx.key] = state["v"]
    saga["i"] += 1
    if saga["i"] < len(saga["ids"]):
        ctx.send(saga["ids"][saga["i"]], {"k": "visit", "saga": saga})
        return
    saga["plan"] = ctx.policy.plan_order(saga["ids"])
    ctx.emit(*advance(saga, ctx.policy))


def _lower_rank(ctx: Ctx, saga: dict) -> None:
    """Keep the smallest rank of the events that carried a limited identifier; tell its owner when it drops."""
    if ctx.policy.limit(kind_of(ctx.key)) is None:
        return
    state, rank = ctx.state, saga_rank(saga)
    known = state.get("f")
    if known is not None and rank >= known:
        return
    state["f"] = rank
    if known is not None and state.get("o"):
        ctx.send(state["o"], {"k": "rekey", "id": ctx.key, "r": rank})


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


def on_evict(ctx: Ctx, message: Message) -> None:
    """Customer ``c`` gives this identifier up to keep its limit (it ranked it ``r``).

    Accepted, the identifier belongs to nobody, like a refused new one. If an event with a smaller
    rank visited it meanwhile, the root decided on a stale rank: ask it to decide again (``rejoin``).
    """
    state = ctx.state
    if message["v"] <= state.get("v", 0):
        return  # a duplicate, or an eviction a later assignment superseded
    if state.get("f") is not None and state["f"] < message["r"]:
        token = f"{ctx.key}@{message['v']}@{state['f']}"
        ctx.send(message["c"], {"k": "rejoin", "id": ctx.key, "r": state["f"], "v": message["v"],
                                "e": message["e"], "ch": message["ch"], "tok": token})
        return
    state.pop("o", None)
    state["v"] = message["v"]
    associate(ctx, message["c"])  # like a refused new identifier: it was refused with that customer
    ctx.emit(Refused(ctx.key, message["why"], Lineage(message["e"], message["ch"], MAX_PER_CUSTOMER),
                     customer_id=message["c"], evicted=True), Unassigned(ctx.key, message["v"]))


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


HANDLERS = {"visit": on_visit, "assign": on_assign, "release": on_release, "note": on_note, "evict": on_evict}
