"""A partition processed twice announces each decision once: one event id, one content (``processors.verify.effects``).

What a takeover does to a graph partition, played in one process: a worker handles a stretch of a partition's
messages and publishes what they decide, then loses the partition before it acknowledged them (fenced out after a
pause, or a rebalance during its publish, ``processors/identity/graph_agent.py``). The next owner restores the
partition's states as its changelog holds them, which is where any batch of the stretch left them (none written:
the state before the stretch; some: ahead of the committed offset), and handles the whole stretch again, first;
what the first worker published stands. Fast-path messages applied at intake (``apply_here.py``) are handled at
once, ahead of the partition's queue and so of its replay.

Every ``CustomerCreated`` and ``CustomerMerged`` the two processings announce must then carry one event id per
customer created or merged away, and copies of one event id the same content: the pause test's verifier check
(``tests/processors/identity/test_pause.py``), here on the protocol alone, without a broker.
"""

from __future__ import annotations

import copy
import random
import zlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

from processors.identity.fastpath import AssignmentView
from processors.identity.graph.local import LocalGraph, MemoryStore
from processors.identity.graph.messages.steps import Fast
from processors.identity.graph.outputs import Created, Merged, Output, Send
from processors.identity.graph.split_contacts import KEY_SEPARATOR
from tests.processors.identity.support import Harness, unlimited_settings
from tests.processors.identity.test_agent import workload


class UndoStore(MemoryStore):
    """A ``MemoryStore`` that remembers, per partition, each write since the last commit and the value it replaced."""

    def __init__(self, partitions: int) -> None:
        super().__init__()
        self.partitions = partitions
        self.undo: list[list[tuple[int, str, str, Any]]] = [[] for _ in range(partitions)]
        self.handled = [0] * partitions  # the partition's messages handled since its last commit

    def _note(self, table: str, key: str) -> None:
        node = key.split(KEY_SEPARATOR)[0] if table == "contacts" else key  # a contact record: its customer's
        partition = zlib.crc32(node.encode()) % self.partitions
        self.undo[partition].append((self.handled[partition], table, key, copy.deepcopy(getattr(self, table).get(key))))

    def put_node(self, key: str, state: Any) -> None:
        self._note("nodes", key)
        super().put_node(key, state)

    def put_profile(self, key: str, profile: Any) -> None:
        self._note("profiles", key)
        super().put_profile(key, profile)

    def put_contact(self, key: str, record: Any) -> None:
        self._note("contacts", key)
        super().put_contact(key, record)

    def restore(self, partition: int, written: int, straddling: int = 0,
                keep: Callable[[str, str], bool] = lambda table, key: False) -> None:
        """The partition's states as its changelog holds them: the writes of its first ``written`` messages since the
        commit kept; of the next ``straddling`` ones, those ``keep`` (table, key) names (a restore in part:
        ``test_partial_restore``); the later ones undone."""
        for handled, table, key, old in reversed(self.undo[partition]):
            if handled < written:
                break
            if handled < written + straddling and keep(table, key):
                continue
            if old is None:
                getattr(self, table).pop(key, None)
            else:
                getattr(self, table)[key] = old
        self.commit(partition)

    def commit(self, partition: int) -> None:
        self.undo[partition], self.handled[partition] = [], 0


class TakenOver(LocalGraph):
    """``LocalGraph`` whose partitions are taken over now and then (``takeover``: chance after a message) or commit
    (``commit``); a fast-path message is handled at once (``apply_here``)."""

    def __init__(self, *args: Any, takeover: float, commit: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store: UndoStore = UndoStore(self.partitions)
        self.since_commit: list[list[tuple[str, Any]]] = [[] for _ in range(self.partitions)]
        self.takeover, self.commit = takeover, commit
        self.takeovers = 0

    def submit(self, outputs: list[Output]) -> None:
        for output in outputs:
            if isinstance(output, Send) and isinstance(output.message, Fast):
                super().submit(self.graph.handle(self.store, output.node, output.message))
            else:
                super().submit([output])

    def step(self) -> bool:
        assert self.rng is not None
        ready = [index for index, queue in enumerate(self.queues) if queue]
        if not ready:
            return False
        partition = self.rng.choice(ready)
        node, message = self.queues[partition].popleft()
        self.store.handled[partition] = len(self.since_commit[partition])
        self.since_commit[partition].append((node, message))
        self.delivered += 1
        self.submit(self.graph.handle(self.store, node, message))
        draw = self.rng.random()
        if draw < self.takeover:
            self.takeovers += 1
            self.restore(partition)
            self.queues[partition].extendleft(reversed(self.since_commit[partition]))  # replayed first
            self.since_commit[partition] = []
        elif draw < self.takeover + self.commit:
            self.store.commit(partition)
            self.since_commit[partition] = []
        return True

    def restore(self, partition: int) -> None:
        """The partition's states as the next owner restores them: where a random batch since the commit left them."""
        assert self.rng is not None
        self.store.restore(partition, self.rng.randint(0, len(self.since_commit[partition])))


def announced(decisions: list[Output]) -> tuple[dict[str, set[str]], dict[str, set[tuple[Any, ...]]]]:
    """Event ids per decision (a customer created, a customer merged away), and contents per event id."""
    ids: dict[str, set[str]] = defaultdict(set)
    contents: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    for output in decisions:
        if isinstance(output, Created):
            ids[f"{output.customer_id} created"].add(output.event_id)
            contents[output.event_id].add((output.identifiers, output.lineage))
        elif isinstance(output, Merged):
            ids[f"{output.merged_id} merged away"].add(output.event_id)
            contents[output.event_id].add((output.survivor_id, output.moved, output.match_weight, output.lineage))
    return ids, contents


def drive(harness: Harness, local: TakenOver, seed: int) -> None:
    """``test_agent``'s workload fed to ``harness`` with ``local``'s steps between events (as many as ``seed``'s draws
    say), then run until quiet; more than ten takeovers asserted."""
    rng = random.Random(seed)
    for topic, event in workload(size=240, universe=60, seed=13 + seed):
        harness.feed(event, topic=topic, settle=False)
        for _ in range(rng.randint(0, 12)):
            local.step()
    local.run()
    assert local.takeovers > 10


@pytest.mark.parametrize("seed", range(3))
def test_a_partition_replayed_from_its_restored_state_announces_each_decision_once(seed: int) -> None:
    harness = Harness(unlimited_settings(), partitions=4, seed=seed, view=AssignmentView())
    harness.local = local = TakenOver(harness.local.graph, partitions=4, rng=random.Random(seed), takeover=0.02,
                                      commit=0.03)
    drive(harness, local, seed)
    ids, contents = announced(local.decisions)
    assert any(name.endswith("merged away") for name in ids), "the workload must merge customers"
    assert {name: found for name, found in ids.items() if len(found) > 1} == {}
    assert {found: seen for found, seen in contents.items() if len(seen) > 1} == {}
