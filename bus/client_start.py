"""faust's own Kafka clients ride out a broker outage at their start, as the project's own clients do.

A worker's start-up talks to Kafka through several clients. The project's own are tried again with the producer's
backoff while the error is retriable (``bus.publish_retry``): ``EventProducer.start``, the followers' start and end
offsets (``bus.follow``), identity's graph partition count, faust's topic declarations (``bus.declared_topics``);
the restore's steps restart the restore (``bus.recovery_timeout``). faust's producer and consumer were not:
``Producer.on_start`` and ``AIOKafkaConsumerThread.on_start`` (faust-streaming 0.15, ``transport/drivers/aiokafka``)
start an aiokafka client once, and a broker lost between ``bus.app.probe_cluster`` (which found it a moment before)
and those starts (``KafkaConnectionError: Unable to bootstrap``) crashed the worker with status 1.

``install`` replaces both with faust's own code, the client's start going through ``start_client``: a client whose
start failed is closed and a new one started, with the producer's backoff, while the error is retriable, for up to
``producer.give_up_after_s`` seconds; then the last error is raised (the worker stops, as before). A worker that
waits here makes no start-up progress: ``bus.startup_watchdog`` ends it after ``startup.stall_after_s``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from bus.publish_retry import Backoff, Retry, process_outage_retry, set_process_give_up

Client = TypeVar("Client")


async def start_client(new: Callable[[], Client], retry: Retry, *, what: str,
                       started: Callable[[Client], None] = lambda client: None) -> Client:
    """A started client: ``new()`` then its ``start()``, again with a new one as ``retry`` decides while the start
    fails (each failed client stopped). ``started(client)`` is called before each start (faust keeps the client
    being started). Raises the last start error when ``retry`` gives up."""

    async def start_once() -> Client:
        client = new()
        started(client)
        try:
            await client.start()  # type: ignore[attr-defined]
        except BaseException:
            await client.stop()  # type: ignore[attr-defined] # no "Unclosed AIOKafka..." at exit
            raise
        return client

    return await retry.run(start_once, what=what)


async def producer_on_start(self: Any) -> None:
    """faust's aiokafka ``Producer.on_start``, its client started through ``start_client``."""
    from faust.transport.producer import Producer as BaseProducer

    await BaseProducer.on_start(self)

    def keep(producer: Any) -> None:
        self._producer = producer

    producer = await start_client(self._new_producer, process_outage_retry(), what="faust producer start", started=keep)
    self.beacon.add(producer)


async def consumer_on_start(self: Any) -> None:
    """faust's ``AIOKafkaConsumerThread.on_start``, its client started through ``start_client``."""
    def keep(consumer: Any) -> None:
        self._consumer = consumer

    self.time_started = time.monotonic()
    await start_client(lambda: self._create_consumer(loop=self.thread_loop), process_outage_retry(),
                       what="faust consumer start", started=keep)


def install(give_up_after_s: float = Backoff().give_up_after_s) -> None:
    """Patch faust's aiokafka producer and consumer starts once per process (see the module)."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Producer

    set_process_give_up(give_up_after_s)
    Producer.on_start = producer_on_start  # type: ignore[method-assign]
    AIOKafkaConsumerThread.on_start = consumer_on_start  # type: ignore[method-assign]
