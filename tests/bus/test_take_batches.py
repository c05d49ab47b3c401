from __future__ import annotations

import asyncio
from typing import Any

import faust
import pytest

from bus.take_batches import take_events


def app() -> faust.App:
    return faust.App("take-batches-test", broker="kafka://127.0.0.1:1", store="memory://")


async def batches_of(sent: list[Any], *, max_: int, within: float, idle_s: float = 0.0) -> tuple[list[list[Any]], int]:
    """Send ``sent`` to a channel (after ``idle_s`` of nothing), take batches; returns them and the number of
    times the generator started a wait while idle (``stream.wait_for_stopped`` calls)."""
    faust_app = app()
    faust_app.flow_control.resume()  # a bare app keeps its queues suspended until a consumer starts
    channel = faust_app.channel()
    stream = channel.stream()
    waits = 0
    plain_wait = stream.wait_for_stopped

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal waits
        waits += 1
        return await plain_wait(*args, **kwargs)

    stream.wait_for_stopped = counted  # type: ignore[method-assign]
    taken: list[list[Any]] = []

    async def consume() -> None:
        async for events in take_events(stream, max_, within):
            taken.append([event.value for event in events])
            if sum(map(len, taken)) >= len(sent):
                return

    task = asyncio.create_task(consume())
    await asyncio.sleep(idle_s)
    idle_waits = waits
    for value in sent:
        await channel.send(value=value)
    await asyncio.wait_for(task, 5)
    return taken, idle_waits


@pytest.mark.asyncio
async def test_an_idle_stream_does_not_wake_every_window_and_a_batch_comes_out_after_its_first_event() -> None:
    taken, idle_waits = await batches_of([1, 2, 3], max_=10, within=0.005, idle_s=0.3)
    assert idle_waits <= 2  # faust's take_events: one per 5 ms window, about 60 in 0.3 s
    assert [value for batch in taken for value in batch] == [1, 2, 3]


@pytest.mark.asyncio
async def test_a_full_buffer_is_yielded_at_once_in_batches_of_at_most_max() -> None:
    taken, _ = await batches_of(list(range(6)), max_=3, within=10.0)  # no window waited: full at once
    assert [value for batch in taken for value in batch] == list(range(6))
    assert [len(batch) for batch in taken] == [3, 3]
