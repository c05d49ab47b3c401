"""faust's ``Stream.take_events`` without its idle timer (#9: two workers' CPU per event).

faust's ``take_events(max_, within)`` waits for a full buffer with a timeout of ``within`` in a loop, also
while the buffer is empty: an idle agent wakes every ``within`` seconds (200 times a second at the identity
processor's 5 ms window), through mode's ``Service.wait`` (a task and an ``asyncio.wait`` per wake-up). With
two identity agents that is 3-4 % of a core per idle worker, which counts against the two-worker events per
CPU-second (``tests/bench/results/two_workers.md``: ``batch_within_s`` 0.05 halved the idle CPU).

``take_events(stream, max_, within)`` is the same generator (same buffer, back pressure, manual
acknowledgement after the batch is handled, ``stream.on_stop`` closing it), except that an empty buffer
waits for its first event without a timeout, and the ``within`` window starts at that first event. A batch
still comes out at most ``within`` after its first event, or as soon as it holds ``max_`` events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from faust.types import EventT, StreamT
from mode.utils.futures import notify


def take_events(stream: StreamT, max_: int, within: float) -> AsyncGenerator[list[EventT], None]:
    """Batches of up to ``max_`` events of ``stream`` (a faust ``Stream``), each yielded at most ``within``
    seconds after its first event arrived; events are acknowledged once the caller took the next batch
    or closed the generator (faust's ``take_events`` contract)."""
    batches = _take(stream, max_, within)
    stream._active_agens.add(batches)  # type: ignore[attr-defined]  # faust closes them on stream stop
    return batches


async def _take(stream: Any, max_: int, within: float) -> AsyncGenerator[list[EventT], None]:
    buffer: list[Any] = []
    events: list[EventT] = []
    buffer_full, buffer_consumed, buffer_started = asyncio.Event(), asyncio.Event(), asyncio.Event()
    buffer_consuming: asyncio.Future[None] | None = None

    async def add_to_buffer(value: Any) -> Any:  # faust's, plus ``buffer_started``
        nonlocal buffer_consuming
        try:
            if buffer_consuming is not None:
                try:
                    await buffer_consuming
                finally:
                    buffer_consuming = None
            buffer.append(value)
            event = stream.current_event
            if event is None:
                raise RuntimeError("Take buffer found current_event is None")
            events.append(event)
            buffer_started.set()
            if len(buffer) >= max_:
                buffer_full.set()
                buffer_consumed.clear()
                await stream.wait(buffer_consumed)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            stream.log.exception("Error adding to take buffer: %r", exc)
            await stream.crash(exc)
        return value

    enable_acks = stream.enable_acks
    stream.enable_acks = False  # acknowledged below, once the batch is handled
    processor: Callable[[Any], Awaitable[Any]] = add_to_buffer
    stream.add_processor(processor)
    stream._enable_passive(aiter(stream.channel))
    try:
        while not stream.should_stop:
            if not buffer:
                buffer_started.clear()
                await stream.wait_for_stopped(buffer_started)  # idle: no timer until an event comes
                continue
            await stream.wait_for_stopped(buffer_full, timeout=within)
            if buffer:
                buffer_consuming = asyncio.get_running_loop().create_future()
                try:
                    yield list(events)
                finally:
                    buffer.clear()
                    for event in events:
                        await stream.ack(event)
                    events.clear()
                    notify(buffer_consuming)
                    buffer_full.clear()
                    buffer_consumed.set()
    finally:
        stream.enable_acks = enable_acks
        stream._processors.remove(processor)
