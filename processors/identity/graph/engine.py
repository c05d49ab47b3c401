"""Dispatch of protocol messages to node handlers, with deferral and same-node shortcuts.

``IdentityGraph.handle(store, node, message)`` runs one message (and everything it unblocks on the same
node) against a ``NodeStore`` and returns the outputs. States are never changed in place: a handler
works on a copy and writes it back through the store, so the caller can publish the outputs first and
only then make the new states durable (a crash in between replays the message on the old state).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from bus.serde import Event
from processors.identity.graph.outputs import Output, Send
from processors.identity.matching.blocking import is_block
from processors.identity.rules import LinkPolicy
from processors.profile.book import ProfileBook

State = dict[str, Any]
Message = dict[str, Any]

CUSTOMER_PREFIX = "cus_"
SHORT_HASH_CHARS = 12  # 48 bits: a collision inside one node's window of a few dozen tokens is negligible
# Deferred messages a node keeps in its state (``q``, their JSON size in ``qb``); beyond it they are parked
# on the graph topic and come back later. A state record must stay far below Kafka's 1 MiB
# (``message.max.bytes``): 10,000 events of a new customer in one batch queued ~5 MB on its identifier (#13).
MAX_DEFERRED_BYTES = 256 * 1024


def short_hash(token: str) -> str:
    return hashlib.blake2b(token.encode(), digest_size=SHORT_HASH_CHARS // 2).hexdigest()


class NodeStore(Protocol):
    def get_node(self, key: str) -> State | None: ...
    def put_node(self, key: str, state: State | None) -> None: ...
    def get_profile(self, key: str) -> State | None: ...
    def put_profile(self, key: str, profile: State | None) -> None: ...


def is_customer(key: str) -> bool:
    return key.startswith(CUSTOMER_PREFIX)


def thaw(state: State | None) -> State:
    """A copy of ``state`` whose containers can be changed without touching the stored value."""
    if not state:
        return {}
    return {k: (v.copy() if isinstance(v, dict | list) else v) for k, v in state.items()}


class Ctx:
    """One node while it handles one message."""

    def __init__(self, graph: IdentityGraph, store: NodeStore, key: str) -> None:
        self.graph, self.store, self.key = graph, store, key
        self.original = store.get_node(key)
        self.state = thaw(self.original)
        self.outputs: list[Output] = []
        self.unblocked: list[Message] = []

    @property
    def policy(self) -> LinkPolicy:
        return self.graph.policy

    def emit(self, *outputs: Output) -> None:
        self.outputs.extend(outputs)

    def send(self, node: str, message: Message) -> None:
        self.outputs.append(Send(node, message))

    def defer(self, message: Message) -> None:
        """Keep ``message`` until the node is released; when ``MAX_DEFERRED_BYTES`` are kept, park it on the
        topic instead (it returns after the messages already waiting, and is deferred again if still blocked)."""
        size = len(json.dumps(message, separators=(",", ":")))
        queued = self.state.setdefault("q", [])
        if queued and self.state.get("qb", 0) + size > MAX_DEFERRED_BYTES:
            self.outputs.append(Send(self.key, message, parked=True))
            return
        queued.append(message)
        self.state["qb"] = self.state.get("qb", 0) + size

    def release_queue(self) -> None:
        """Hand every deferred message back for handling on this node, oldest first."""
        self.state.pop("qb", None)
        self.unblocked.extend(self.state.pop("q", []))

    def remember(self, field: str, token: str, limit: int) -> None:
        """Add ``token`` to a bounded memory of recent tokens (kept as one string of short hashes)."""
        kept = self.state.get(field, "") + short_hash(token)
        self.state[field] = kept[-limit * SHORT_HASH_CHARS:]

    def recalls(self, field: str, token: str) -> bool:
        kept, wanted = self.state.get(field, ""), short_hash(token)
        return any(kept[i:i + SHORT_HASH_CHARS] == wanted for i in range(0, len(kept), SHORT_HASH_CHARS))

    def save(self) -> None:
        state = {k: v for k, v in self.state.items() if v not in (None, [], {}, False) or k == "init"}
        if state != (self.original or {}):
            self.store.put_node(self.key, state or None)


Handler = Callable[[Ctx, Message], None]


class IdentityGraph:
    def __init__(
        self, policy: LinkPolicy, book: ProfileBook, load_event: Callable[[dict[str, Any]], Event], *,
        dedupe_window: int = 16, clock: Callable[[], float] = time.time,
    ) -> None:
        from processors.identity.graph import blocking_node, customer_node, identifier_node, rank_node

        self.policy, self.book, self.load_event = policy, book, load_event
        self.dedupe_window, self.clock = dedupe_window, clock
        self._identifier_handlers: Mapping[str, Handler] = identifier_node.HANDLERS
        self._customer_handlers: Mapping[str, Handler] = {**customer_node.HANDLERS, **rank_node.HANDLERS}
        self._block_handlers: Mapping[str, Handler] = blocking_node.HANDLERS

    def handle(self, store: NodeStore, node: str, message: Message) -> list[Output]:
        """Handle ``message`` on ``node``; messages that come back to the same node are handled at once."""
        outputs: list[Output] = []
        work: deque[Message] = deque([message])
        while work:
            ctx = Ctx(self, store, node)
            current = work.popleft()
            if is_customer(node):
                handlers = self._customer_handlers
            else:
                handlers = self._block_handlers if is_block(node) else self._identifier_handlers
            handler = handlers.get(current.get("k", ""))
            if handler is None:
                raise ValueError(f"no handler for message kind {current.get('k')!r} on a {node[:4]} node")
            handler(ctx, current)
            ctx.save()
            for queued in reversed(ctx.unblocked):
                work.appendleft(queued)
            for output in ctx.outputs:
                if isinstance(output, Send) and output.node == node and not output.parked:
                    work.append(output.message)
                else:
                    outputs.append(output)
        return outputs
