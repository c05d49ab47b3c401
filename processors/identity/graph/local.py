"""The protocol run in one process: a FIFO per partition, delivered in any interleaving.

Used by the unit tests (convergence under every order), the benchmark and offline replays. Kafka
keeps order per partition and nothing across partitions; so does this, when ``rng`` picks the next
partition to deliver from.
"""

from __future__ import annotations

import random
import zlib
from collections import deque
from typing import Any, TypeVar

from processors.identity.graph import split_contacts
from processors.identity.graph.engine import IdentityGraph
from processors.identity.graph.messages import AnyMessage, ContactRecord
from processors.identity.graph.outputs import Output, Send
from processors.identity.graph.state import CustomerState, IdentifierState, NodeState
from processors.profile.book import ProfileState

V = TypeVar("V")


class MemoryStore:
    """Node states, profiles and contact records as objects in three dicts (the handlers' copies, never encoded)."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeState] = {}
        self.profiles: dict[str, ProfileState] = {}
        self.contacts: dict[str, ContactRecord] = {}

    def get_node(self, key: str) -> NodeState | None:
        return self.nodes.get(key)

    def put_node(self, key: str, state: NodeState | None) -> None:
        _put(self.nodes, key, state)

    def get_profile(self, key: str) -> ProfileState | None:
        return self.profiles.get(key)

    def put_profile(self, key: str, profile: ProfileState | None) -> None:
        _put(self.profiles, key, profile)

    def get_contact(self, key: str) -> ContactRecord | None:
        return self.contacts.get(key)

    def put_contact(self, key: str, record: ContactRecord | None) -> None:
        _put(self.contacts, key, record)


def _put(values: dict[str, V], key: str, value: V | None) -> None:
    """``value`` under ``key``; None deletes it."""
    if value is None:
        values.pop(key, None)
    else:
        values[key] = value


class LocalGraph:
    def __init__(
        self, graph: IdentityGraph, *, partitions: int = 1, rng: random.Random | None = None, duplicates: float = 0.0,
    ) -> None:
        """``duplicates``: chance that a delivered message is delivered again later (at-least-once)."""
        self.graph = graph
        self.duplicates = duplicates
        self.store = MemoryStore()
        self.partitions = partitions
        self.rng = rng
        self.queues: list[deque[tuple[str, AnyMessage]]] = [deque() for _ in range(partitions)]
        self.decisions: list[Output] = []
        self.delivered = 0

    def partition(self, node: str) -> int:
        return zlib.crc32(node.encode()) % self.partitions

    def submit(self, outputs: list[Output]) -> None:
        for output in outputs:
            if isinstance(output, Send):
                self.queues[self.partition(output.node)].append((output.node, output.message))
            else:
                self.decisions.append(output)

    def step(self) -> bool:
        """Deliver one message; False when every queue is empty."""
        ready = [q for q in self.queues if q]
        if not ready:
            return False
        queue = self.rng.choice(ready) if self.rng else ready[0]
        node, message = queue.popleft()
        if self.duplicates and self.rng and self.rng.random() < self.duplicates:
            queue.append((node, message))
        self.delivered += 1
        self.submit(self.graph.handle(self.store, node, message))
        return True

    def run(self, limit: int = 10_000_000) -> None:
        for _ in range(limit):
            if not self.step():
                return
        raise RuntimeError(f"the graph did not settle within {limit} messages")

    # --- reading the settled graph ------------------------------------------------------------------

    def roots(self) -> dict[str, CustomerState]:
        return {k: s for k, s in self.store.nodes.items()
                if isinstance(s, CustomerState) and s.created and not s.parent}

    def clusters(self) -> set[frozenset[str]]:
        return {frozenset(state.members) for state in self.roots().values() if state.members}

    def customer_of(self, identifier: str) -> str | None:
        node = self.store.nodes.get(identifier)
        owner = node.owner if isinstance(node, IdentifierState) else None
        while owner is not None and isinstance(parent := self.store.nodes.get(owner), CustomerState) and parent.parent:
            owner = parent.parent
        return owner

    def check_consistent(self) -> None:
        """Settled-state invariants: no locks or waiting messages; owners and member lists agree."""
        members: dict[str, str] = {}
        for root, state in self.roots().items():
            for key in state.members:
                assert key not in members, f"{key} is a member of {members[key]} and {root}"
                members[key] = root
        for key, node in self.store.nodes.items():
            if isinstance(node, IdentifierState):
                assert not node.reserved_by and not node.waiting, f"{key} still locked or waiting: {node}"
                if node.owner:
                    assert members.get(key) == self.customer_of(key), f"{key}: owner and members disagree"
            elif isinstance(node, CustomerState):
                assert not node.lock and not node.waiting, f"{key} still locked or waiting: {node}"
                assert node.created, f"customer stub {key} never created"
        for key in members:
            assert self.customer_of(key) == members[key], f"{key} owner does not resolve to its root"
        indexed = {contact for key, node in self.store.nodes.items() if isinstance(node, CustomerState)
                   for contact in split_contacts.keys_of(key, node.contact_index)}
        assert indexed == set(self.store.contacts), "contact records and the customers' indexes disagree"

    def summary(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "nodes": len(self.store.nodes), "customers": len(self.roots())}
