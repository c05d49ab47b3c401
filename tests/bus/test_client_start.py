"""faust's producer and consumer start through a broker outage (before: ``KafkaConnectionError: Unable to
bootstrap`` from their first start stopped the worker with status 1)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, UnsupportedVersionError

from bus import client_start
from bus.app import create_app
from bus.client_start import consumer_on_start, producer_on_start, start_client
from bus.publish_retry import Backoff, Retry, process_outage_retry
from bus.stack.kafka import KafkaBroker
from tests.bus.test_publish_retry import FakeClock as Clock
from tests.support.ports import reserved_port
from tests.support.settings import isolated_settings


class FakeClient:
    """An aiokafka client whose start fails with ``errors`` (one per client made), then succeeds."""

    made: list[FakeClient] = []

    def __init__(self, errors: list[BaseException]) -> None:
        self.error = errors.pop(0) if errors else None
        self.started = self.stopped = False
        FakeClient.made.append(self)

    async def start(self) -> None:
        if self.error is not None:
            raise self.error
        self.started = True

    async def stop(self) -> None:
        self.stopped = True


@pytest.fixture(autouse=True)
def no_clients() -> None:
    FakeClient.made = []


def retry(clock: Clock, give_up_after_s: float = 600.0) -> Retry:
    return Retry(Backoff(give_up_after_s=give_up_after_s), sleep=clock.sleep, clock=clock)


async def test_a_start_that_fails_for_a_transient_reason_is_tried_again_with_a_new_client() -> None:
    errors: list[BaseException] = [KafkaConnectionError("Unable to bootstrap"), KafkaConnectionError("again")]
    kept: list[FakeClient] = []
    client = await start_client(lambda: FakeClient(errors), retry(Clock()), what="faust producer start",
                                started=kept.append)
    assert client is FakeClient.made[-1] and client.started and not client.stopped
    assert len(FakeClient.made) == 3 and [c.stopped for c in FakeClient.made[:2]] == [True, True]
    assert kept == FakeClient.made  # faust keeps each client it starts


async def test_a_start_refused_for_good_is_raised_at_once() -> None:
    with pytest.raises(UnsupportedVersionError):
        await start_client(lambda: FakeClient([UnsupportedVersionError()]), retry(Clock()), what="start")
    assert len(FakeClient.made) == 1 and FakeClient.made[0].stopped


async def test_an_outage_longer_than_give_up_after_s_raises_its_last_error() -> None:
    clock = Clock()
    errors: list[BaseException] = [KafkaConnectionError(f"try {n}") for n in range(1000)]
    with pytest.raises(KafkaConnectionError):
        await start_client(lambda: FakeClient(errors), retry(clock, give_up_after_s=60.0), what="start")
    assert clock.now <= 60.0 and len(FakeClient.made) > 5 and all(c.stopped for c in FakeClient.made)


async def test_faust_producer_start_keeps_the_started_client_and_its_runtime_buffer() -> None:
    errors: list[BaseException] = [KafkaConnectionError("Unable to bootstrap")]
    dependencies: list[Any] = []
    beacon: list[Any] = []

    async def add_runtime_dependency(service: Any) -> None:
        dependencies.append(service)

    producer = SimpleNamespace(buffer="buffer", add_runtime_dependency=add_runtime_dependency,
                               _new_producer=lambda: FakeClient(errors), beacon=SimpleNamespace(add=beacon.append))
    client_start.install(give_up_after_s=30.0)
    assert process_outage_retry().backoff.give_up_after_s == 30.0
    await producer_on_start(producer)
    assert dependencies == ["buffer"] and len(FakeClient.made) == 2
    assert producer._producer is FakeClient.made[1] and beacon == [FakeClient.made[1]] and FakeClient.made[1].started
    client_start.install()  # the default again for other tests


async def test_faust_consumer_start_keeps_the_started_client() -> None:
    errors: list[BaseException] = [KafkaConnectionError("Unable to bootstrap")]
    loops: list[Any] = []

    def create_consumer(loop: Any) -> FakeClient:
        loops.append(loop)
        return FakeClient(errors)

    thread = SimpleNamespace(thread_loop="thread loop", _create_consumer=create_consumer)
    await consumer_on_start(thread)
    assert loops == ["thread loop"] * 2 and thread._consumer is FakeClient.made[1] and FakeClient.made[1].started
    assert isinstance(thread.time_started, float)


def test_install_patches_faust_producer_and_consumer() -> None:
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Producer

    client_start.install()
    assert Producer.on_start is producer_on_start and AIOKafkaConsumerThread.on_start is consumer_on_start


@pytest.mark.kafka
@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_a_worker_producer_started_before_its_broker_is_up_starts_once_it_is(tmp_path: Path) -> None:
    """The sample, on a real broker: faust's producer of a worker starts while nothing listens on the broker's port
    (the broker lost right after ``probe_cluster``), keeps trying, and is started once the broker is up."""
    with reserved_port() as port, reserved_port() as controller:  # held: the client knows the port before it listens
        await _start_before_the_broker(KafkaBroker(tmp_path / "broker", port=port, controller_port=controller), port)


async def _start_before_the_broker(broker: KafkaBroker, port: int) -> None:
    settings = isolated_settings(f"127.0.0.1:{port}")
    app = create_app("client-start", settings)
    start = asyncio.ensure_future(app.producer.start())
    try:
        await asyncio.sleep(2.0)
        assert not start.done(), start.exception()  # failing to bootstrap, and trying again
        await asyncio.to_thread(broker.start)
        await asyncio.wait_for(start, 120)
        metadata = await app.producer._ensure_producer().client.fetch_all_metadata()  # the started client answers
        assert metadata.brokers()
    finally:
        start.cancel()
        await app.producer.stop()
        await asyncio.to_thread(broker.stop)
