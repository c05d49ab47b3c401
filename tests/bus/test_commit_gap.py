"""faust-streaming #606: a record at the head that was never acknowledged is not committed past."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faust.transport.consumer import Consumer
from faust.types import TP
from intervaltree import IntervalTree

from bus import commit_gap
from bus.app import create_app
from bus.commit_gap import head_gap, install
from bus.consume import hold_back
from tests.support.settings import isolated_settings

TOPIC, COMPACTED = "p.identity.graph.v1", "p.customer.identifiers.v1"


class Offsets:
    """The parts of faust's Consumer that ``_new_offset`` reads."""

    def __init__(self, committed: int | None, acked: list[int]) -> None:
        self._acked = defaultdict(list, {TP(TOPIC, 0): list(acked), TP(COMPACTED, 0): list(acked)})
        self._acked_index = defaultdict(set, {tp: set(acked) for tp in self._acked})
        self._gap = defaultdict(IntervalTree)
        self._committed_offset = defaultdict(lambda: None, {tp: committed for tp in self._acked})


def test_a_gap_at_the_head_is_any_offset_between_the_committed_and_the_lowest_acknowledged() -> None:
    assert head_gap([11, 12], [], committed=10)
    assert not head_gap([10, 11], [], committed=10)
    assert not head_gap([12], [10], committed=10)  # faust recorded 10.. as a gap (records that do not exist)
    assert not head_gap([5], [], committed=None) and not head_gap([], [], committed=3)


def test_a_one_record_gap_at_the_head_is_not_committed_past_on_our_topics_only() -> None:
    install({TOPIC}.__contains__)
    held_back = Offsets(committed=10, acked=[11, 12, 13])  # record 10 held back: faust alone would commit 14
    assert Consumer._new_offset(held_back, TP(TOPIC, 0)) is None
    assert Consumer._new_offset(held_back, TP(COMPACTED, 0)) == 14  # compacted: 10 may be gone, faust's rule
    complete = Offsets(committed=10, acked=[10, 11, 12])
    assert Consumer._new_offset(complete, TP(TOPIC, 0)) == 13


def test_a_partition_with_no_known_committed_offset_is_not_committed_past_a_held_back_batch_on_our_topics() -> None:
    """faust forgets the committed offset of a partition never committed and of every revoked one (before the
    revocation's last commit): with nothing to tell a gap by it commits the first run of acknowledged offsets,
    here past records 0-4, held back by a fenced batch (#13's residual loss)."""
    install({TOPIC}.__contains__)
    fenced_then_acked = Offsets(committed=None, acked=[5, 6])
    assert Consumer._new_offset(fenced_then_acked, TP(TOPIC, 0)) is None
    assert fenced_then_acked._acked[TP(TOPIC, 0)] == [5, 6]  # kept: counted once the seek sets the offset
    assert Consumer._new_offset(fenced_then_acked, TP(COMPACTED, 0)) == 7  # faust's rule (what we had before)
    fenced_then_acked._committed_offset[TP(TOPIC, 0)] = 0  # bus.seek_uncommitted: the log start offset
    assert Consumer._new_offset(fenced_then_acked, TP(TOPIC, 0)) is None  # a head gap now
    fenced_then_acked._acked[TP(TOPIC, 0)][:0] = [0, 1, 2, 3, 4]  # read again and processed
    assert Consumer._new_offset(fenced_then_acked, TP(TOPIC, 0)) == 7


async def test_a_revocation_does_not_commit_past_records_never_processed() -> None:
    """The loss of the failed `kill -9` run (57 events, #13; read from its broker's data directory): graph
    partitions committed at 8 held a head gap (8-12 not yet acknowledged, 13-19 acknowledged); a rebalance
    revoked them, and the revocation's commit, taken after faust's ``on_partitions_revoked`` had dropped the
    committed offset, committed 25 for the acknowledgements of the batch that finished while it waited
    (20-24). Records 8-19, whose effects were missing, were never read again. Here the same sequence runs
    through faust's own ``Consumer.on_partitions_revoked``."""
    import faust
    from aiokafka.structs import ConsumerRecord

    from bus.consume_bulk import acknowledge

    install({TOPIC}.__contains__)
    app = faust.App("commit-gap-revoke", broker="kafka://127.0.0.1:1", store="memory://", web_enabled=False)
    consumer = app.consumer  # not started: the bookkeeping alone
    tp = TP(TOPIC, 0)
    commit_gap.sought(consumer, app.consumer_generation_id)  # the generation's seek is done: offsets known
    consumer._committed_offset[tp] = 8

    def records(offsets: range) -> dict[TP, list[ConsumerRecord]]:
        return {tp: [ConsumerRecord(TOPIC, 0, offset, 0, 0, None, b"", None, 0, 0, []) for offset in offsets]}

    acknowledge(app, records(range(13, 20)))
    committable: list[int | None] = []

    async def revocation(revoked: set[TP]) -> None:  # the app's handler: the batch in flight finishes, then a commit
        acknowledge(app, records(range(20, 25)))
        committable.append(consumer._new_offset(tp))

    consumer._on_partitions_revoked = revocation  # type: ignore[method-assign]
    await consumer.on_partitions_revoked({tp})
    assert committable == [None]  # faust alone: 25


def test_nothing_is_committed_between_an_assignment_and_the_seek_that_reads_its_committed_offsets() -> None:
    """faust resumes the stream partitions before it reads the committed offsets of the new generation
    (``Recovery.on_recovery_completed``); records processed meanwhile are checked against what its bookkeeping
    still holds: the generation before's values, or a commit that failed (recorded all the same). Here 30 is
    such a value, the broker's committed offset is 20, and 20-29 were skipped: faust alone commits 36."""
    import faust

    install({TOPIC}.__contains__)
    app = faust.App("commit-gap-window", broker="kafka://127.0.0.1:1", store="memory://", web_enabled=False)
    consumer = app.consumer
    tp = TP(TOPIC, 0)
    app.consumer_generation_id = 4
    commit_gap.sought(consumer, 4)
    app.consumer_generation_id = 5  # assigned again; faust's seek has not read the committed offsets yet
    consumer._committed_offset[tp] = 30
    consumer._acked[tp].extend(range(30, 36))
    consumer._acked_index[tp].update(range(30, 36))
    assert Consumer._new_offset(consumer, tp) is None
    commit_gap.sought(consumer, 4)  # a seek that began before the rebalance proves nothing for generation 5
    assert Consumer._new_offset(consumer, tp) is None
    consumer._committed_offset[tp] = 20  # the seek of generation 5: the broker's committed offset
    commit_gap.sought(consumer, 5)
    assert Consumer._new_offset(consumer, tp) is None  # a head gap (20-29), sought back later
    consumer._acked[tp][:0] = list(range(20, 30))
    assert Consumer._new_offset(consumer, tp) == 36


async def test_a_head_gap_that_does_not_close_is_sought_back_to_the_committed_offset() -> None:
    now = [0.0]
    install({TOPIC}.__contains__, seek_after_s=10.0, clock=lambda: now[0])
    sought: list[tuple[TP, int]] = []

    class Seeking(Offsets):
        async def seek(self, tp: TP, offset: int) -> None:
            sought.append((tp, offset))

    held_back = Seeking(committed=10, acked=[11, 12])
    assert Consumer._new_offset(held_back, TP(TOPIC, 0)) is None
    now[0] = 5.0
    assert Consumer._new_offset(held_back, TP(TOPIC, 0)) is None
    await asyncio.sleep(0)
    assert sought == []
    now[0] = 10.5
    assert Consumer._new_offset(held_back, TP(TOPIC, 0)) is None
    await asyncio.sleep(0)
    assert sought == [(TP(TOPIC, 0), 10)]


async def test_a_jump_in_fetched_offsets_is_not_a_gap_to_commit_over_on_our_topics() -> None:
    install({TOPIC}.__contains__)
    offsets = Offsets(committed=10, acked=[])
    await Consumer._add_gap(offsets, TP(TOPIC, 0), 11, 14)
    assert not offsets._gap[TP(TOPIC, 0)]
    await Consumer._add_gap(offsets, TP(COMPACTED, 0), 11, 14)
    assert offsets._gap[TP(COMPACTED, 0)]


@pytest.mark.kafka
@pytest.mark.timeout(120)
async def test_records_held_back_at_the_head_of_a_partition_never_committed_are_processed_before_it_commits(
    bootstrap_servers: str, topic_factory, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """The loss of #13 on the broker: the first records of a partition with no committed offset are held back
    (a batch fenced, ``bus.consume.hold_back``), the next ones processed and acknowledged. faust alone commits
    past the held-back records and never reads them again; here the partition commits nothing until they
    were read again (``bus.commit_gap``'s seek back) and processed."""
    topic = topic_factory(2)
    settings = isolated_settings(bootstrap_servers, partitions=2)
    app = create_app("gap-test", settings, broker_commit_interval=0.2, datadir=str(tmp_path))
    strict_before = commit_gap._installed["strict"]  # noqa: SLF001
    install(lambda name: name == topic or strict_before(name), seek_after_s=1.0)
    seen: list[tuple[int, int]] = []
    held: set[int] = set()

    async def process(stream: Any) -> None:
        async for event in stream.events():
            partition, offset = event.message.partition, event.message.offset
            if partition == 1 and offset < 3 and offset not in held:
                held.add(offset)
                hold_back([event])  # fenced the first time: never acknowledged
                continue
            seen.append((partition, offset))

    app.agent(app.topic(topic, key_serializer="raw", value_serializer="raw"), name="gap-test.process")(process)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await producer.start()
    await admin.start()
    await app.start()
    tested, busy = TopicPartition(topic, 1), TopicPartition(topic, 0)
    early: list[tuple[int | None, set[int]]] = []  # (committed, offsets processed by then) while not all processed
    try:
        await producer.send_and_wait(topic, b"ready", partition=busy.partition)
        deadline = time.monotonic() + 60
        while (0, 0) not in seen and time.monotonic() < deadline:  # assigned, sought and consuming
            await asyncio.sleep(0.1)
        assert (0, 0) in seen
        for n in range(10):
            await producer.send_and_wait(topic, f"record {n}".encode(), partition=tested.partition)
        deadline = time.monotonic() + 60  # ends as soon as committed; a loaded machine commits seconds late
        committed = None
        while time.monotonic() < deadline:
            committed = await _committed(admin, app.conf.id, tested)
            processed = {offset for partition, offset in seen if partition == 1}  # read after the commit
            if committed == 10 and processed >= set(range(10)):
                break
            early.append((committed, processed))
            await asyncio.sleep(0.1)
    finally:
        await app.stop()
        await admin.close()
        await producer.stop()
        install(strict_before)
    assert held == {0, 1, 2}
    assert {offset for partition, offset in seen if partition == 1} >= set(range(10))
    assert committed == 10
    assert all(not offset or processed >= {0, 1, 2} for offset, processed in early), early


async def _committed(admin: AIOKafkaAdminClient, group: str, tp: TopicPartition) -> int | None:
    offsets = await admin.list_consumer_group_offsets(group)
    return offsets[tp].offset if tp in offsets else None
