from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bus import lag_watchdog, stall_exit
from bus.app import create_app
from bus.faust_partitions import PartitionProgress
from bus.lag_watchdog import LAG_RECOVERIES, LAG_STALLED, LagStallDetector
from tests.support.settings import isolated_settings


def _p(position: int | None, committed: int | None, end: int) -> PartitionProgress:
    return PartitionProgress(position, committed, end)


def test_a_partition_is_stalled_when_records_wait_and_neither_position_nor_commit_moves() -> None:
    detector = LagStallDetector(stall_after_s=60)
    assert detector.check({"p0": _p(58, 58, 350), "p1": _p(10, 10, 10)}, now_s=0) == []
    assert detector.check({"p0": _p(58, 58, 350), "p1": _p(10, 10, 10)}, now_s=59) == []
    # #13 run 12: the resumed worker consumed nothing for 4 minutes with a lag of 292
    assert detector.check({"p0": _p(58, 58, 350), "p1": _p(10, 10, 10)}, now_s=60) == ["p0"]
    assert detector.check({"p0": _p(90, 58, 350)}, now_s=61) == []  # it fetched: the clock starts again
    assert detector.check({"p0": _p(90, 70, 350)}, now_s=120) == []  # it committed
    assert detector.check({"p0": _p(90, 70, 350)}, now_s=180) == ["p0"]


def test_an_idle_partition_a_never_committed_one_and_a_revoked_one() -> None:
    detector = LagStallDetector(stall_after_s=5)
    assert detector.check({"p": _p(7, 7, 7)}, now_s=0) == []
    assert detector.check({"p": _p(7, 7, 7)}, now_s=100) == []  # nothing waits: idle, not stalled
    # records dropped during a suspended flow on a never-committed partition (bus.seek_uncommitted's case)
    assert detector.check({"q": _p(34, None, 34)}, now_s=100) == []
    assert detector.check({"q": _p(34, None, 34)}, now_s=105) == ["q"]
    assert detector.check({}, now_s=106) == []  # revoked: forgotten
    assert detector.check({"q": _p(34, None, 34)}, now_s=107) == []


def test_a_second_stall_after_a_recovery_escalates_and_progress_clears_it() -> None:
    detector = LagStallDetector(stall_after_s=5)
    stuck = _p(3, 3, 9)
    detector.check({"p": stuck}, now_s=0)
    assert detector.check({"p": stuck}, now_s=5) == ["p"]
    assert not detector.escalate("p")
    detector.recovered("p", stuck, now_s=5)
    assert detector.check({"p": stuck}, now_s=9) == []
    assert detector.check({"p": stuck}, now_s=10) == ["p"]
    assert detector.escalate("p")  # a seek did not help
    detector.check({"p": _p(5, 3, 9)}, now_s=11)  # it moved
    assert not detector.escalate("p")


def test_a_stalled_partition_stays_known_stalled_until_its_commit_moves_or_nothing_waits() -> None:
    """tester16 F5: what ``/ready`` reads. The F5 sample: 138 records waiting, nothing consumed for the threshold."""
    detector = LagStallDetector(stall_after_s=60)
    stuck = _p(5000, 5000, 5138)
    detector.check({"p1": stuck, "p2": _p(10, 10, 10)}, now_s=0)
    assert detector.standing() == {}  # not yet: standing still for less than the threshold is no stall
    assert detector.check({"p1": stuck, "p2": _p(10, 10, 10)}, now_s=60) == ["p1"]
    assert detector.standing() == {"p1": 138}
    detector.recovered("p1", stuck, now_s=60)  # the seek
    detector.check({"p1": _p(4990, 5000, 5140)}, now_s=70)  # sought back: the position moved, the commit did not
    assert detector.standing() == {"p1": 140}
    detector.check({"p1": _p(5100, 5100, 5140)}, now_s=80)  # it committed: moving again
    assert detector.standing() == {}
    detector.check({"q": stuck}, now_s=0)
    detector.check({"q": stuck}, now_s=60)
    detector.check({"q": _p(5000, 5000, 5000)}, now_s=70)  # nothing waits any more (e.g. the log was truncated)
    assert detector.standing() == {}
    detector.check({"r": stuck}, now_s=100)
    detector.check({"r": stuck}, now_s=160)
    assert detector.standing() == {"r": 138}
    detector.check({}, now_s=170)  # revoked
    assert detector.standing() == {}
    detector.check({"r": stuck}, now_s=200)
    detector.check({"r": stuck}, now_s=260)
    detector.reset()  # a rebalance, or the broker does not answer
    assert detector.standing() == {}


def test_stalled_on_names_an_apps_stalled_partitions() -> None:
    class App:  # faust's App stand-in: weakly referenced, like the real one
        pass

    app, tp = App(), TopicPartition("omnibus.identity.observed.v1", 2)
    detector = lag_watchdog._detectors[app] = LagStallDetector(stall_after_s=5)  # noqa: SLF001
    detector.check({tp: _p(3, 3, 126)}, now_s=0)
    detector.check({tp: _p(3, 3, 126)}, now_s=5)
    assert lag_watchdog.stalled_on(app) == {"omnibus.identity.observed.v1[2]": 123}
    assert lag_watchdog.stalled_on(App()) == {}  # no watchdog in it


async def _committed(admin: AIOKafkaAdminClient, group: str, tp: TopicPartition) -> int:
    offsets = await admin.list_consumer_group_offsets(group)
    return offsets[tp].offset if tp in offsets else -1


def _value(metric: Any, *labels: str) -> float:
    return float(metric.labels(*labels)._value.get())  # noqa: SLF001


@pytest.mark.kafka
@pytest.mark.timeout(240)
async def test_stalled_partitions_are_found_and_recovered_on_the_broker(
    bootstrap_servers: str, topic_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stalls a consumer can be left in, recreated on a live worker, each with records waiting:
    partition 0 is taken out of faust's fetch set as by a full stream buffer whose drop was never reported;
    partition 1's position is moved past records nobody processed (records dropped, as during a suspended
    flow); partition 3 is paused inside aiokafka, behind faust's back, so the seek cannot help and the worker
    stops. The watchdog reports these three; 0 and 1 are sought back and every record is processed.
    Partition 2 is paused by faust on purpose (back pressure) and is left alone."""
    topic = topic_factory(4)
    settings = isolated_settings(bootstrap_servers, partitions=4)
    stops: list[str] = []
    monkeypatch.setattr(stall_exit, "exit_when_stuck", stops.append)
    stalled_seen: set[int] = set()  # partitions whose omnibus_consumer_lag_stalled was set to 1, as it was set
    watching = [False]  # from the stalls on: a slow start on a loaded machine may be flagged (and sought) before

    class RecordedGauge:  # a sampler polling the gauge missed a 0.5 s stall on a loaded machine: record each set
        def labels(self, component: str, topic_name: str, partition: str) -> Any:
            child = LAG_STALLED.labels(component, topic_name, partition)

            def set_value(value: float) -> None:
                if value == 1 and watching[0] and component == "lagwatch-test" and topic_name == topic:
                    stalled_seen.add(int(partition))
                child.set(value)

            return SimpleNamespace(set=set_value)

        def remove(self, *labels: str) -> None:
            LAG_STALLED.remove(*labels)

    monkeypatch.setattr(lag_watchdog, "LAG_STALLED", RecordedGauge())
    app = create_app("lagwatch-test", settings, lag_stall_after_s=3.0, lag_watch_interval_s=0.5,
                     commit_stall_after_s=600.0, broker_commit_interval=0.3, datadir=str(tmp_path))
    seen: dict[int, list[int]] = {0: [], 1: [], 2: [], 3: []}

    async def process(stream: Any) -> None:
        async for event in stream.events():
            seen[event.message.partition].append(event.message.offset)

    app.agent(app.topic(topic, key_serializer="raw", value_serializer="raw"), name="lagwatch-test.process")(process)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await producer.start()
    await admin.start()
    tps = [TopicPartition(topic, p) for p in range(4)]

    async def produce(count: int, partitions: tuple[int, ...] = (0, 1, 2, 3)) -> None:
        for n in range(count):
            for p in partitions:
                await producer.send_and_wait(topic, f"v{n}".encode(), key=b"k", partition=p)

    async def until(condition: Any, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if await condition():
                return True
            await asyncio.sleep(0.3)
        return False

    async def all_committed(end: int, partitions: list[int]) -> bool:
        return all([await _committed(admin, app.conf.id, tps[p]) == end for p in partitions])

    await produce(5)
    await app.start()
    try:
        assert await until(lambda: all_committed(5, [0, 1, 2, 3]), 60), "the worker did not start consuming"
        # a rebalance at start may have redelivered some of the first five (at-least-once): the stalls come after
        first = {p: len(seen[p]) for p in range(4)}
        assert all(set(seen[p]) == set(range(5)) for p in range(4)), seen
        seeks_before = [_value(LAG_RECOVERIES, "lagwatch-test", topic, str(p), "seek") for p in range(4)]
        watching[0] = True
        stops.clear()  # what a slow start may have escalated is not the scenario's
        consumer = app.consumer
        consumer.on_buffer_full(tps[0])  # a full buffer takes partition 0 out of the fetch set ...
        consumer.pause_partitions([tps[2]])  # ... faust holds 2 on purpose (and the test never resumes it) ...
        aiokafka_consumer = consumer._thread._ensure_consumer()  # type: ignore[attr-defined]  # noqa: SLF001
        aiokafka_consumer.pause(tps[3])  # ... 3 is paused where no seek reaches
        # 1 skips its new records unprocessed. Seeking after producing raced the worker: under load it had already
        # processed them, so there was no stall to flag (stalled_seen == {0, 3}). Held in aiokafka while its records
        # are written (one batch: too short to be a stall), they cannot be consumed before the seek passes them.
        aiokafka_consumer.pause(tps[1])
        await asyncio.gather(*[await producer.send(topic, f"v{n}".encode(), key=b"k", partition=1) for n in range(5, 10)])
        aiokafka_consumer.seek(tps[1], 10)
        aiokafka_consumer.resume(tps[1])
        assert seen[1][first[1]:] == []  # the scenario: nothing of 5..9 processed on 1 before the seek
        await produce(5, partitions=(0, 2, 3))

        async def recovered() -> bool:
            return await all_committed(10, [0, 1]) and len(stops) > 0

        assert await until(recovered, 90), (seen, stops)
        # what /ready reads (tester16 F5): 3 consumed nothing after its seek either; 0 and 1 committed since theirs
        # (the watchdog sees the commits at its next check)
        async def only_3_stalled() -> bool:
            return set(lag_watchdog.stalled_on(app)) == {f"{topic}[3]"}

        assert await until(only_3_stalled, 10), lag_watchdog.stalled_on(app)
    finally:
        await app.stop()
        await producer.stop()
        await admin.close()
    assert stalled_seen == {0, 1, 3}  # omnibus_consumer_lag_stalled was 1 for each
    assert seen[0][first[0]:] == seen[1][first[1]:] == list(range(5, 10))  # nothing skipped, nothing twice
    assert seen[2][first[2]:] == seen[3][first[3]:] == []
    assert [_value(LAG_RECOVERIES, "lagwatch-test", topic, str(p), "seek") - seeks_before[p] for p in range(4)] \
        == [1, 1, 0, 1]  # 3: sought back once, in vain, then the worker was stopped
    assert stops and stops[0].startswith(f"{topic}[3]")


class _Consumer:
    """What the watchdog reads of faust's consumer: partition 0 of ``contact.events`` with 5 records waiting."""

    def __init__(self) -> None:
        self.tp = TopicPartition("contact.events", 0)
        self.flow_active, self._paused_partitions, self._committed_offset = True, set(), {self.tp: 3}
        self.answers = True  # False: the consumer thread never answers (its calls queued behind one that hangs)
        self.sought: list[int] = []

    def assignment(self) -> set[Any]:
        return {self.tp}

    async def highwaters(self, *tps: Any) -> dict[Any, int]:
        if not self.answers:
            await asyncio.Event().wait()
        return {tp: 8 for tp in tps}

    async def position(self, tp: Any) -> int:
        return 3

    async def seek(self, tp: Any, offset: int) -> None:
        self.sought.append(offset)


class _App:
    """A stand-in faust app whose timer body is kept (``ticks[0]``)."""

    def __init__(self) -> None:
        self.consumer, self.rebalancing, self.in_recovery = _Consumer(), False, False
        self.topics = SimpleNamespace(acks_enabled_for=lambda topic: True, _tp_to_callback={})
        self.ticks: list[Any] = []

    def timer(self, interval_s: float, name: str) -> Any:
        return self.ticks.append


def _watched_app() -> tuple[Any, list[Any]]:
    app = _App()
    return app, app.ticks


@pytest.fixture
def fresh_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new lazy logger, first used inside ``capture_logs`` (see tests/processors/identity/test_assignments_repair)."""
    from bus.logging import get_logger

    monkeypatch.setattr(lag_watchdog, "log", get_logger(lag_watchdog.__name__))


@pytest.mark.usefixtures("fresh_log")
async def test_a_watchdog_that_judges_nothing_for_the_stall_window_logs_why_and_the_consumer_state(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """CI, 2026-12-01: identity consumed nothing for 4 minutes after a 60 s broker outage, and the lag watchdog, which
    skips every tick while faust rebalances or restores and waited for ever on a read its consumer thread did not
    answer, said nothing."""
    from structlog.testing import capture_logs

    monkeypatch.setattr(lag_watchdog, "READ_TIMEOUT_S", 0.01)
    app, ticks = _watched_app()
    now = [0.0]
    lag_watchdog.install(app, "identity", stall_after_s=60, interval_s=10, stop=lambda reason: None,
                         clock=lambda: now[0])
    with capture_logs() as lines:
        app.rebalancing = True
        for second in range(0, 130, 10):
            now[0] = float(second)
            await ticks[0]()
        app.rebalancing, app.consumer.answers = False, False
        for second in range(130, 200, 10):  # judged nothing still: the reads time out
            now[0] = float(second)
            await ticks[0]()
    blind = [line for line in lines if line["event"].startswith("lag watchdog has judged no partition")]
    assert [(line["why"], line["blind_s"]) for line in blind] == [
        ("rebalancing", 60), ("rebalancing", 120), ("offsets not read (TimeoutError)", 180)]
    assert blind[0]["rebalancing"] is True and blind[0]["assigned"] == {"contact.events": [0]}
    assert "no_position" in blind[0]["unread"]  # no aiokafka client in the stand-in
    assert set(blind[0]["tasks"]) == {"main", "consumer_thread"}
    assert app.consumer.sought == []


@pytest.mark.usefixtures("fresh_log")
async def test_a_wait_for_the_schema_registry_is_said_once_per_outage_in_one_bounded_info_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A user, 60 s into a registry outage: besides the outage's one warning and one info line (README), the lag
    watchdog wrote a ~6 KB warning with every partition set and task stack, which read as a second fault. It is now one
    info line per outage: what (no partition judged, the records wait for the registry), since when, for how long and
    which input partitions; the watchdog's other blind spells (a rebalance that does not end) keep their warning with
    the consumer's state, and the outage's own signals (the warning, the gauge) are bus.registry_outage's."""
    import json
    from datetime import UTC, datetime

    from structlog.testing import capture_logs

    from bus import registry_outage

    outage = registry_outage.RegistryOutage()
    monkeypatch.setattr(registry_outage, "OUTAGE", outage)
    app, ticks = _watched_app()
    now = [0.0]
    lag_watchdog.install(app, "kpis", stall_after_s=60, interval_s=10, stop=lambda reason: None, clock=lambda: now[0])

    async def tick_until(second: int) -> None:
        while now[0] < second:
            now[0] += 10
            await ticks[0]()

    with capture_logs() as lines:
        outage.since = 0.0  # the first look-up that met no answer
        await tick_until(200)  # three stall windows
        outage.since = None
        await tick_until(230)  # judged again
        app.rebalancing = True
        await tick_until(300)
        app.rebalancing = False
        await tick_until(310)
        outage.since = 310.0  # a second outage
        await tick_until(400)
    said = [line for line in lines if line.get("why") == lag_watchdog.WAITING_FOR_REGISTRY]
    assert len(said) == 2 and all(line["log_level"] == "info" for line in said)
    first = said[0]
    assert first["component"] == "kpis" and first["blind_s"] == 60 and first["partitions"] == {"contact.events": [0]}
    assert abs((datetime.now(UTC) - datetime.fromisoformat(first["since"])).total_seconds() - 60) < 5
    assert not {"tasks", "assigned", "fetching"} & set(first) and len(json.dumps(first)) < 600  # no dump
    assert "schema registry" in first["event"]
    blind = [line for line in lines if line["event"].startswith("lag watchdog has judged no partition")]
    assert [(line["why"], line["log_level"]) for line in blind] == [("rebalancing", "warning")]
    assert "tasks" in blind[0] and "assigned" in blind[0]  # a blind spell of unknown cause keeps its dump
    assert not [line for line in lines if line["log_level"] in ("warning", "error") and line is not blind[0]]
    assert app.consumer.sought == []


@pytest.mark.usefixtures("fresh_log")
async def test_a_paused_partition_that_consumes_nothing_is_reported_and_left_to_faust() -> None:
    from structlog.testing import capture_logs

    app, ticks = _watched_app()
    app.consumer._paused_partitions.add(app.consumer.tp)
    now = [0.0]
    lag_watchdog.install(app, "identity", stall_after_s=60, interval_s=10, stop=lambda reason: None,
                         clock=lambda: now[0])
    with capture_logs() as lines:
        for second in range(0, 200, 10):
            now[0] = float(second)
            await ticks[0]()
    held = [line for line in lines if line["event"].startswith("paused partition consumed nothing")]
    assert len(held) == 3 and held[0]["lag"] == 5 and held[0]["paused"] == {"contact.events": [0]}
    assert app.consumer.sought == []  # never sought: faust paused it and resumes it


@pytest.mark.usefixtures("fresh_log")
async def test_a_worker_holding_its_partitions_on_purpose_is_neither_reported_nor_sought_nor_stopped() -> None:
    """A one-worker processor that holds only part of its partitions pauses them and says why itself
    (processors/sole_worker.py): the watchdog judges nothing meanwhile, and judges again once the hold ends."""
    from structlog.testing import capture_logs

    app, ticks = _watched_app()
    app.consumer._paused_partitions.add(app.consumer.tp)
    held: list[str | None] = ["this worker holds 5 of the 10 partitions of its inputs"]
    lag_watchdog.hold_while(app, lambda: held[0])
    now, stops = [0.0], []
    lag_watchdog.install(app, "offers", stall_after_s=60, interval_s=10, stop=stops.append, clock=lambda: now[0])
    with capture_logs() as lines:
        for second in range(0, 300, 10):
            now[0] = float(second)
            await ticks[0]()
    assert lag_watchdog.held_on_purpose(app) == held[0]
    assert [line for line in lines if line["log_level"] in ("warning", "error")] == []
    assert app.consumer.sought == [] and stops == [] and lag_watchdog.stalled_on(app) == {}
    held[0] = None  # it holds every partition again: a stall is a stall
    app.consumer._paused_partitions.clear()
    with capture_logs() as lines:
        for second in range(300, 400, 10):
            now[0] = float(second)
            await ticks[0]()
    assert lag_watchdog.held_on_purpose(app) is None and app.consumer.sought


class _BusyConsumer(_Consumer):
    """Partition 0 waits (5 records, nothing moves); partition 1's committed offset moves at every check: a worker
    working through a backlog on partition 1 (tester30 F13). ``held``: partition 0 is paused inside aiokafka."""

    def __init__(self, others_move: bool, held: bool = False) -> None:
        super().__init__()
        self.busy, self.others_move = TopicPartition("business.events", 1), others_move
        self._committed_offset[self.busy] = 0
        client = SimpleNamespace(paused=lambda: {self.tp} if held else set())
        self._thread = SimpleNamespace(_ensure_consumer=lambda: client)

    def assignment(self) -> set[Any]:
        return {self.tp, self.busy}

    async def highwaters(self, *tps: Any) -> dict[Any, int]:
        if self.others_move:
            self._committed_offset[self.busy] += 100
        backlog = 10**6 if self.others_move else 0  # an idle worker: nothing waits on partition 1
        return {tp: 8 if tp == self.tp else self._committed_offset[tp] + backlog for tp in tps}

    async def position(self, tp: Any) -> int:
        return self._committed_offset[tp]


@pytest.mark.parametrize(("scenario", "windows", "stopped"), [
    ("others move", lag_watchdog.BEHIND_MAX_WINDOWS, False), ("nothing else moves", 10, True),
    ("held in aiokafka", 10, True), ("others move", 3, True)])
async def test_tester30_f13_a_partition_waiting_behind_the_workers_backlog_is_sought_again_not_stopped(
        scenario: str, windows: int, stopped: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """tester30 F13: after a broker restart the handoff tracker and the offer processor stopped (exit 75) with a
    partition "stalled after a seek" while the worker's other partitions moved by thousands of records: it waited
    behind the worker's own backlog. While another partition moves, it is sought again, for up to
    ``BEHIND_MAX_WINDOWS`` stall windows; a worker where nothing else moves, or a partition paused inside aiokafka
    (no seek reaches it), still stops at the second stall, and so does one still waiting after those windows."""
    monkeypatch.setattr(lag_watchdog, "BEHIND_MAX_WINDOWS", windows)
    app, ticks = _watched_app()
    app.consumer = _BusyConsumer(scenario != "nothing else moves", held=scenario == "held in aiokafka")
    stops: list[str] = []
    now = [0.0]
    lag_watchdog.install(app, "handoffs", stall_after_s=60, interval_s=10, stop=stops.append, clock=lambda: now[0])
    for second in range(0, 400, 10):
        now[0] = float(second)
        await ticks[0]()
    assert bool(stops) is stopped and len(app.consumer.sought) >= (1 if stopped else 5)  # sought once a minute
    if stopped:
        assert stops[0] == "contact.events[0] consumed nothing with 5 records waiting after a seek"
