"""Taking records from faust's fetch in bulk: what is taken, and what an acknowledgement lets faust commit."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from aiokafka.structs import ConsumerRecord
from faust.types import TP

from bus import consume_bulk


def record(tp: TP, offset: int) -> ConsumerRecord:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", b"v", None, 1, 1, ())


class FakeConsumer:
    """The attributes of faust's ``Consumer`` that ``consume_bulk`` reads and writes."""

    def __init__(self) -> None:
        self._read_offset: defaultdict[TP, int | None] = defaultdict(lambda: None)
        self._buffered_partitions: set[TP] = set()
        self._committed_offset: defaultdict[TP, int | None] = defaultdict(lambda: None)
        self._acked_index: defaultdict[TP, set[int]] = defaultdict(set)
        self._acked: defaultdict[TP, list[int]] = defaultdict(list)
        self._n_acked = 0
        self._waiting_for_ack = None
        self.ends: dict[TP, int] = {}
        self.app = SimpleNamespace(monitor=SimpleNamespace(track_tp_end_offset=self.ends.__setitem__,
                                                           stream_inbound_time={}), consumer=self)

    def highwater(self, tp: TP) -> int:
        return 100


INTAKE, OTHER, GRAPH = TP("contacts", 0), TP("contacts", 1), TP("graph", 0)


def test_only_the_given_topics_active_partitions_are_taken_and_the_rest_is_left_to_faust() -> None:
    consumer = FakeConsumer()
    fetched: dict[Any, list[ConsumerRecord]] = {
        INTAKE: [record(INTAKE, 5), record(INTAKE, 6)], OTHER: [record(OTHER, 1)], GRAPH: [record(GRAPH, 9)]}
    taken = consume_bulk.split(consumer, fetched, {INTAKE, GRAPH}, frozenset({"contacts"}))
    assert {tp: [r.offset for r in records] for tp, records in taken.items()} == {INTAKE: [5, 6]}
    assert set(fetched) == {OTHER, GRAPH}  # OTHER is paused (not active): faust skips it as it always did
    assert consumer._read_offset[INTAKE] == 6 and consumer.ends == {INTAKE: 100}


def test_records_below_the_read_offset_were_delivered_before_and_are_not_taken_again() -> None:
    consumer = FakeConsumer()
    consumer._read_offset[INTAKE] = 6
    fetched: dict[Any, list[ConsumerRecord]] = {INTAKE: [record(INTAKE, 5), record(INTAKE, 6), record(INTAKE, 7)]}
    taken = consume_bulk.split(consumer, fetched, None, frozenset({"contacts"}))
    assert [r.offset for r in taken[INTAKE]] == [6, 7] and fetched == {}


def test_an_acknowledged_batch_is_recorded_once_per_offset_as_faust_acks_a_message() -> None:
    consumer = FakeConsumer()
    consumer._committed_offset[INTAKE] = 5
    taken = {INTAKE: [record(INTAKE, 4), record(INTAKE, 5), record(INTAKE, 6)]}
    consume_bulk.acknowledge(consumer.app, taken)
    consume_bulk.acknowledge(consumer.app, taken)  # twice: nothing more
    assert consumer._acked[INTAKE] == [5, 6] and consumer._acked_index[INTAKE] == {5, 6}
    assert consumer._n_acked == 2  # offset 4 is below the committed offset: faust would ignore it too


async def test_the_patched_fetch_hands_the_taken_records_to_the_app_handler_and_returns_the_rest() -> None:
    from faust.transport.consumer import Consumer

    consume_bulk.install()
    handed: list[dict[Any, Any]] = []

    async def handler(taken: consume_bulk.Taken) -> None:
        handed.append(dict(taken))

    consumer = FakeConsumer()
    consumer.flow_active, consumer.should_stop = True, False  # type: ignore[attr-defined]
    consume_bulk.take(consumer.app, ["contacts"], handler)
    fetched = {INTAKE: [record(INTAKE, 0)], GRAPH: [record(GRAPH, 0)]}
    original = Consumer._wait_next_records.__wrapped__  # type: ignore[attr-defined]

    async def fetch(self: Any, timeout: float) -> Any:
        return dict(fetched), None

    Consumer._wait_next_records.__wrapped__ = fetch  # type: ignore[attr-defined]
    try:
        records, _ = await Consumer._wait_next_records(consumer, 1.0)  # type: ignore[arg-type]
    finally:
        Consumer._wait_next_records.__wrapped__ = original  # type: ignore[attr-defined]
    assert set(records) == {GRAPH} and [set(batch) for batch in handed] == [{INTAKE}]


def test_two_stages_of_one_app_take_their_own_topics_and_a_topic_is_taken_once() -> None:
    from bus.errors import ConfigError

    app = SimpleNamespace()

    async def intake(taken: Any) -> None: ...

    async def graph(taken: Any) -> None: ...

    consume_bulk.take(app, ["contacts"], intake)
    consume_bulk.take(app, ["graph"], graph)
    assert [(take.topics, take.handler) for take in app._omnibus_bulk_take] == [
        (frozenset({"contacts"}), intake), (frozenset({"graph"}), graph)]
    try:
        consume_bulk.take(app, ["graph", "other"], intake)
    except ConfigError as error:
        assert "graph" in str(error)
    else:
        raise AssertionError("a topic taken twice must be refused")


def _faust_stream_check(monitor: Any, tp: TP, now: float) -> list[str]:
    """What faust's consumer thread (``AIOKafkaConsumerThread.verify_event_path``, run by the thread every few
    seconds) logs at ERROR for ``tp``: 400 s after the worker started, with records past its fetch position."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    errors: list[str] = []
    position = SimpleNamespace(highwater=120, position=101)
    thread = SimpleNamespace(
        _verify_aiokafka_event_path=lambda now, tp: False,  # aiokafka fetches
        consumer=SimpleNamespace(app=SimpleNamespace(monitor=monitor, topics=SimpleNamespace(
            acks_enabled_for=lambda topic: True))),
        time_started=now - 400.0, tp_stream_timeout_secs=300.0, tp_commit_timeout_secs=300.0,
        tp_last_committed_at={tp: now},
        _ensure_consumer=lambda: SimpleNamespace(_fetcher=SimpleNamespace(_subscriptions=SimpleNamespace(
            subscription=SimpleNamespace(assignment=SimpleNamespace(state_value=lambda aiotp: position))))),
        _log_slow_processing_stream=lambda msg, *args: errors.append(msg % args),
        _log_slow_processing_commit=lambda msg, *args: errors.append(msg % args),
    )
    AIOKafkaConsumerThread.verify_event_path(thread, now, tp)  # type: ignore[arg-type]
    return errors


def test_a_partition_taken_in_bulk_is_not_reported_by_faust_as_a_stream_that_never_started() -> None:
    """tester15 F9: identity logged "Stream has not started processing TP(topic='omnibus.identity.graph.v1',
    partition=11) (started 7.19 minutes ago) ... 3) The agent processing the stream is hanging" while it worked:
    faust's check reads the stamps its streams leave, and the records taken in bulk never reach a stream."""
    from time import monotonic

    from faust.sensors.monitor import Monitor

    consumer, monitor = FakeConsumer(), Monitor()
    consumer.app = SimpleNamespace(monitor=monitor, consumer=consumer)
    graph = TP("omnibus.identity.graph.v1", 11)
    assert any("has not started processing" in line for line in _faust_stream_check(monitor, graph, monotonic()))
    consume_bulk.split(consumer, {graph: [record(graph, 100)]}, None, frozenset({graph.topic}))
    assert _faust_stream_check(monitor, graph, monotonic()) == []
    # a stage that stopped taking records (hanging) is still reported, once the stamp is older than the timeout
    assert any("Stream stopped processing" in line for line in _faust_stream_check(monitor, graph, monotonic() + 301))
