import pytest
from aiokafka.partitioner import murmur2
from faust.types import TP

from bus.clock import SystemClock
from bus.errors import PublishError, RawRecord
from bus.producer import LazyProducer
from bus.ticks import BadTick, Tick, Ticker, decode_tick, encode_tick, key_for_partition, read_tick, tick_records


@pytest.mark.parametrize("partitions", [1, 3, 12, 50])
def test_each_partition_gets_a_key_the_default_partitioner_sends_there(partitions: int) -> None:
    for partition in range(partitions):
        key = key_for_partition(partition, partitions)
        assert (murmur2(key) & 0x7FFFFFFF) % partitions == partition


def test_ticks_round_trip() -> None:
    records = tick_records(123, {2, 0}, 3)
    assert [k for k, _ in records] == [key_for_partition(0, 3), key_for_partition(2, 3)]
    assert decode_tick(RawRecord(value=records[0][1])) == 123 and encode_tick(5) == b'{"now_us": 5}'


@pytest.mark.parametrize("value", [None, b"", b"not json", b"{}", b'{"now_us": "soon"}', b"[1]"])
def test_bad_ticks_are_refused(value: bytes | None) -> None:
    with pytest.raises(BadTick):
        decode_tick(RawRecord(value=value))


def test_a_tick_far_ahead_of_the_clock_is_refused_as_implausible() -> None:
    """#13 case 5: ``{"now_us": 10**30}`` must not fire every breach at once."""
    now_us = 1_700_000_000_000_000
    assert decode_tick(RawRecord(value=encode_tick(now_us)), not_after_us=now_us + 300_000_000) == now_us
    with pytest.raises(BadTick, match="implausible"):
        decode_tick(RawRecord(value=encode_tick(10**30)), not_after_us=now_us + 300_000_000)


def test_a_tick_with_a_header_key_that_is_not_utf8_is_refused() -> None:
    key = b"\xff\xfe".decode("utf-8", "surrogateescape")  # as bus.record_headers hands it over
    with pytest.raises(BadTick, match="header key"):
        decode_tick(RawRecord(value=encode_tick(5), headers=((key, b"v"),)))


def test_a_tick_carries_the_inputs_end_offsets() -> None:
    records = tick_records(123, {0, 1}, 2, {0: {"events": 7}})
    assert read_tick(RawRecord(value=records[0][1])) == Tick(123, {"events": 7})
    assert read_tick(RawRecord(value=records[1][1])) == Tick(123, {})  # no ends known: waits for nothing
    assert decode_tick(RawRecord(value=records[0][1])) == 123


@pytest.mark.parametrize("value", [b'{"now_us": 1, "ends": [1]}', b'{"now_us": 1, "ends": {"t": -1}}',
                                   b'{"now_us": 1, "ends": {"t": "3"}}', b'{"now_us": true}'])
def test_ticks_with_bad_ends_are_refused(value: bytes) -> None:
    with pytest.raises(BadTick):
        read_tick(RawRecord(value=value))


class _StoppingWorker:
    """What ``Ticker.publish_round`` uses of a faust app: its stop flag and its consumer's assignment and ends."""

    def __init__(self, topic: str, partitions: int) -> None:
        self.should_stop = False
        self.consumer = self
        self._assigned = {TP(topic, p) for p in range(partitions)}

    def assignment(self) -> set[TP]:
        return self._assigned

    async def highwaters(self, *tps: TP) -> dict[TP, int]:
        return {tp: 0 for tp in tps}


class _ClosingProducer:
    """Sends ``fails_after`` ticks, then stops the worker and fails as aiokafka does once its producer is closed."""

    def __init__(self, worker: _StoppingWorker, fails_after: int) -> None:
        self.worker, self.fails_after, self.sent = worker, fails_after, 0

    async def start(self) -> None:
        pass

    async def send_raw(self, topic: str, key: bytes, value: bytes) -> None:
        if self.sent == self.fails_after:
            self.worker.should_stop = True
            raise PublishError("Kafka did not acknowledge: ProducerClosed()", retriable=False)
        self.sent += 1


def _ticker(worker: _StoppingWorker) -> Ticker:
    return Ticker(app=worker, topic="ticks", partition_count=3, clock=SystemClock(), tolerance_s=1.0)  # type: ignore[arg-type]


async def test_a_tick_round_that_meets_the_workers_stop_ends_quietly() -> None:
    """A fresh tester: every demo ended with ``Crashed reason=PublishError('Kafka did not acknowledge:
    ProducerClosed()')`` and a traceback: the tick timer still ran after the worker had closed its producer."""
    worker = _StoppingWorker("ticks", 3)
    closing = _ClosingProducer(worker, fails_after=1)
    lazy = LazyProducer(lambda: closing)  # type: ignore[arg-type, return-value]
    assert await _ticker(worker).publish_round(lazy) == 1  # no error: the worker was stopping
    assert await _ticker(worker).publish_round(lazy) == 0  # nor a new producer once it stopped
    assert closing.sent == 1


async def test_a_tick_that_kafka_refuses_while_the_worker_runs_still_raises() -> None:
    worker = _StoppingWorker("ticks", 3)

    class Refusing(_ClosingProducer):
        async def send_raw(self, topic: str, key: bytes, value: bytes) -> None:
            raise PublishError("Kafka did not acknowledge: MessageSizeTooLargeError", retriable=False)

    with pytest.raises(PublishError):
        await _ticker(worker).publish_round(LazyProducer(lambda: Refusing(worker, 0)))  # type: ignore[arg-type, return-value]
