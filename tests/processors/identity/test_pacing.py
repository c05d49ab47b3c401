"""Intake paced on the graph's backlog: chunks of a bulk batch, and the backlog a worker waits on."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.types import TP

from processors.identity.pacing import GraphBacklog, chunks

A, B, GRAPH = TP("contacts", 0), TP("contacts", 1), TP("graph", 0)


def test_a_bulk_batch_is_cut_into_chunks_of_at_most_the_batch_size_keeping_each_partitions_order() -> None:
    taken: dict[Any, list[int]] = {A: list(range(5)), B: [10, 11]}
    pieces = list(chunks(taken, 3))  # type: ignore[arg-type]
    assert pieces == [{A: [0, 1, 2]}, {A: [3, 4], B: [10]}, {B: [11]}]


async def test_the_backlog_counts_graph_records_not_yet_handled_and_a_wait_ends_when_it_clears() -> None:
    ends = {GRAPH: 10, A: 99}
    consumer = SimpleNamespace(assignment=lambda: {GRAPH, A}, highwater=ends.__getitem__,
                               _committed_offset={GRAPH: 4})
    backlog = GraphBacklog(SimpleNamespace(consumer=consumer), "graph")
    assert backlog.records() == 6  # nothing handled yet: from the committed offset
    backlog.handled(0, 8)
    assert backlog.records() == 1
    assert await backlog.wait(most=1, max_s=5.0) < 1.0
    assert 0.05 <= await backlog.wait(most=0, max_s=0.05) < 1.0  # bounded: never waits for ever
