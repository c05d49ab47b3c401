"""A commit whose partitions all moved in a rebalance is dropped, not a crash of the worker; others go through."""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

from bus.commit_assigned import assigned_only, install

ORIGINAL = getattr(AIOKafkaConsumerThread._commit, "__wrapped__", AIOKafkaConsumerThread._commit)


class Thread:
    """What faust's ``AIOKafkaConsumerThread._commit`` reads of its thread, around a given aiokafka consumer."""

    log = logging.getLogger(__name__)

    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer
        self.tp_last_committed_at: dict[TP, float] = {}
        self.crashed: list[BaseException] = []

    def _ensure_consumer(self) -> Any:
        return self.consumer

    def assignment(self) -> set[TP]:
        return AIOKafkaConsumerThread.assignment(self)  # type: ignore[arg-type]

    async def crash(self, exc: BaseException) -> None:
        self.crashed.append(exc)


class Committing:
    """An aiokafka consumer assigned ``assigned`` that records what it is asked to commit."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})


async def test_a_commit_before_the_subscription_was_assigned_is_not_committed_and_does_not_crash_the_worker() -> None:
    # aiokafka holds no assignment for a subscription not assigned yet; the main loop had picked these partitions
    # against the assignment it saw (faust's Consumer._commit_offsets) and flushed.
    consumer = AIOKafkaConsumer(group_id="identity", bootstrap_servers="localhost:9")
    consumer.subscribe(topics=["contact.events"])
    thread = Thread(consumer)
    assert await assigned_only(ORIGINAL)(thread, {TP("contact.events", 0): 12}) is False
    assert thread.crashed == []


async def test_a_commit_whose_partitions_all_went_to_another_member_is_not_committed() -> None:
    thread = Thread(Committing({TopicPartition("contact.events", 1)}))
    assert await assigned_only(ORIGINAL)(thread, {TP("contact.events", 0): 12}) is False
    assert thread.crashed == [] and thread.consumer.commits == []


async def test_the_partitions_still_assigned_are_committed_and_only_those() -> None:
    thread = Thread(Committing({TopicPartition("contact.events", 1)}))
    offsets = {TP("contact.events", 0): 12, TP("contact.events", 1): 40}
    assert await assigned_only(ORIGINAL)(thread, offsets) is True
    assert thread.consumer.commits == [{TopicPartition("contact.events", 1): 40}] and thread.crashed == []


async def test_nothing_to_commit_asks_nothing_of_aiokafka() -> None:
    thread = Thread(Committing({TopicPartition("contact.events", 1)}))
    assert await assigned_only(ORIGINAL)(thread, {}) is False
    assert thread.consumer.commits == [] and thread.crashed == []


async def test_faust_s_own_commit_crashes_the_worker_on_the_same_rebalance() -> None:
    # What the patch is for: faust-streaming 0.15 hands aiokafka the empty map and crashes on its refusal.
    consumer = AIOKafkaConsumer(group_id="identity", bootstrap_servers="localhost:9")
    consumer.subscribe(topics=["contact.events"])
    consumer._subscription.assign_from_subscribed({TopicPartition("contact.events", 1)})  # the rebalance's outcome
    thread = Thread(consumer)
    assert await ORIGINAL(thread, {TP("contact.events", 0): 12}) is False
    assert [type(exc).__name__ for exc in thread.crashed] == ["ValueError"]
    assert await assigned_only(ORIGINAL)(thread, {TP("contact.events", 0): 12}) is False
    assert [type(exc).__name__ for exc in thread.crashed] == ["ValueError"]  # no second crash


def test_installed_once_on_faust_s_consumer_thread() -> None:
    install()
    patched = AIOKafkaConsumerThread._commit
    install()
    assert AIOKafkaConsumerThread._commit is patched and patched.omnibus_commit_assigned  # type: ignore[attr-defined]
