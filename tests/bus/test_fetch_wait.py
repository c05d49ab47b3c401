"""A worker's consumer waits at most ``bus.fetch_wait.FETCH_MAX_WAIT_MS`` per fetch, not faust's 1.5 s."""

from __future__ import annotations

from bus import fetch_wait
from bus.app import create_app
from bus.config import OmnibusSettings


async def test_a_worker_consumer_long_polls_at_most_kafkas_default() -> None:
    app = create_app("fetch-wait-test", OmnibusSettings())
    consumer = app.consumer._thread._create_worker_consumer(app.transport)  # noqa: SLF001 - what start() builds
    assert consumer._fetch_max_wait_ms == fetch_wait.FETCH_MAX_WAIT_MS == 500  # noqa: SLF001 - faust writes 1500


async def test_installing_twice_wraps_once() -> None:
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    create_app("fetch-wait-test", OmnibusSettings())
    before = AIOKafkaConsumerThread._create_worker_consumer  # noqa: SLF001
    fetch_wait.install()
    assert AIOKafkaConsumerThread._create_worker_consumer is before  # noqa: SLF001
