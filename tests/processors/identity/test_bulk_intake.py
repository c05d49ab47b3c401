"""Bulk intake: a chunk is acknowledged only after it was published, and never when a rebalance fenced it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from faust.types import TP
from structlog.testing import capture_logs

from bus.errors import PublishError
from bus.fencing import AssignmentFence
from bus.logging import get_logger
from processors.identity import bulk_intake
from processors.identity.bulk_intake import QUEUED_FETCHES, SETTLED_POLL_S, BulkIntake, chunks
from processors.identity.metrics import STAGE_RESTARTS
from tests.bus.test_consume_bulk import FakeConsumer, record

A, B = TP("contacts", 0), TP("contacts", 1)


def test_a_bulk_batch_is_cut_into_chunks_of_at_most_the_batch_size_keeping_each_partitions_order() -> None:
    taken: dict[Any, list[int]] = {A: list(range(5)), B: [10, 11]}
    pieces = list(chunks(taken, 3))  # type: ignore[arg-type]
    assert pieces == [{A: [0, 1, 2]}, {A: [3, 4], B: [10]}, {B: [11]}]


class Consumer(FakeConsumer):
    def __init__(self) -> None:
        super().__init__()
        self.assigned = {A}
        self.paused: set[TP] = set()
        self.app.rebalancing = False  # faust's App.rebalancing: from a rebalance's start to "Worker ready"
        self.app.in_recovery = False  # faust's App.in_recovery: while the tables restore

    def assignment(self) -> set[TP]:
        return self.assigned

    def pause_partitions(self, tps: list[TP]) -> None:
        self.paused.update(tps)

    def resume_partitions(self, tps: list[TP]) -> None:
        self.paused.difference_update(tps)


def intake(consumer: Consumer, run: Callable[[Sequence[Any], Callable[[], bool]], Any]) -> tuple[BulkIntake, Any]:
    fence = AssignmentFence(consumer.assignment, "identity")
    bulk = BulkIntake(consumer.app, ["contacts"], fence, run, _crash, batch_size=2)
    return bulk, fence


async def _crash(agent: str, exc: Exception) -> None:
    raise exc


def pipelined(consumer: Consumer, crash: Any = _crash) -> tuple[BulkIntake, list[int], dict[int, asyncio.Future[None]]]:
    """A pipelined stage (the graph's shape); each chunk's run returns a future, under its first offset: published
    and written in memory, done once its changelog is acknowledged. Also the first offsets of the chunks run."""
    runs: list[int] = []
    settled: dict[int, asyncio.Future[None]] = {}

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> Any:
        runs.append(records[0].offset)
        settled[records[0].offset] = asyncio.get_running_loop().create_future()
        return settled[records[0].offset]

    fence = AssignmentFence(consumer.assignment, "identity")
    bulk = BulkIntake(consumer.app, ["contacts"], fence, run, crash, batch_size=2, name="graph", pause=False)
    return bulk, runs, settled


async def test_chunks_are_acknowledged_once_published_in_order() -> None:
    consumer, runs = Consumer(), []

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> bool:
        runs.append([r.offset for r in records])
        return True

    bulk, _ = intake(consumer, run)
    await bulk.taken({A: [record(A, 0), record(A, 1), record(A, 2)]})
    await asyncio.sleep(0.05)
    await bulk.stop()
    assert runs == [[0, 1], [2]] and consumer._acked[A] == [0, 1, 2]


async def test_a_chunk_fenced_by_a_rebalance_is_not_acknowledged_nor_the_rest_of_its_batch() -> None:
    consumer, runs = Consumer(), []
    fence: AssignmentFence | None = None

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> bool:
        runs.append([r.offset for r in records])
        assert fence is not None
        fence.revoked()  # a rebalance while the chunk was published
        return allowed()

    bulk, fence = intake(consumer, run)
    await bulk.taken({A: [record(A, 0), record(A, 1), record(A, 2)]})
    await asyncio.sleep(0.05)
    await bulk.stop()
    assert runs == [[0, 1]] and consumer._acked[A] == []


async def backlog(consumer: Consumer, gate: asyncio.Event) -> BulkIntake:
    """Intake handling its first fetch until ``gate`` is set, with two more fetches queued behind it."""

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> bool:
        await gate.wait()
        return True

    bulk, _ = intake(consumer, run)
    await bulk.taken({A: [record(A, 0)]})
    await asyncio.sleep(0.01)  # the first batch is being handled
    await bulk.taken({A: [record(A, 1)]})
    await bulk.taken({A: [record(A, 2)]})
    return bulk


async def test_input_partitions_are_paused_while_a_batch_waits_and_resumed_when_intake_takes_it() -> None:
    consumer, gate = Consumer(), asyncio.Event()
    bulk = await backlog(consumer, gate)
    assert consumer.paused == {A}
    gate.set()
    await asyncio.sleep(0.05)
    await bulk.stop()
    assert consumer.paused == set() and consumer._acked[A] == [0, 1, 2]


async def test_inputs_paused_for_a_backlog_are_not_resumed_while_faust_rebalances_and_restores_the_tables() -> None:
    consumer, gate = Consumer(), asyncio.Event()
    bulk = await backlog(consumer, gate)
    assert consumer.paused == {A}
    consumer.app.rebalancing = True  # faust paused the inputs too; its restore reads the changelogs
    gate.set()
    await asyncio.sleep(0.05)
    assert consumer.paused == {A}  # left to faust, which resumes them once the tables are restored
    consumer.app.rebalancing = False
    await bulk.taken({A: [record(A, 3)]})
    await asyncio.sleep(SETTLED_POLL_S * 2)
    await bulk.stop()
    assert consumer.paused == set()


async def test_inputs_paused_while_faust_finished_its_rebalance_are_resumed_once_it_has_with_no_fetch_to_come() -> None:
    """faust resumed the inputs at the end of its restore, a fetch then paused them, and ``rebalancing`` was still
    set when intake took it: no fetch ever comes to a paused partition, so intake resumes them itself once faust is
    done (a 60 s broker outage left identity consuming nothing for minutes, every input paused, nothing queued)."""
    consumer, gate = Consumer(), asyncio.Event()
    bulk = await backlog(consumer, gate)
    consumer.app.rebalancing = consumer.app.in_recovery = True
    gate.set()
    await asyncio.sleep(0.05)
    assert consumer.paused == {A}  # never while faust rebalances or restores
    consumer.app.in_recovery = False
    await asyncio.sleep(SETTLED_POLL_S * 2)
    assert consumer.paused == {A}
    consumer.app.rebalancing = False  # and no further fetch: a paused partition brings none
    await asyncio.sleep(SETTLED_POLL_S * 3)
    await bulk.stop()
    assert consumer.paused == set() and consumer._acked[A] == [0, 1, 2]


async def test_a_chunk_whose_awaited_future_was_cancelled_elsewhere_runs_again_and_intake_goes_on() -> None:
    """A Kafka future cancelled by its client during an outage raised CancelledError in intake's loop, which ended
    as if stopped: no task left, the inputs paused for good (the 60 s broker-outage fault test)."""
    consumer, runs = Consumer(), []

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> bool:
        runs.append([r.offset for r in records])
        if len(runs) == 1:
            cancelled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            cancelled.cancel()
            await cancelled  # a future cancelled by someone else
        return True

    bulk, _ = intake(consumer, run)
    await bulk.taken({A: [record(A, 0), record(A, 1)]})
    await asyncio.sleep(SETTLED_POLL_S * 2)
    await bulk.taken({A: [record(A, 2)]})
    await asyncio.sleep(0.05)
    await bulk.stop()
    assert runs == [[0, 1], [0, 1], [2]] and consumer._acked[A] == [0, 1, 2]


@pytest.fixture
def fresh_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new lazy logger, first used inside ``capture_logs`` (see ``test_assignments_repair.fresh_log``)."""
    monkeypatch.setattr(bulk_intake, "log", get_logger(bulk_intake.__name__, component="identity"))


def restarts(stage: str, cause: str) -> float:
    return STAGE_RESTARTS.labels(stage=stage, cause=cause)._value.get()  # type: ignore[no-any-return]


@pytest.mark.usefixtures("fresh_log")
async def test_an_intake_loop_cancelled_from_elsewhere_is_logged_counted_and_started_again_losing_nothing() -> None:
    """Any end of the loop but ``stop()`` used to leave the inputs paused with no task to resume them (the 60 s
    broker-outage fault test: no ``identity.intake.bulk`` task in a live worker). Here its task is cancelled
    from outside while a chunk waits for Kafka, with two fetches queued behind it."""
    consumer, runs, first = Consumer(), [], asyncio.get_running_loop().create_future()

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> bool:
        runs.append([r.offset for r in records])
        if len(runs) == 1:
            await first  # the chunk's acknowledgement, never given
        return True

    bulk, _ = intake(consumer, run)
    before = restarts("intake", "task_cancelled")
    await bulk.taken({A: [record(A, 0)]})
    await asyncio.sleep(0.01)
    await bulk.taken({A: [record(A, 1)]})
    await bulk.taken({A: [record(A, 2)]})
    assert consumer.paused == {A}
    with capture_logs() as lines:
        assert bulk._task is not None
        bulk._task.cancel()  # not stop(): someone else
        await asyncio.sleep(SETTLED_POLL_S * 2)
    await bulk.stop()
    assert runs == [[0], [0], [1, 2]] and consumer._acked[A] == [0, 1, 2] and consumer.paused == set()
    assert restarts("intake", "task_cancelled") == before + 1
    [line] = [line for line in lines if line["event"].startswith("a bulk stage's loop was cancelled")]
    assert line["log_level"] == "error" and line["stage"] == "intake" and line["chunks_in_hand"] == 1
    assert "test_bulk_intake.run" in line["where"]


async def test_an_intake_chunk_whose_shared_future_another_awaiter_cancelled_runs_again_and_intake_goes_on() -> None:
    """A future shared by several awaiters (a Kafka batch's delivery) is cancelled when one of them is cancelled:
    the others get a CancelledError nobody sent them. Intake's loop ends so, and runs on from the chunk it held."""
    consumer, runs = Consumer(), []
    shared: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def other_caller() -> None:
        await shared

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> bool:
        runs.append([r.offset for r in records])
        if len(runs) == 1:
            await shared
        return True

    bulk, _ = intake(consumer, run)
    before = restarts("intake", "future_cancelled")
    other = asyncio.create_task(other_caller())
    await bulk.taken({A: [record(A, 0), record(A, 1)]})
    await asyncio.sleep(0.01)
    await bulk.taken({A: [record(A, 2)]})
    other.cancel()  # cancels the shared future it awaits
    await asyncio.sleep(SETTLED_POLL_S * 2)
    await bulk.stop()
    assert runs == [[0, 1], [0, 1], [2]] and consumer._acked[A] == [0, 1, 2] and consumer.paused == set()
    assert restarts("intake", "future_cancelled") == before + 1


async def test_a_graph_loop_cancelled_from_elsewhere_while_a_chunk_settles_goes_on_and_keeps_it_settling() -> None:
    """The pipelined graph stage: its loop, waiting for the chunk before to settle, is cancelled from outside. It
    used to cancel that chunk too (never acknowledged) and end silently, its queue then holding faust's fetch loop."""
    consumer = Consumer()
    bulk, runs, settled = pipelined(consumer)
    before = restarts("graph", "task_cancelled")
    await bulk.taken({A: [record(A, offset) for offset in range(4)]})
    await asyncio.sleep(0.02)
    assert runs == [0, 2]  # the loop waits for chunk 0 to settle
    assert bulk._task is not None
    bulk._task.cancel()
    await asyncio.sleep(SETTLED_POLL_S * 2)
    for offset in range(QUEUED_FETCHES + 1):  # more than the queue holds: the fetch loop would wait for ever
        await asyncio.wait_for(bulk.taken({A: [record(A, 4 + offset)]}), 1)
    for first in (0, 2):
        settled[first].set_result(None)
    for _ in range(QUEUED_FETCHES + 1):
        await asyncio.sleep(0.02)
        for future in list(settled.values()):
            if not future.done():
                future.set_result(None)
    await asyncio.sleep(0.02)
    await bulk.stop()
    assert consumer._acked[A] == list(range(4 + QUEUED_FETCHES + 1))
    assert restarts("graph", "task_cancelled") == before + 1


async def test_a_graph_chunk_whose_changelog_acknowledgement_was_cancelled_elsewhere_stops_the_worker() -> None:
    """Whether Kafka took the chunk's changelog is not known, and a chunk run again would skip its states as done:
    the worker stops (a restarted one replays from the committed offsets on the restored tables), as for a changelog
    Kafka refused. It used to end the settle and then the loop silently: nothing crashed, nothing acknowledged."""
    consumer, crashed = Consumer(), []

    async def crash(agent: str, exc: Exception) -> None:
        crashed.append((agent, type(exc)))
        raise exc

    bulk, _, settled = pipelined(consumer, crash)
    await bulk.taken({A: [record(A, offset) for offset in range(4)]})
    await asyncio.sleep(0.02)
    settled[0].cancel()  # its acknowledgement cancelled by someone else
    settled[2].set_result(None)
    await asyncio.sleep(SETTLED_POLL_S * 2)
    await bulk.stop()
    assert crashed == [("graph", PublishError)] and consumer._acked[A] == []


async def test_a_graph_chunk_cancelled_from_elsewhere_while_it_ran_stops_the_worker_and_is_not_run_again() -> None:
    """Its states may be written in memory already: run again, it would skip them as done and write no changelog."""
    consumer, crashed, runs = Consumer(), [], []

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> Any:
        runs.append(records[0].offset)
        cancelled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        cancelled.cancel()
        await cancelled  # a future cancelled by someone else
        return asyncio.sleep(0)

    async def crash(agent: str, exc: Exception) -> None:
        crashed.append((agent, type(exc)))
        raise exc

    fence = AssignmentFence(consumer.assignment, "identity")
    bulk = BulkIntake(consumer.app, ["contacts"], fence, run, crash, batch_size=2, name="graph", pause=False)
    await bulk.taken({A: [record(A, 0), record(A, 1)]})
    await asyncio.sleep(SETTLED_POLL_S * 2)
    await bulk.stop()
    assert crashed == [("graph", PublishError)] and runs == [0] and consumer._acked[A] == []


async def test_an_intake_task_that_fails_stops_the_worker_instead_of_leaving_the_inputs_paused() -> None:
    consumer, crashed = Consumer(), []

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> bool:
        raise RuntimeError("boom")

    async def crash(agent: str, exc: Exception) -> None:
        crashed.append((agent, str(exc)))
        raise exc

    bulk = BulkIntake(consumer.app, ["contacts"], AssignmentFence(consumer.assignment, "identity"), run, crash,
                      batch_size=2)
    await bulk.taken({A: [record(A, 0)]})
    await asyncio.sleep(0.05)
    assert crashed == [("intake", "boom")] and consumer._acked[A] == []
    try:
        await bulk.taken({A: [record(A, 1)]})
        raise AssertionError("a failed intake task must fail the next fetch too")
    except RuntimeError:
        pass
    await bulk.stop()


async def test_fetches_queued_behind_a_chunk_being_published_are_taken_as_one_batch_in_offset_order() -> None:
    consumer, runs = Consumer(), []
    consumer.assigned = {A, B}
    release = asyncio.Event()

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> bool:
        runs.append([r.offset for r in records])
        await release.wait()  # the first chunk's publish takes a while: three more fetches queue up
        return True

    bulk, _ = intake(consumer, run)
    bulk._batch_size = 10
    await bulk.taken({A: [record(A, 0)]})
    await asyncio.sleep(0.01)
    await bulk.taken({A: [record(A, 1)]})
    await bulk.taken({B: [record(B, 5)]})
    await bulk.taken({A: [record(A, 2)], B: [record(B, 6)]})
    assert consumer.paused == {A, B}
    release.set()
    await asyncio.sleep(0.05)
    await bulk.stop()
    assert runs == [[0], [1, 2, 5, 6]]  # one batch, each partition in offset order
    assert consumer._acked[A] == [0, 1, 2] and consumer._acked[B] == [5, 6] and consumer.paused == set()


async def test_a_stage_that_must_not_pause_holds_the_fetch_until_its_queue_has_room_and_never_pauses() -> None:
    consumer, runs = Consumer(), []
    release = asyncio.Event()

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> bool:
        runs.append([r.offset for r in records])
        await release.wait()  # the first chunk is being published
        return allowed()

    fence = AssignmentFence(consumer.assignment, "identity")
    bulk = BulkIntake(consumer.app, ["contacts"], fence, run, _crash, batch_size=2, name="graph", pause=False)
    await bulk.taken({A: [record(A, 0)]})
    await asyncio.sleep(0.01)  # the task took the first fetch and waits in run
    for offset in range(1, QUEUED_FETCHES + 1):
        await bulk.taken({A: [record(A, offset)]})  # queued
    last = QUEUED_FETCHES + 1
    held = asyncio.create_task(bulk.taken({A: [record(A, last)]}))
    await asyncio.sleep(0.01)
    assert not held.done() and consumer.paused == set()  # the fetch loop waits; nothing paused
    release.set()
    await asyncio.wait_for(held, 1)
    await asyncio.sleep(0.05)
    await bulk.stop()
    offsets = list(range(last + 1))
    assert sum(runs, []) == offsets and consumer._acked[A] == offsets and consumer.paused == set()


async def test_a_pipelined_chunk_runs_while_the_one_before_settles_and_acknowledgements_keep_chunk_order() -> None:
    consumer = Consumer()
    bulk, runs, settled = pipelined(consumer)
    await bulk.taken({A: [record(A, offset) for offset in range(6)]})
    await asyncio.sleep(0.02)
    assert runs == [0, 2] and consumer._acked[A] == []  # chunk 2 ran; chunk 4 waits for chunk 0 to settle
    settled[2].set_result(None)  # the later chunk's changelog first: nothing may be acknowledged yet
    await asyncio.sleep(0.02)
    assert consumer._acked[A] == []
    settled[0].set_result(None)
    await asyncio.sleep(0.02)
    assert runs == [0, 2, 4] and consumer._acked[A] == [0, 1, 2, 3]
    settled[4].set_result(None)
    await asyncio.sleep(0.02)
    await bulk.stop()
    assert consumer._acked[A] == [0, 1, 2, 3, 4, 5]


async def test_a_pipelined_chunk_fenced_before_it_settles_is_not_acknowledged_nor_the_one_after() -> None:
    consumer, runs = Consumer(), []
    fence = AssignmentFence(consumer.assignment, "identity")

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> Any:
        runs.append(records[0].offset)
        if records[0].offset == 2:
            fence.revoked()  # a rebalance while the first chunk's changelog was on its way
        return asyncio.sleep(0)

    bulk = BulkIntake(consumer.app, ["contacts"], fence, run, _crash, batch_size=2, name="graph", pause=False)
    await bulk.taken({A: [record(A, offset) for offset in range(6)]})
    await asyncio.sleep(0.05)
    await bulk.stop()
    assert runs == [0, 2] and consumer._acked[A] == []


async def test_after_a_fenced_pipelined_chunk_the_chunks_of_later_fetches_are_acknowledged_again() -> None:
    consumer, runs = Consumer(), []
    fence = AssignmentFence(consumer.assignment, "identity")

    async def run(records: Sequence[Any], allowed: Callable[[], bool]) -> Any:
        runs.append(records[0].offset)
        if records[0].offset == 0:
            fence.revoked()  # a rebalance while the chunk was on its way: it is left to the partition's next owner
        return asyncio.sleep(0)

    bulk = BulkIntake(consumer.app, ["contacts"], fence, run, _crash, batch_size=2, name="graph", pause=False)
    await bulk.taken({A: [record(A, 0), record(A, 1)]})
    await asyncio.sleep(0.02)
    await bulk.taken({A: [record(A, 2), record(A, 3)]})  # fetched after the rebalance (A is still ours)
    await asyncio.sleep(0.02)
    await bulk.taken({A: [record(A, 4)]})
    await asyncio.sleep(0.02)
    await bulk.stop()
    assert runs == [0, 2, 4] and consumer._acked[A] == [2, 3, 4]
