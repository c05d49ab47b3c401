"""The identity stages fed in bulk from faust's fetch (``bus.consume_bulk``) (#9 build 3).

faust's per-record consumer path (a ``wait_first`` per record, an ``Event`` and a stream hop each) is
the floor of a stage that handles one faust record per event. Both identity stages skip it: ``taken``
receives each fetch's records of the stage's topics, a task runs them chunk by chunk (intake:
``IntakeAgent.batch``; graph: ``GraphAgent.records``), and each chunk is acknowledged — hence committed by
faust — only after its outputs (and, for the graph, its changelog) are acknowledged by Kafka and only if
no rebalance took its partitions meanwhile (``bus.fencing``). Anything not acknowledged is taken again by
the partition's next owner, or by this worker after the rebalance (faust seeks to the committed offsets).

Back pressure, while a fetch is queued behind the running chunk:

* intake (``pause=True``): the fetch never waits for intake, since it also brings the graph's records;
  the input partitions are paused instead (back pressure on the inputs alone);
* graph (``pause=False``): the fetch loop waits for room in the queue. Its partitions are never paused
  here: faust pauses and resumes them itself around table recovery, and must stay the only one to.

A stage's loop ends only by its ``stop()`` or by an error (which stops the worker, ``crash``). A loop that ends
cancelled without ``stop()`` — its task cancelled from elsewhere, or a future it awaited cancelled by another of
its awaiters (a shared delivery future of ``bus.producer_batches``) — is logged, counted
(``omnibus_identity_stage_restarts_total``) and started again with what it had taken and not finished (the chunk
in hand runs again: a redelivery, effects deduplicated by event id); the new loop resumes the inputs it paused
once faust is settled. It used to end silently, as if stopped: intake's inputs stayed paused, the graph's queue
filled and held faust's fetch loop (the 60 s broker-outage fault test, ``tests/faults/test_broker.py``).
"""

from __future__ import annotations

import asyncio
import functools
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

from aiokafka.structs import ConsumerRecord

from bus import consume_bulk
from bus.errors import PublishError
from bus.fencing import AssignmentFence
from bus.logging import get_logger
from processors.identity.metrics import STAGE_RESTARTS

log = get_logger(__name__, component="identity")

# records, still allowed? -> published (bool), or None when fenced, or an awaitable: published, and done once
# what the chunk wrote is acknowledged (a pipelined stage: GraphAgent.records)
Run = Callable[[Sequence[Any], Callable[[], bool]], Awaitable[bool | Awaitable[Any] | None]]
Crash = Callable[[str, Exception], Awaitable[Any]]  # stops the worker and raises
QUEUED_FETCHES = 8  # fetches a stage that must not pause holds before the fetch loop waits for it
SETTLED_POLL_S = 0.2  # seconds between looks at faust's rebalance and restore flags while the inputs wait paused
WHERE_FRAMES = 6  # innermost frames logged for a cancellation from elsewhere (where it was raised)


class BulkIntake:
    """``run(records, allowed)`` handles and publishes a chunk (False: fenced, nothing published);
    ``crash(agent, exc)`` stops the worker. ``batch_size``: records per chunk (one acknowledgement wait).
    ``name``: the stage (``intake``, ``graph``); ``pause``: back pressure by pausing the partitions (intake)
    rather than by holding the fetch loop (graph), see the module's doc."""

    def __init__(self, app: Any, inputs: Iterable[str], fence: AssignmentFence, run: Run, crash: Crash, *,
                 batch_size: int, name: str = "intake", pause: bool = True) -> None:
        self._app, self._inputs, self._fence = app, frozenset(inputs), fence
        self._run, self._crash, self._batch_size = run, crash, batch_size
        self._name, self._pause = name, pause
        # graph: a few fetches may wait (merged into one batch when taken), so the fetch loop keeps bringing
        # intake its records while the graph works through a batch
        self._queue: asyncio.Queue[tuple[int, consume_bulk.Taken]] = asyncio.Queue(0 if pause else QUEUED_FETCHES)
        self._paused = False
        self._task: asyncio.Task[None] | None = None
        self._settling: asyncio.Task[bool] | None = None  # the last pipelined chunk, until acknowledged
        self._settles: set[asyncio.Task[bool]] = set()  # every pipelined chunk not yet acknowledged (stop cancels them)
        # taken off the queue and not finished: the chunks left of the batch in hand (the first one running),
        # and a fetch of a later stamp; a restarted loop starts from them (see the module's doc)
        self._in_hand: deque[tuple[int, consume_bulk.Taken]] = deque()
        self._held: tuple[int, consume_bulk.Taken] | None = None
        self._stopping = self._failed = False  # stop() called; this stage stopped the worker (crash)
        self._cause: tuple[str, str] | None = None  # why the loop ended cancelled: (cause label, where)

    def install(self) -> None:
        consume_bulk.take(self._app, self._inputs, self.taken)

    async def taken(self, taken: consume_bulk.Taken) -> None:
        """One fetch's input records (the fence stamp is taken now: a rebalance after it fences them off)."""
        if self._task is not None and self._task.done() and not self._task.cancelled():
            self._task.result()  # the intake task failed (the worker is stopping): raise its error here too
        if self._task is None:
            self._start(restarted=False)
        if not self._pause:
            await self._queue.put((self._fence.stamp(), taken))  # cancelled (the fetcher stops): never acknowledged
            return
        self._queue.put_nowait((self._fence.stamp(), taken))
        if self._queue.qsize() > 1 and not self._paused:
            self._app.consumer.pause_partitions(self._assigned())
            self._paused = True

    async def stop(self) -> None:
        """Cancel the task; a chunk it had not acknowledged is taken again by the partition's next owner."""
        self._stopping = True
        for task in (self._task, *self._settles):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = self._settling = None

    def _assigned(self) -> list[Any]:
        return [tp for tp in self._app.consumer.assignment() if tp.topic in self._inputs]

    def _start(self, *, restarted: bool) -> None:
        self._task = asyncio.create_task(self._loop(restarted), name=f"identity.{self._name}.bulk")
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        """The loop's task ended: by ``stop()`` (nothing to do), by an error (the loop stopped the worker:
        ``taken`` raises it too), or cancelled from elsewhere: logged, counted and started again."""
        if self._stopping or self._failed or task is not self._task or not task.cancelled():
            return
        cause, where = self._cause or ("task_cancelled", "cancelled before it ran")
        self._cause = None
        log.error("a bulk stage's loop was cancelled without being stopped; starting it again", stage=self._name,
                  cause=cause, where=where, chunks_in_hand=len(self._in_hand), queued=self._queue.qsize(),
                  inputs_paused=self._paused)
        STAGE_RESTARTS.labels(stage=self._name, cause=cause).inc()
        self._start(restarted=True)

    async def _loop(self, restarted: bool) -> None:
        try:
            if restarted:
                await asyncio.sleep(SETTLED_POLL_S)  # a cancellation that repeats is no busy loop
            while True:
                if not self._in_hand:
                    await self._take()
                stamp, chunk = self._in_hand[0]
                outcome = await self._chunk(stamp, chunk)
                self._in_hand.popleft()  # no await since the chunk ran: a restart runs it only if it did not
                done = outcome
                if isinstance(outcome, asyncio.Task):
                    # Pipelined: at most one chunk left settling when the next one starts. Shielded: a
                    # cancellation of this loop must not cancel the chunks settling, whose changes are written.
                    before, self._settling = self._settling, outcome
                    done = True if before is None else await asyncio.shield(before)
                if not done:
                    self._in_hand.clear()  # fenced: nor the rest of its batch
        except asyncio.CancelledError as exc:
            if not self._stopping:
                self._cause = _cancel_cause(exc)
            raise
        except Exception as exc:  # never die silently: the inputs would stay paused, their partitions idle
            await self._fail(exc)
            raise

    async def _fail(self, exc: Exception) -> None:
        """Stop the worker (``crash``, once: the settling chunks after a failed one and the loop waiting for it
        fail with it), and raise ``exc``; this stage's loop is not started again meanwhile."""
        if self._failed:
            raise exc
        self._failed = True
        await self._crash(self._name, exc)

    async def _take(self) -> None:
        """The next batch off the queue (after the held fetch, if any), as chunks in hand."""
        if self._held is None and self._paused and self._queue.empty():
            await self._resume_once_settled()
        stamp, taken = self._held if self._held is not None else await self._queue.get()
        taken, self._held = self._merged(stamp, taken)
        # Never while faust rebalances: it paused the inputs itself until the tables are restored, and
        # resumes them then (its "Worker ready"); resuming them here would fetch inputs mid-restore.
        if self._paused and self._queue.empty() and self._held is None and not self._app.rebalancing:
            self._app.consumer.resume_partitions(self._assigned())
            self._paused = False
        self._in_hand.extend((stamp, chunk) for chunk in chunks(taken, self._batch_size))

    async def _resume_once_settled(self) -> None:
        """Resume the inputs this stage paused, with nothing left queued, once faust neither rebalances nor restores.

        faust resumes the inputs at the end of a restore, before it clears ``App.rebalancing``: a fetch taken in
        between paused them again, the loop then skipped its resume (a rebalance) and waited for a fetch that a
        paused partition never brings. Seen after a 60 s broker outage: every input paused, nothing queued, identity
        consuming nothing for minutes (``tests/faults/test_broker.py``)."""
        while (self._app.rebalancing or getattr(self._app, "in_recovery", False)) and self._queue.empty():
            await asyncio.sleep(SETTLED_POLL_S)
        if self._paused and self._queue.empty():
            self._app.consumer.resume_partitions(self._assigned())
            self._paused = False

    def _merged(self, stamp: int, taken: consume_bulk.Taken) -> tuple[consume_bulk.Taken, tuple[int, consume_bulk.Taken]
                                                                       | None]:
        """``taken`` and every fetch queued behind it with the same fence stamp, as one batch (each partition's
        records stay in offset order), and the first queued fetch of another stamp, if any.

        Under a steady input each fetch brings a few records; taken one fetch at a time, a chunk's publish
        round trip caps intake at a few records per round trip and the queue never drains (#9: seconds of
        latency at a paced 400 events/s). Merged, a backlog is taken in chunks of ``batch_size``."""
        if self._queue.empty():
            return taken, None
        merged: dict[Any, list[ConsumerRecord]] = {tp: list(records) for tp, records in taken.items()}
        while not self._queue.empty():
            later, more = self._queue.get_nowait()
            if later != stamp:  # a rebalance in between: not one batch (the older one is fenced off anyway)
                return merged, (later, more)
            for tp, records in more.items():
                merged.setdefault(tp, []).extend(records)
        return merged, None

    async def _chunk(self, stamp: int, taken: consume_bulk.Taken) -> bool | asyncio.Task[bool]:
        partitions = {(tp.topic, tp.partition) for tp in taken}
        records = [record for records in taken.values() for record in records]
        allowed = functools.partial(self._fence.allows, stamp, partitions)
        await self._fence.confirm()  # before the chunk's work: allowed() then sees a lease a pause has ended
        # An error or a cancellation leaves the chunk unacknowledged: the partition's next owner takes it again.
        try:
            published = await self._run(records, allowed)
        except asyncio.CancelledError as exc:
            if not self._pause and not self._stopping:
                # The graph's run may have written its states in memory: run again, it would skip them as done
                # (deduplicated) and never write their changelog. Stop, as for a changelog Kafka did not take.
                await self._fail(PublishError(f"a graph chunk was cancelled while it ran ({_cancel_cause(exc)[1]})",
                                              retriable=True))
            raise
        if published is True:
            return await self._acknowledge(taken, allowed, len(records))
        if published is False or published is None:
            return self._lost(len(records))
        # Pipelined (the graph): published and written in memory; ``published`` completes once the writes are
        # acknowledged. The next chunk runs meanwhile; acknowledgements stay in chunk order (each settle task waits
        # for the one before), and the loop keeps at most one chunk settling when the next one starts.
        settle = asyncio.create_task(self._settle(self._settling, published, taken, allowed, len(records)),
                                     name=f"identity.{self._name}.settle")
        self._settles.add(settle)
        settle.add_done_callback(self._settled)
        return settle

    def _settled(self, settle: asyncio.Task[bool]) -> None:
        self._settles.discard(settle)
        if not settle.cancelled():
            # Its failure already stopped the worker (``_fail``); marked as seen so that a settle no later chunk
            # awaits is not logged again as "Task exception was never retrieved" when it is collected.
            settle.exception()

    async def _settle(self, before: asyncio.Task[bool] | None, written: Awaitable[Any], taken: consume_bulk.Taken,
                      allowed: Callable[[], bool], count: int) -> bool:
        try:
            if before is not None:
                await before  # acknowledgements in chunk order; a fenced chunk before leaves this one to its own fence
            await written
        except asyncio.CancelledError as exc:
            if self._stopping or self._failed or (before is not None and before.cancelled()):
                raise  # stopping, or the chunk before ended so and stopped the worker
            # Cancelled from elsewhere: whether Kafka took the chunk's changelog is not known, and a chunk run
            # again writes nothing (its effects are deduplicated): stop, as for a changelog Kafka did not take.
            where = _cancel_cause(exc)[1]
            await self._fail(PublishError(f"a chunk's changelog acknowledgement was cancelled ({where})",
                                          retriable=True))
            raise
        except Exception as exc:  # a changelog Kafka did not take: stop, nothing of the chunk is acknowledged
            await self._fail(exc)
            raise
        return await self._acknowledge(taken, allowed, count)

    async def _acknowledge(self, taken: consume_bulk.Taken, allowed: Callable[[], bool], count: int) -> bool:
        await self._fence.confirm()  # allowed() then sees a lease a pause has ended
        if not allowed():
            return self._lost(count)
        # Started and published: faust may commit them now (no await since the fence check above).
        consume_bulk.acknowledge(self._app, taken)
        return True


    def _lost(self, count: int) -> bool:
        log.warning("partitions lost during a bulk batch; left to their new owner", stage=self._name, records=count)
        return False


def chunks(taken: consume_bulk.Taken, size: int) -> Iterator[dict[Any, list[ConsumerRecord]]]:
    """``taken`` (partition -> records, in offset order) in pieces of at most ``size`` records, in order."""
    chunk: dict[Any, list[ConsumerRecord]] = {}
    count = 0
    for tp, records in taken.items():
        start = 0
        while start < len(records):
            piece = list(records[start:start + size - count])
            chunk.setdefault(tp, []).extend(piece)
            count += len(piece)
            start += len(piece)
            if count >= size:
                yield chunk
                chunk, count = {}, 0
    if chunk:
        yield chunk


def _cancel_cause(exc: asyncio.CancelledError) -> tuple[str, str]:
    """Why the running task got ``exc``: ``task_cancelled`` (its ``cancel()`` was called) or ``future_cancelled``
    (a future it awaited was cancelled by someone else), and where: the innermost frames, as module.function
    (code locations only, never a value)."""
    task = asyncio.current_task()
    cause = "task_cancelled" if task is not None and task.cancelling() else "future_cancelled"
    frames = traceback.extract_tb(exc.__traceback__)[-WHERE_FRAMES:]
    where = " > ".join(f"{frame.filename.rsplit('/', 1)[-1].removesuffix('.py')}.{frame.name}" for frame in frames)
    return cause, where
