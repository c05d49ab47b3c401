"""The graph agent's changelog versions (bus.fencing): never below what the worker already wrote."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bus.fencing import AssignmentFence
from processors.identity.graph_agent import GraphAgent
from processors.identity.graph_progress import GraphProgress
from processors.identity.state_writes import StateWrites
from processors.identity.wire import encode_record, partition_of
from tests.processors.identity.support import unlimited_settings
from tests.processors.identity.test_apply_here import GRAPH, ROOT, Producer, Publisher, repeat_contact


class Graph:
    def handle(self, store: Any, node: str, message: Any) -> list[Any]:
        store.put_node(node, None)
        return []


class Store:
    def __init__(self) -> None:
        self.versions: list[int] = []

    def get_node(self, key: str) -> None:
        return None

    def put_node(self, key: str, state: Any) -> None:
        pass

    def drain_changelog(self, version: int) -> list[Any]:
        self.versions.append(version)
        return []

    def done_markers(self, records: list[Any]) -> list[Any]:
        return []


async def _started() -> None:
    pass


async def _crash(agent: str, exc: Exception) -> None:
    raise exc


async def test_a_batch_fetched_before_a_rebalance_and_written_after_it_is_versioned_by_the_generation_now() -> None:
    partition = partition_of(ROOT, 4)
    store = Store()
    agent = GraphAgent(unlimited_settings(), Graph(), store, Publisher(), Producer(), None,  # type: ignore[arg-type]
                       AssignmentFence(lambda: {(GRAPH, partition)}, "test-graph-agent"), GraphProgress(),
                       StateWrites(), lambda: 5, _started, _crash)
    send = repeat_contact()
    message = SimpleNamespace(key=ROOT.encode(), value=encode_record([(send.node, send.message)]), topic=GRAPH,
                              partition=partition, offset=7, generation_id=4)  # still in faust's buffer
    await agent.batch([SimpleNamespace(message=message)])  # type: ignore[list-item]
    # Under 4, after what the worker wrote under 5 (a repeat contact applied at intake), a restore would skip it.
    assert store.versions == [5]
