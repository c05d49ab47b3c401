"""``bus.publish_retry``: which failures are tried again, how long the waits are, and how it gives up."""

from __future__ import annotations

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    LeaderNotAvailableError,
    MessageSizeTooLargeError,
    NotEnoughReplicasError,
    NotLeaderForPartitionError,
    ProducerClosed,
    RequestTimedOutError,
    TopicAuthorizationFailedError,
)

from bus.errors import PublishError, SerializationError
from bus.publish_retry import Backoff, Retry, retriable

TRANSIENT = [NotLeaderForPartitionError(), LeaderNotAvailableError(), RequestTimedOutError(), KafkaConnectionError(),
             NotEnoughReplicasError(), KafkaTimeoutError(), PublishError("no leader", retriable=True)]
LASTING = [MessageSizeTooLargeError(), TopicAuthorizationFailedError(), ProducerClosed(),
           PublishError("too large", retriable=False), SerializationError("bad"), ValueError("a bug")]


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: type(e).__name__)
def test_a_transient_kafka_error_is_tried_again(error: Exception) -> None:
    assert retriable(error)
    assert Backoff().delay_s(error, attempt=0, elapsed_s=0.0) is not None


@pytest.mark.parametrize("error", LASTING, ids=lambda e: type(e).__name__)
def test_an_error_retrying_cannot_mend_is_raised_at_once(error: Exception) -> None:
    assert not retriable(error)
    assert Backoff().delay_s(error, attempt=0, elapsed_s=0.0) is None


def test_waits_double_up_to_the_cap_with_at_most_half_taken_off() -> None:
    backoff = Backoff(first_s=0.2, max_s=5.0, give_up_after_s=1e9)
    error = NotLeaderForPartitionError()
    longest = [backoff.delay_s(error, attempt, 0.0, jitter=lambda: 0.999999) for attempt in range(8)]
    shortest = [backoff.delay_s(error, attempt, 0.0, jitter=lambda: 0.0) for attempt in range(8)]
    assert longest == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0], rel=1e-5)
    assert shortest == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.5, 2.5, 2.5])
    assert backoff.delay_s(error, 10_000, 0.0, jitter=lambda: 0.5) == pytest.approx(3.75)  # no overflow


def test_no_try_starts_after_the_give_up_time() -> None:
    backoff = Backoff(first_s=1.0, max_s=1.0, give_up_after_s=60.0)
    error = KafkaConnectionError()
    assert backoff.delay_s(error, 50, 58.9, jitter=lambda: 0.999) is not None
    assert backoff.delay_s(error, 50, 59.6, jitter=lambda: 0.999) is None
    assert backoff.delay_s(error, 50, 600.0, jitter=lambda: 0.0) is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_run_returns_once_a_try_succeeds() -> None:
    clock, failures = FakeClock(), [NotLeaderForPartitionError(), KafkaConnectionError()]

    async def operation() -> str:
        if failures:
            raise failures.pop(0)
        return "acknowledged"

    retry = Retry(Backoff(first_s=0.2, max_s=5.0, give_up_after_s=60.0), sleep=clock.sleep, clock=clock)
    assert await retry.run(operation, what="send") == "acknowledged"
    assert len(clock.slept) == 2 and 0.1 <= clock.slept[0] <= 0.2 and 0.2 <= clock.slept[1] <= 0.4


async def test_run_gives_up_with_the_last_error_after_the_give_up_time() -> None:
    clock, tries = FakeClock(), []

    async def operation() -> None:
        tries.append(clock.now)
        raise PublishError(f"no leader ({len(tries)})", retriable=True)

    retry = Retry(Backoff(first_s=1.0, max_s=4.0, give_up_after_s=30.0), sleep=clock.sleep, clock=clock)
    with pytest.raises(PublishError) as raised:
        await retry.run(operation, what="send")
    assert raised.value.retriable and f"({len(tries)})" in str(raised.value)  # the last one, as it was
    assert tries[-1] <= 30.0 and 5 < len(tries) < 30 and max(clock.slept) <= 4.0


async def test_run_raises_a_lasting_error_without_waiting() -> None:
    clock = FakeClock()

    async def operation() -> None:
        raise PublishError("too large", retriable=False)

    with pytest.raises(PublishError):
        await Retry(Backoff(), sleep=clock.sleep, clock=clock).run(operation, what="send")
    assert clock.slept == []


async def test_the_retry_warning_blames_the_registry_when_the_registry_did_not_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An import on ``omnibus stack`` whose registry was down logged "Kafka refused an operation" while it waited
    for the registry: the warning names the one that did not answer."""
    from structlog.testing import capture_logs

    from bus import publish_retry
    from bus.errors import OmnibusError, SchemaRegistryError
    from bus.logging import get_logger

    class Unavailable(OmnibusError):  # the adapter's outage error (adapters.base.errors), which bus does not import
        retriable = True

    monkeypatch.setattr(publish_retry, "log", get_logger(publish_retry.__name__))  # first used in capture_logs
    causes: list[OmnibusError] = [SchemaRegistryError("unreachable", retriable=True),
                                  PublishError("no leader", retriable=True)]
    for cause, blamed in zip(causes, ("the schema registry did not answer", "Kafka refused"), strict=True):
        clock, failures = FakeClock(), [cause]

        async def operation(failures: list[OmnibusError] = failures) -> str:
            if failures:
                raise Unavailable("not acknowledged") from failures.pop()
            return "acknowledged"

        with capture_logs() as lines:
            await Retry(Backoff(), sleep=clock.sleep, clock=clock).run(operation, what="import")
        assert [line["event"].startswith(blamed) for line in lines] == [True], lines
    with capture_logs() as lines:  # the registry's own error, not wrapped
        registry_down = [SchemaRegistryError("unreachable", retriable=True)]

        async def lookup() -> None:
            if registry_down:
                raise registry_down.pop()

        await Retry(Backoff(), sleep=FakeClock().sleep, clock=FakeClock()).run(lookup, what="register")
    assert lines[0]["event"].startswith("the schema registry did not answer"), lines
