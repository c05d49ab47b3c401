import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bus.logging import get_logger
from processors.identity import assignments_repair
from processors.identity.assignments_repair import AssignmentRepair, LateRows, is_late
from processors.identity.graph.outputs import Assigned, Unassigned
from processors.identity.graph.state import CustomerState, IdentifierState

KEY = "PHONE:+33612345678"


def _rows(states: dict[str, Any], owned: bool = True, grace_s: float = 10.0) -> LateRows:
    return LateRows(states.get, lambda key: owned, grace_s)


def test_a_row_is_late_only_when_older_than_the_node_state() -> None:
    assigned = IdentifierState(owner="cus_b", version=3)
    assert is_late(assigned, 2, tombstone=False)
    assert not is_late(assigned, 3, tombstone=False)
    assert is_late(assigned, 2, tombstone=True)  # a late eviction of an older assignment
    evicted = IdentifierState(owner=None, version=4)
    assert is_late(evicted, 4, tombstone=False)  # readers need a version above the eviction's
    assert not is_late(evicted, 5, tombstone=False)
    assert not is_late(evicted, 1, tombstone=True)  # any tombstone says "nobody"
    assert not is_late(IdentifierState(), 1, tombstone=False)  # nothing decided: nothing to compare


def test_a_late_row_not_followed_by_a_current_one_is_written_over_after_the_grace() -> None:
    rows = _rows({KEY: IdentifierState(owner="cus_b", version=3)})
    rows.observe(KEY, 3, False, now_s=0.0)
    rows.observe(KEY, 2, False, now_s=1.0)  # the paused worker's row, after the newer one
    assert rows.due(now_s=5.0) == []  # it may still be early
    assert rows.due(now_s=11.5) == [Assigned(KEY, "cus_b", 3, "")]
    assert rows.due(now_s=30.0) == []  # once


def test_an_early_row_followed_by_the_current_one_is_not_written_again() -> None:
    rows = _rows({KEY: IdentifierState(owner="cus_b", version=3)})
    rows.observe(KEY, 1, False, now_s=0.0)  # a reader from the start sees history first
    rows.observe(KEY, 2, False, now_s=0.1)
    rows.observe(KEY, 3, False, now_s=0.2)
    assert len(rows) == 0
    assert rows.due(now_s=100.0) == []


def test_a_late_row_after_an_eviction_is_answered_with_a_tombstone() -> None:
    rows = _rows({KEY: IdentifierState(owner=None, version=4)}, grace_s=0.0)
    rows.observe(KEY, 4, False, now_s=0.0)
    assert rows.due(now_s=0.0) == [Unassigned(KEY, 4)]


def test_a_late_tombstone_is_answered_with_the_current_row() -> None:
    rows = _rows({KEY: IdentifierState(owner="cus_b", version=5)}, grace_s=0.0)
    rows.observe(KEY, 4, True, now_s=0.0)
    assert rows.due(now_s=0.0) == [Assigned(KEY, "cus_b", 5, "")]


def test_only_the_owner_of_the_identifier_with_a_newer_state_writes() -> None:
    states: dict[str, Any] = {KEY: IdentifierState(owner="cus_b", version=3), "cus_b": CustomerState()}
    elsewhere = _rows(states, owned=False, grace_s=0.0)
    elsewhere.observe(KEY, 2, False, now_s=0.0)
    assert elsewhere.due(now_s=1.0) == []
    stale = _rows({KEY: IdentifierState(owner="cus_a", version=2)}, grace_s=0.0)  # a paused worker's state
    stale.observe(KEY, 3, False, now_s=0.0)
    stale.observe(KEY, 2, False, now_s=0.0)  # its own late row: not older than what it holds
    assert stale.due(now_s=1.0) == []
    not_a_node = _rows(states, grace_s=0.0)
    not_a_node.observe("cus_b", 1, False, now_s=0.0)
    assert not_a_node.due(now_s=1.0) == []


def test_a_suspect_whose_state_moved_on_is_judged_again_when_due() -> None:
    states: dict[str, Any] = {KEY: IdentifierState(owner="cus_b", version=3)}
    rows = _rows(states, grace_s=0.0)
    rows.observe(KEY, 2, False, now_s=0.0)
    states[KEY] = IdentifierState(owner="cus_c", version=4)
    assert rows.due(now_s=1.0) == [Assigned(KEY, "cus_c", 4, "")]


async def test_the_repair_reads_rows_and_tombstones_and_publishes_what_is_due() -> None:
    published: list[Any] = []

    async def publish(outputs: Any) -> None:
        published.extend(outputs)

    clock = [0.0]
    feed = SimpleNamespace(listeners=[])
    states = {KEY: IdentifierState(owner="cus_b", version=3), "EMAIL:a@b.example": IdentifierState(owner="cus_b",
                                                                                                     version=2)}
    repair = AssignmentRepair(SimpleNamespace(), feed, _rows(states, grace_s=5.0),  # type: ignore[arg-type]
                              lambda value, record: {"version": int(value)}, publish, lambda: None,
                              clock=lambda: clock[0])
    assert feed.listeners == [repair.observe]
    record = SimpleNamespace
    repair.observe(record(key=KEY.encode(), value=b"2", headers=()))
    repair.observe(record(key=b"EMAIL:a@b.example", value=None,
                          headers=(("omnibus-assignment-version", b"1"),)))
    repair.observe(record(key=None, value=b"1", headers=()))
    repair.observe(record(key=b"PHONE:+33600000000", value=b"not a number", headers=()))
    assert await repair.check() == 0  # owned() is None (rebalancing): no rescan, and not yet due
    clock[0] = 6.0
    assert await repair.check() == 2
    assert sorted(published, key=repr) == sorted([Assigned(KEY, "cus_b", 3, ""),
                                                  Assigned("EMAIL:a@b.example", "cus_b", 2, "")], key=repr)
    await asyncio.sleep(0)


async def _rows_of(settings: Any, topic: str) -> list[Any]:
    from tests.support.kafka_io import read_raw

    return await read_raw(settings.kafka.bootstrap_servers, topic)


@pytest.mark.kafka
@pytest.mark.timeout(300)
async def test_a_late_row_written_after_a_newer_one_does_not_survive_compaction(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    """A stale row lands after the current one; the owner writes the current row again, so compaction (forced
    with a small ``segment.ms`` and ``min.cleanable.dirty.ratio``) leaves the current row, and a fresh reader
    takes it. Without the repair the key's only row after compaction is the stale one."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    from bus.kafka_client import connection_options
    from bus.topic import KafkaRecord
    from bus.topics import CUSTOMER_IDENTIFIERS
    from processors.identity.announcements import Announcer
    from tests.processors.identity.broker import assignments, running_workers, wait_until_quiet, watched_topics
    from tests.processors.identity.support import unlimited_settings
    from tests.processors.identity.test_agent import publish, workload
    from tests.support.settings import settings_with_topics

    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    topic = CUSTOMER_IDENTIFIERS.name(settings.topics)
    admin = AIOKafkaAdminClient(**connection_options(settings.kafka))
    await admin.start()
    try:  # compaction as soon as the broker's cleaner (every 15 s) looks: every record rolls a segment
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={
            **CUSTOMER_IDENTIFIERS.configs(), "segment.ms": "200", "min.cleanable.dirty.ratio": "0.01",
            "min.compaction.lag.ms": "0"})])
    finally:
        await admin.close()
    await publish(settings, workload(size=30, universe=12, seed=5))
    async with running_workers(settings, unlimited_settings(), tmp_path, 1) as (worker,):
        await wait_until_quiet(settings, watched_topics(worker), worker.app.conf.id)
        before = await assignments(settings)
        key, customer = sorted(before.items())[0]
        state = worker.store.get_node(key)
        assert state is not None and state.owner == customer
        stale = Announcer(settings.topics, lambda ref: None).outgoing(  # type: ignore[arg-type,return-value]
            Assigned(key, "cus_stale", state.version - 1, "evt-stale"))
        await worker.producer.publish_many(stale)  # what a paused worker's producer sends when it resumes
        assert (await assignments(settings))[key] == customer  # readers compare versions while both rows exist
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the owner notices the late row and writes the current one again
            last = [r for r in await _rows_of(settings, topic) if r.key == key.encode()][-1]
            if b"cus_stale" not in last.value:
                break
            await asyncio.sleep(1.0)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # roll the segment (a record of a key nobody owns), let the cleaner run
            await worker.producer.send([KafkaRecord(topic, b"TEST:segment-roll", None, ())])
            if len([r for r in await _rows_of(settings, topic) if r.key == key.encode()]) == 1:
                break
            await asyncio.sleep(2.0)
        left = [r for r in await _rows_of(settings, topic) if r.key == key.encode()]
        assert len(left) == 1, "the broker did not compact the topic in time"
        assert (await assignments(settings))[key] == customer  # a fresh reader after compaction


def test_a_worker_whose_consumer_has_not_started_or_has_stopped_owns_no_graph_partition_yet() -> None:
    """Found on main: rows read before faust's consumer started (or after it stopped) asked it for its
    assignment, which raised ``ConsumerNotStarted`` inside the follower and ended it."""
    from faust.exceptions import ConsumerNotStarted

    from processors.identity.assignments_repair import graph_ownership

    def not_started() -> Any:
        raise ConsumerNotStarted("Consumer thread not yet started")

    app = SimpleNamespace(rebalancing=False, in_recovery=False, consumer=SimpleNamespace(assignment=not_started))
    assert graph_ownership(app, "g")() is None
    app.consumer = SimpleNamespace(assignment=lambda: [SimpleNamespace(topic="g", partition=1),
                                                       SimpleNamespace(topic="other", partition=2)])
    assert graph_ownership(app, "g")() == frozenset({1})


def test_the_graph_partitions_owned_are_read_again_in_each_new_consumer_generation_and_never_mid_rebalance() -> None:
    from processors.identity.assignments_repair import graph_ownership

    calls: list[int] = []
    held = [SimpleNamespace(topic="g", partition=1)]

    def assignment() -> Any:
        calls.append(1)
        return list(held)

    app = SimpleNamespace(rebalancing=False, in_recovery=False, consumer_generation_id=3,
                          consumer=SimpleNamespace(assignment=assignment))
    owned = graph_ownership(app, "g")
    assert owned() == owned() == frozenset({1}) and len(calls) == 1  # one generation, read once
    app.rebalancing = True  # faust flags the rebalance before the assignment changes
    held[:] = [SimpleNamespace(topic="g", partition=0)]
    assert owned() is None
    app.rebalancing, app.consumer_generation_id = False, 4
    assert owned() == frozenset({0}) and len(calls) == 2


@pytest.fixture
def fresh_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """The module's logger as a new lazy proxy, first used inside ``capture_logs``: a logger that an earlier test
    used under ``configure_logging`` (``cache_logger_on_first_use``) keeps the processor list it was bound with, and
    after a ``structlog.reset_defaults`` that list is no longer the one ``capture_logs`` fills (CI: both tests below
    captured nothing when they ran after other suites)."""
    monkeypatch.setattr(assignments_repair, "log", get_logger(assignments_repair.__name__, component="identity"))


@pytest.mark.usefixtures("fresh_log")
async def test_a_broker_outage_fails_the_repair_with_one_line_a_window_not_a_traceback_every_check() -> None:
    """Sample: with the broker away the repair's every check (2 s) failed its rescan and logged a full traceback."""
    from aiokafka.errors import KafkaConnectionError
    from structlog.testing import capture_logs

    from processors.identity.assignments_repair import FAILURE_LOG_WINDOW_S

    clock = [0.0]

    async def publish(outputs: Any) -> None:
        return None

    repair = AssignmentRepair(SimpleNamespace(), SimpleNamespace(listeners=[]),  # type: ignore[arg-type]
                              _rows({}), lambda value, record: {}, publish, lambda: frozenset({0}),
                              clock=lambda: clock[0])
    rescans: list[float] = []

    async def broker_away() -> None:
        rescans.append(clock[0])
        raise KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 9092, <AddressFamily.AF_INET: 2>)]")

    repair.rescan = broker_away  # type: ignore[method-assign]
    with capture_logs() as lines:
        for tick in range(150):  # five minutes of checks every 2 s
            clock[0] = tick * 2.0
            await repair.check_or_note()
    assert len(rescans) == 150  # every check tries again
    failed = [line for line in lines if line["event"].startswith("the assignment repair failed")]
    assert len(failed) == 5 == 300 / FAILURE_LOG_WINDOW_S
    assert [line["failures_since_last_line"] for line in failed] == [1, 30, 30, 30, 30]
    assert all(line["log_level"] == "warning" and not line["exc_info"] for line in failed)
    assert failed[0]["error_type"] == "KafkaConnectionError"


@pytest.mark.usefixtures("fresh_log")
async def test_an_unexpected_repair_failure_keeps_its_traceback_in_its_window_line() -> None:
    from structlog.testing import capture_logs

    async def publish(outputs: Any) -> None:
        return None

    repair = AssignmentRepair(SimpleNamespace(), SimpleNamespace(listeners=[]),  # type: ignore[arg-type]
                              _rows({}), lambda value, record: {}, publish, lambda: frozenset({0}),
                              clock=lambda: 0.0)

    async def bug() -> None:
        raise ZeroDivisionError("a programming error")

    repair.rescan = bug  # type: ignore[method-assign]
    with capture_logs() as lines:
        await repair.check_or_note()
        await repair.check_or_note()
    failed = [line for line in lines if line["event"].startswith("the assignment repair failed")]
    assert len(failed) == 1 and failed[0]["log_level"] == "error" and failed[0]["exc_info"] is True
