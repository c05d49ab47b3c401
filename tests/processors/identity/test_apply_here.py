"""Repeat contacts applied at intake: never while the worker rebalances and its tables may be restoring."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from bus.errors import RegistryLookupDeferred
from bus.fencing import AssignmentFence
from bus.registry_outage import deferring_lookups
from processors.identity.apply_here import ApplyHere
from processors.identity.graph.messages.steps import Fast
from processors.identity.graph.outputs import Output, Send
from processors.identity.graph.saga import new_saga
from processors.identity.state_writes import StateWrites
from processors.identity.wire import partition_of

GRAPH = "identity.graph.v1"
ROOT = "cus_0001"


class Graph:
    def __init__(self) -> None:
        self.handled: list[str] = []

    def handle(self, store: Any, node: str, message: Any) -> list[Output]:
        self.handled.append(node)
        return []


class Publisher:
    def __init__(self) -> None:
        self.published: list[Output] = []

    def graph_partitions(self) -> int:
        return 4

    async def publish(self, outputs: list[Output]) -> None:
        self.published.extend(outputs)

    def after(self, outputs: list[Output], kinds: Counter[str]) -> None:
        pass


class Store:
    def get_node(self, key: str) -> None:
        return None

    def get_profile(self, key: str) -> None:
        return None

    def drain_changelog(self, version: int) -> list[Any]:
        return []

    def done_markers(self, records: list[Any]) -> list[Any]:
        return []


class Producer:
    async def send_batched(self, records: list[Any]) -> None:
        pass

    async def hand_over(self, records: list[Any]) -> Any:
        return asyncio.sleep(0)  # placed; acknowledged once awaited


def repeat_contact() -> Send:
    saga = new_saga("ev-1", "CALL_CENTER", 0, ["PHONE:+8613900000001"], None, 0.0)
    return Send(ROOT, Fast({"PHONE:+8613900000001": 1}, saga))


def here(graph: Graph, publisher: Publisher, rebalancing: list[bool]) -> ApplyHere:
    partition = partition_of(ROOT, 4)
    fence = AssignmentFence(lambda: {(GRAPH, partition)}, "test-apply-here")
    return ApplyHere(True, graph, Store(), publisher, Producer(), fence, StateWrites(),  # type: ignore[arg-type]
                     GRAPH, lambda: {partition}, lambda: 1, lambda: not rebalancing[0])


async def test_a_repeat_contact_whose_root_is_owned_is_applied_here_when_the_worker_is_settled() -> None:
    graph, publisher = Graph(), Publisher()
    applier = here(graph, publisher, [False])
    send = repeat_contact()
    selected = applier.select([send])
    assert selected == [send]
    assert await applier.apply(selected, [send], lambda: True)
    assert graph.handled == [ROOT] and publisher.published == []


async def test_while_the_worker_rebalances_repeat_contacts_go_by_the_graph_topic_not_the_restoring_tables() -> None:
    graph, publisher = Graph(), Publisher()
    rebalancing = [True]
    applier = here(graph, publisher, rebalancing)
    send = repeat_contact()
    assert applier.select([send]) == []  # the tables of a partition taken over may still be restoring
    rebalancing[0] = False
    selected = applier.select([send])
    rebalancing[0] = True  # a rebalance began while the batch waited for the state lock
    assert await applier.apply(selected, [send], lambda: True)
    assert graph.handled == [] and publisher.published == [send]


class LoadingGraph(Graph):
    """A root that decodes a stored event again (``intake.RefLoader``) whose writer schema is not cached yet."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[bool] = []

    def handle(self, store: Any, node: str, message: Any) -> list[Output]:
        self.loads.append(deferring_lookups())
        if deferring_lookups():  # what bus.serde.registry raises there rather than wait on the loop
            raise RegistryLookupDeferred("get schema id 9", lambda: None)
        return super().handle(store, node, message)


async def test_a_schema_not_cached_at_intake_is_not_fetched_on_the_loop_the_contact_goes_by_the_graph_topic() -> None:
    """A registry that hangs would block the worker's loop for its timeout on each such contact."""
    graph, publisher = LoadingGraph(), Publisher()
    applier = here(graph, publisher, [False])
    send = repeat_contact()
    assert await applier.apply(applier.select([send]), [send], lambda: True)
    assert graph.loads == [True] and graph.handled == [] and publisher.published == [send]
