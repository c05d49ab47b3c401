"""Intake's wait for the graph agent (``processors/identity/graph_progress.py``)."""

import asyncio

from processors.identity.graph_progress import GraphProgress


def test_only_records_produced_to_owned_partitions_and_not_yet_handled_are_pending() -> None:
    progress = GraphProgress()
    progress.produced(0, 10)
    progress.produced(0, 7)  # acknowledged out of order: the highest counts
    progress.produced(1, 3)
    assert progress.pending({0, 1})
    progress.handled(0, 10)
    assert progress.pending({0, 1}) and not progress.pending({0, 2})  # partition 1 is another worker's
    progress.handled(1, 3)
    assert not progress.pending({0, 1})


async def test_settled_returns_once_the_graph_caught_up_and_gives_up_after_its_timeout() -> None:
    progress = GraphProgress()
    assert await progress.settled({0}, 0.01)  # nothing produced: nothing to wait for
    progress.produced(0, 5)
    assert not await progress.settled({0}, 0.05)  # never handled: the wait is bounded
    waiting = asyncio.create_task(progress.settled({0}, 5.0))
    await asyncio.sleep(0.01)
    progress.handled(0, 4)
    await asyncio.sleep(0.01)
    assert not waiting.done()
    progress.handled(0, 5)
    assert await asyncio.wait_for(waiting, 1.0)
