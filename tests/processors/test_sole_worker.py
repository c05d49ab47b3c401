"""The guard of a processor that runs as one worker (``processors.sole_worker``): what it decides from the worker's
assignment, and what it does then (tester49 F2: two offers workers split the partitions and lost a decline)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition

from bus import lag_watchdog
from processors import sole_worker
from processors.readiness import REBALANCING
from processors.sole_worker import SoleWorkerGuard, Split, split, split_reason

OFFERS, ANSWERS, CHANGELOG = "p.marketing.offers.v1", "p.marketing.responses.v1", "p.offers-customers-changelog"
INPUTS = {OFFERS: 2, ANSWERS: 3}  # 5 partitions in all
ALL = {(OFFERS, 0), (OFFERS, 1), (ANSWERS, 0), (ANSWERS, 1), (ANSWERS, 2)}


def test_a_worker_holding_every_input_partition_is_whole() -> None:
    assert split(ALL, INPUTS) is None
    assert split(ALL | {(CHANGELOG, 0), ("p.other", 7)}, INPUTS) is None  # tables' changelogs, other topics: ignored


@pytest.mark.parametrize(("assigned", "held"), [
    ({(OFFERS, 0), (ANSWERS, 1), (ANSWERS, 2)}, 3),  # a second worker took the rest
    ({(OFFERS, 1), (CHANGELOG, 0), (CHANGELOG, 1)}, 1),  # standby copies of tables are no inputs
    (set(), 0),  # a third worker with nothing: not the one worker either
    (ALL - {(ANSWERS, 2)} | {(ANSWERS, 3)}, 4),  # a partition the count does not know is not one of them
])
def test_a_worker_holding_part_of_them_is_split_with_its_count(assigned: set[tuple[str, int]], held: int) -> None:
    assert split(assigned, INPUTS) == Split(held, 5)


def test_the_reason_says_how_many_of_how_many_the_group_and_what_to_do() -> None:
    reason = split_reason("offers", Split(30, 60), "omnibus.offers")
    assert reason.startswith("this worker holds 30 of the 60 partitions of its inputs: another offers worker runs in "
                             "consumer group omnibus.offers")
    assert "processes nothing" in reason and "stop the other worker" in reason and "committed offsets" in reason


class Consumer:
    """What the guard reads of faust's consumer: the assignment, the partition counts in the group's metadata."""

    def __init__(self, assigned: set[tuple[str, int]], counts: dict[str, int] | None = None) -> None:
        self.assigned = assigned
        self.counts = counts
        self.paused: set[Any] = set()
        self.changing = False  # True: aiokafka's thread is changing the assignment (its assert)

    def assignment(self) -> set[TopicPartition]:
        if self.changing:
            raise AssertionError("Partition is not assigned")
        return {TopicPartition(topic, p) for topic, p in self.assigned}

    def topic_partitions(self, topic: str) -> int | None:
        if self.counts is None:
            raise RuntimeError("consumer not started")
        return self.counts.get(topic)

    def pause_partitions(self, tps: Any) -> None:
        self.paused.update(tps)


class App:
    def __init__(self, consumer: Consumer) -> None:
        self.consumer, self.rebalancing = consumer, False
        self.conf = SimpleNamespace(id="omnibus.offers")
        self.timers: list[Any] = []

    def timer(self, interval_s: float, name: str) -> Any:
        def keep(body: Any) -> Any:
            self.timers.append(body)
            return body
        return keep


class Message:
    acked = False


def batch(size: int = 3) -> list[Any]:
    return [SimpleNamespace(message=Message()) for _ in range(size)]


def gauges() -> tuple[float, float, float]:
    return tuple(gauge.labels("offers")._value.get() for gauge in (  # type: ignore[return-value]
        sole_worker.SPLIT, sole_worker.HELD, sole_worker.TOTAL))


@pytest.fixture
def fresh_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new lazy logger, first used inside ``capture_logs`` (see tests/bus/test_lag_watchdog.py)."""
    from bus.logging import get_logger

    monkeypatch.setattr(sole_worker, "log", get_logger(sole_worker.__name__))


def test_the_one_worker_processes_its_batches() -> None:
    guard = SoleWorkerGuard(App(Consumer(ALL | {(CHANGELOG, 0)}, INPUTS)), "offers", INPUTS)  # type: ignore[arg-type]
    events = batch()
    assert guard.reason() is None and guard.admits(events)
    assert not any(e.message.acked for e in events)  # faust acknowledges them once they are handled
    assert gauges() == (0, 5, 5) and guard.holding() is None


@pytest.mark.usefixtures("fresh_log")
def test_a_split_worker_holds_its_batch_back_pauses_its_inputs_and_says_why_once_a_minute() -> None:
    from structlog.testing import capture_logs

    consumer = Consumer({(OFFERS, 0), (ANSWERS, 1), (CHANGELOG, 0)}, INPUTS)
    now = [0.0]
    guard = SoleWorkerGuard(App(consumer), "offers", INPUTS, clock=lambda: now[0])  # type: ignore[arg-type]
    events = batch()
    with capture_logs() as lines:
        assert not guard.admits(events)
        for second in (5.0, 30.0, 61.0):
            now[0] = second
            assert "holds 2 of the 5 partitions" in (guard.reason() or "")
    assert all(e.message.acked for e in events)  # held back: faust never commits past them
    assert consumer.paused == {TopicPartition(OFFERS, 0), TopicPartition(ANSWERS, 1)}  # the inputs, not the tables
    errors = [line for line in lines if line["log_level"] == "error"]
    assert [(line["event"], line["held"], line["total"], line["times"]) for line in errors] == [
        (sole_worker.SPLIT_LINE, 2, 5, 1), (sole_worker.SPLIT_LINE, 2, 5, 3)]
    assert errors[0]["group"] == "omnibus.offers" and "stop the other worker" in errors[0]["reason"]
    assert gauges() == (1, 2, 5)
    assert "holds 2 of the 5" in (guard.holding() or "")  # the lag watchdog leaves the paused partitions alone


@pytest.mark.usefixtures("fresh_log")
def test_once_the_other_worker_left_it_processes_again_and_says_so() -> None:
    from structlog.testing import capture_logs

    consumer = Consumer({(OFFERS, 1)}, INPUTS)
    guard = SoleWorkerGuard(App(consumer), "offers", INPUTS)  # type: ignore[arg-type]
    assert not guard.admits(batch())
    consumer.assigned = set(ALL)  # the rebalance after the other worker stopped
    with capture_logs() as lines:
        events = batch()
        assert guard.admits(events) and not any(e.message.acked for e in events)
        assert guard.admits(batch())
    assert [line["event"] for line in lines] == [sole_worker.WHOLE_LINE]  # once
    assert gauges() == (0, 5, 5) and guard.holding() is None


def test_during_a_rebalance_a_batch_is_held_back_without_a_judgement() -> None:
    consumer = Consumer({(OFFERS, 1)}, INPUTS)
    app = App(consumer)
    guard = SoleWorkerGuard(app, "offers", INPUTS)  # type: ignore[arg-type]
    app.rebalancing = True  # the assignment is half-way: no error line, no gauge, no pause
    events = batch()
    assert not guard.admits(events) and all(e.message.acked for e in events)
    assert consumer.paused == set() and guard.holding() is None
    consumer.changing = True  # aiokafka's thread changes the assignment under the read
    assert guard.reason() == REBALANCING and not guard.admits(batch())


def test_the_partition_counts_are_the_clusters_when_known_else_the_declared_ones() -> None:
    consumer = Consumer(set(ALL), {OFFERS: 2, ANSWERS: 6})  # the cluster has more partitions than declared
    guard = SoleWorkerGuard(App(consumer), "offers", INPUTS)  # type: ignore[arg-type]
    assert guard.partitions() == {OFFERS: 2, ANSWERS: 6} and guard.current() == Split(5, 8)
    consumer.counts = None  # no metadata yet
    assert guard.partitions() == INPUTS and guard.current() is None


async def test_install_judges_on_a_timer_and_holds_the_lag_watchdog_while_split() -> None:
    consumer = Consumer({(OFFERS, 0)}, INPUTS)
    app = App(consumer)
    guard = sole_worker.install(app, "offers", INPUTS)  # type: ignore[arg-type]
    assert lag_watchdog.held_on_purpose(app) is None  # not judged yet
    (judge,) = app.timers
    await judge()  # a paused worker gets no batch: the timer judges it
    assert consumer.paused == {TopicPartition(OFFERS, 0)}
    assert lag_watchdog.held_on_purpose(app) == guard.holding() is not None
