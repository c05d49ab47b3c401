"""The graph agent's changelog versions (bus.fencing): never below what the worker already wrote."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bus import registry_outage
from bus.errors import SchemaRegistryError
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


class Letters:
    def __init__(self) -> None:
        self.written: list[str] = []

    async def write(self, record: Any, *, reason: str, error_type: str) -> None:
        self.written.append(reason)


class RecordingStore(Store):
    def __init__(self) -> None:
        super().__init__()
        self.puts: list[str] = []

    def put_node(self, key: str, state: Any) -> None:
        self.puts.append(key)


class OutageGraph:
    """Writes its node, then decodes a stored event (``intake.RefLoader``) whose registry does not answer the first
    ``failures`` times."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0

    def handle(self, store: Any, node: str, message: Any) -> list[Any]:
        self.calls += 1
        store.put_node(node, None)
        if self.calls <= self.failures:
            raise SchemaRegistryError("schema registry at http://r unreachable", retriable=True)
        return []


async def test_a_graph_message_whose_stored_event_meets_a_registry_outage_waits_and_is_not_dead_lettered(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A handler that decodes a stored event again (a merge moving contacts, the announcer) dead-lettered its graph
    message while the registry was down (``graph handler failed``): that customer's protocol step was lost. Now the
    handler runs again on a fresh copy of the batch's state once the registry answers; its half-done first run
    leaves nothing behind."""
    slept: list[float] = []

    async def no_wait(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(registry_outage.asyncio, "sleep", no_wait)
    partition = partition_of(ROOT, 4)
    store, graph, letters = RecordingStore(), OutageGraph(failures=2), Letters()
    agent = GraphAgent(unlimited_settings(), graph, store, Publisher(), Producer(), letters,  # type: ignore[arg-type]
                       AssignmentFence(lambda: {(GRAPH, partition)}, "test-graph-agent"), GraphProgress(),
                       StateWrites(), lambda: 5, _started, _crash)
    send = repeat_contact()
    message = SimpleNamespace(key=ROOT.encode(), value=encode_record([(send.node, send.message)]), topic=GRAPH,
                              partition=partition, offset=7, generation_id=5)
    await agent.batch([SimpleNamespace(message=message)])  # type: ignore[list-item]
    waits = [seconds for seconds in slept if seconds > 0]  # the changelog hand-over sleeps 0
    assert (letters.written, graph.calls, waits) == ([], 3, [registry_outage.FIRST_DELAY_S])  # 1st: the sync try
    assert store.puts == [ROOT]  # the state of the run that got its answer, once
    assert not registry_outage.OUTAGE.ongoing()
